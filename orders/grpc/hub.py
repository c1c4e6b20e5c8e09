"""One Redis subscriber per server process, fanned out to the streams and to PlaceOrder's waiters.

The subscriber thread never blocks on a consumer: each stream owns a bounded queue, and a stream that
lets its queue fill is ended with RESOURCE_EXHAUSTED (the others keep flowing). Streams served on the
server's event loop (StreamPrices) get an AsyncSubscription: one hand-over to the loop per message for all
of them, and the message is wrapped once (Published) so it is encoded for the wire once, not per stream. If the Redis connection
drops, order streams are ended with UNAVAILABLE so their clients resume with since_sequence and lose
nothing; price streams simply continue after the reconnect."""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterable

import redis

from infra import pubsub
from infra.cpu_stages import stage
from infra.errors import RateLimited, ServiceError, Unavailable

log = logging.getLogger("oms.grpc.hub")

_CLOSED = object()
NUDGE_SECONDS = 0.5  # how often streams on an event loop wake up without an update (see AsyncSubscription)
RECENT_ORDERS = 10_000


class Subscription:
    """One stream's view of the hub: a bounded queue of decoded messages it accepted."""

    caller: str | None = None  # whose stream (a token's digest), for the per-caller cap; None = trusted

    def __init__(self, hub: Hub, kind: str, accept: Callable[[tuple[str, ...], dict], bool], maxsize: int):
        self.hub, self.kind, self.accept = hub, kind, accept
        self.queue: queue.Queue = queue.Queue(maxsize)
        self.error: ServiceError | None = None

    def offer(self, item: dict) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.end(RateLimited(f"stream ended: the client read too slowly and {self.queue.maxsize} updates "
                                 "queued up; reconnect (order streams: resume with since_sequence)"))

    def end(self, error: ServiceError) -> None:
        """Called by the hub: the consumer raises `error` at its next read, before any queued item."""
        if self.error is None:
            self.error = error
        self.hub.unsubscribe(self)
        try:
            self.queue.put_nowait(_CLOSED)
        except queue.Full:
            pass  # the consumer checks `error` before every item

    def next(self, timeout: float) -> dict | None:
        """The next message, None after `timeout` seconds without one; raises the reason the hub ended it."""
        if self.error:
            raise self.error
        try:
            item = self.queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _CLOSED or self.error:
            raise self.error
        return item

    def close(self) -> None:
        """Called by the stream when it is done (client gone or finished)."""
        self.hub.unsubscribe(self)


class Published:
    """One published message as every stream on the loop sees it; `wire(encode)` encodes it once for all."""

    __slots__ = ("message", "_wire")

    def __init__(self, message: dict):
        self.message, self._wire = message, None

    def wire(self, encode: Callable[[dict], bytes]) -> bytes:
        if self._wire is None:
            self._wire = encode(self.message)
        return self._wire


class AsyncSubscription(Subscription):
    """A Subscription read by a coroutine on `loop`: `await next()` returns Published items, or None when the
    hub nudges it (every NUDGE_SECONDS, so the stream can check on its caller without a timer per read).
    offer() and nudge() run on the loop (the hub hands each message over once for all of the loop's streams);
    end() may be called from any thread."""

    def __init__(self, hub: Hub, kind: str, accept, maxsize: int, loop: asyncio.AbstractEventLoop):
        self.hub, self.kind, self.accept, self.loop, self.maxsize = hub, kind, accept, loop, maxsize
        self.items: deque[Published] = deque()
        self.waiter: asyncio.Future | None = None
        self.error: ServiceError | None = None

    def offer(self, item: Published) -> None:
        if len(self.items) >= self.maxsize:
            self.end(RateLimited(f"stream ended: the client read too slowly and {self.maxsize} updates "
                                 "queued up; reconnect"))
            return
        self.items.append(item)
        self.nudge()

    def nudge(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def end(self, error: ServiceError) -> None:
        if self.error is None:
            self.error = error
        self.hub.unsubscribe(self)
        try:
            self.loop.call_soon_threadsafe(self.nudge)
        except RuntimeError:
            pass  # the loop is closed: nobody is reading

    async def next(self) -> Published | None:
        if not self.items and not self.error:
            self.waiter = self.loop.create_future()
            await self.waiter
        if self.error:
            raise self.error
        return self.items.popleft() if self.items else None


class OrderWatch:
    """PlaceOrder/CancelOrder wait on this until a published update for the order satisfies `done`;
    `order` is then that update's order (the JSON shape of orders.publish)."""

    def __init__(self, hub: Hub, order_id: str, done: Callable[[dict], bool]):
        self.hub, self.order_id, self.done = hub, order_id, done
        self.event = threading.Event()
        self.order: dict | None = None

    def offer(self, order: dict) -> None:
        if not self.event.is_set() and self.done(order):
            self.order = order
            self.event.set()

    def wait(self, timeout: float) -> bool:
        """True once answered; False after `timeout`, or at once when the hub releases its waits (shutting down)."""
        return self.event.wait(max(0.0, timeout)) and self.order is not None

    def __enter__(self) -> OrderWatch:
        with self.hub.lock:
            self.hub.watches.setdefault(self.order_id, []).append(self)
            if self.hub.waits_released:
                self.event.set()
            recent = self.hub.recent_orders.get(self.order_id)
        if recent is not None:  # the answer may have arrived before anyone listened
            self.offer(recent)
        return self

    def __exit__(self, *exc) -> None:
        with self.hub.lock:
            watches = self.hub.watches.get(self.order_id, [])
            if self in watches:
                watches.remove(self)
            if not watches:
                self.hub.watches.pop(self.order_id, None)


STREAM_KINDS = {"orders": "order streams", "prices": "price streams"}


class Hub:
    """`max_streams` caps order streams (each holds a worker thread), `max_price_streams` price streams (on the
    event loop, so counted apart); `per_caller` caps each kind per caller (kind -> streams, 0 = no cap)."""

    def __init__(self, *, queue_size: int, max_streams: int, max_price_streams: int | None = None,
                 per_caller: dict[str, int] | None = None, client_factory: Callable[[], redis.Redis] = pubsub.client):
        self.queue_size, self.max_streams = queue_size, max_streams
        self.limits = {"orders": max_streams, "prices": max_price_streams or max_streams}
        self.per_caller = per_caller or {}
        self.client_factory = client_factory
        self.lock = threading.Lock()
        self.subscriptions: list[Subscription] = []
        self.watches: dict[str, list[OrderWatch]] = {}
        self.waits_released = False
        # The newest published state of recently changed orders, for a watch that starts after its answer came.
        self.recent_orders: OrderedDict[str, dict] = OrderedDict()
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._nudged_at = 0.0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, wait: float = 5.0) -> None:
        self._thread = threading.Thread(target=self._run, name="oms-grpc-hub", daemon=True)
        self._thread.start()
        if not self.connected.wait(wait):
            log.warning("Redis pub/sub not connected yet; streams start once it is")

    def end_streams(self, error: ServiceError) -> None:
        for sub in self._snapshot():
            sub.end(error)

    def release_waits(self) -> None:
        """Shutting down: calls waiting on an order (PlaceOrder, CancelOrder) stop waiting, now and from now on,
        and answer with what the ledger holds."""
        with self.lock:
            self.waits_released = True
            for watches in self.watches.values():
                for watch in watches:
                    watch.event.set()

    def stop(self) -> None:
        self._stopping.set()
        self.end_streams(Unavailable("server shutting down; reconnect"))
        if self._thread:
            self._thread.join(timeout=5)

    # -- registration ----------------------------------------------------------------------------
    def subscribe(self, kind: str, accept: Callable[[tuple[str, ...], dict], bool],
                  loop: asyncio.AbstractEventLoop | None = None, caller: str | None = None) -> Subscription:
        """A queue read by a thread, or with `loop`, by a coroutine on that loop. Refused (RateLimited) past the
        server's cap for this kind of stream, or past the caller's."""
        if self._stopping.is_set():
            raise Unavailable("server shutting down; reconnect")
        if loop is None:
            sub = Subscription(self, kind, accept, self.queue_size)
        else:
            sub = AsyncSubscription(self, kind, accept, self.queue_size, loop)
        sub.caller = caller
        label, limit, cap = STREAM_KINDS[kind], self.limits[kind], self.per_caller.get(kind, 0)
        with self.lock:
            same_kind = [s for s in self.subscriptions if s.kind == kind]
            if len(same_kind) >= limit:
                raise RateLimited(f"too many open streams on this server ({limit} {label} at most); retry later")
            if caller is not None and cap and sum(s.caller == caller for s in same_kind) >= cap:
                raise RateLimited(f"this API token already has {cap} open {label} (the limit per token); "
                                  "close one or retry later")
            self.subscriptions.append(sub)
        return sub

    def subscribe_orders(self, accounts: Iterable[str] | None, caller: str | None = None) -> Subscription:
        """accounts: names to deliver, None = every account (trusted caller)."""
        names = None if accounts is None else frozenset(accounts)
        return self.subscribe("orders", lambda key, _msg: names is None or key[0] in names, caller=caller)

    def subscribe_prices(self, symbols: Iterable[str], exchange: str = "", market: str = "",
                         loop: asyncio.AbstractEventLoop | None = None, caller: str | None = None) -> Subscription:
        wanted = frozenset(symbols)

        def accept(key, _msg):
            ex, mk, sym = key
            return (not wanted or sym in wanted) and (not exchange or ex == exchange) and (not market or mk == market)

        return self.subscribe("prices", accept, loop, caller)

    def unsubscribe(self, sub: Subscription) -> None:
        with self.lock:
            if sub in self.subscriptions:
                self.subscriptions.remove(sub)

    def watch_order(self, order_id: str, done: Callable[[dict], bool]) -> OrderWatch:
        return OrderWatch(self, order_id, done)

    def _snapshot(self) -> list[Subscription]:
        with self.lock:
            return list(self.subscriptions)

    # -- the subscriber thread --------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            ps = None
            try:
                patterns = (f"{pubsub.ORDER_CHANNEL_PREFIX}*", f"{pubsub.PRICE_CHANNEL_PREFIX}*")
                ps = self.client_factory().pubsub()
                ps.psubscribe(*patterns)
                confirmations = 0
                while not self._stopping.is_set():
                    self._nudge_when_due()
                    msg = ps.get_message(timeout=0.1)  # short, so stop() is prompt
                    if msg is None:
                        continue
                    if msg["type"] == "psubscribe":
                        confirmations += 1
                        if confirmations > len(patterns):
                            # The client library reconnected on its own: whatever was published meanwhile is lost.
                            raise redis.ConnectionError("pub/sub connection was re-established")
                        self.connected.set()
                        backoff = 0.2
                    elif msg["type"] == "pmessage":
                        with stage("hub"):
                            self._dispatch(msg["channel"].decode(), msg["data"])
            except redis.RedisError as exc:
                if self._stopping.is_set():
                    break
                log.warning("Redis pub/sub lost (%s); reconnecting in %.1fs", exc.__class__.__name__, backoff)
                if self.connected.is_set():
                    self.connected.clear()
                    for sub in self._snapshot():
                        if sub.kind == "orders":
                            sub.end(Unavailable("order updates interrupted; reconnect"))
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                if ps is not None:
                    try:
                        ps.close()
                    except redis.RedisError:
                        pass
        self.connected.clear()

    def _nudge_when_due(self) -> None:
        now = time.monotonic()
        if now - self._nudged_at < NUDGE_SECONDS:
            return
        self._nudged_at = now
        on_loops: dict[asyncio.AbstractEventLoop, list[AsyncSubscription]] = defaultdict(list)
        for sub in self._snapshot():
            if isinstance(sub, AsyncSubscription):
                on_loops[sub.loop].append(sub)
        for loop, subs in on_loops.items():
            try:
                loop.call_soon_threadsafe(_nudge_all, subs)
            except RuntimeError:
                pass  # that loop is closed: its server has stopped

    def _remember(self, order: dict) -> None:
        """Keep the newest version of each of the last RECENT_ORDERS orders (called under the lock)."""
        order_id = order.get("order_id")
        if not order_id:
            return
        known = self.recent_orders.get(order_id)
        if known is None or int(known.get("version") or 0) <= int(order.get("version") or 0):
            self.recent_orders[order_id] = order
        self.recent_orders.move_to_end(order_id)
        if len(self.recent_orders) > RECENT_ORDERS:
            self.recent_orders.popitem(last=False)

    def _dispatch(self, channel: str, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("ignored a malformed message on %s", channel)
            return
        if channel.startswith(pubsub.ORDER_CHANNEL_PREFIX):
            kind, key = "orders", (channel[len(pubsub.ORDER_CHANNEL_PREFIX):],)
            order = message.get("order") or {}
            with self.lock:
                watches = list(self.watches.get(order.get("order_id", ""), ()))
                self._remember(order)
            for watch in watches:
                watch.offer(order)
        elif channel.startswith(pubsub.PRICE_CHANNEL_PREFIX):
            parts = tuple(channel[len(pubsub.PRICE_CHANNEL_PREFIX):].split(":", 2))
            if len(parts) != 3:
                return
            kind, key = "prices", parts
        else:
            return
        on_loops: dict[asyncio.AbstractEventLoop, list[AsyncSubscription]] = defaultdict(list)
        for sub in self._snapshot():
            if sub.kind == kind and sub.accept(key, message):
                if isinstance(sub, AsyncSubscription):
                    on_loops[sub.loop].append(sub)
                else:
                    sub.offer(message)
        for loop, subs in on_loops.items():
            try:
                loop.call_soon_threadsafe(_offer_all, subs, Published(message))
            except RuntimeError:
                pass  # that loop is closed: its server has stopped


def _nudge_all(subs: list[AsyncSubscription]) -> None:
    for sub in subs:
        sub.nudge()


def _offer_all(subs: list[AsyncSubscription], item: Published) -> None:
    for sub in subs:
        if sub.error is None:
            sub.offer(item)
