"""User-data streams: the venue tells the ledger what happened to an order as it happens.

Every worker that consumes the `sync` queue runs `UserStreams` (a Celery bootstep): one thread with an
asyncio loop that, for each enabled Binance account with credentials and each of its markets, takes the
stream's lease (one consumer in the whole deployment) and consumes it through ccxt.pro: spot through the
WebSocket API subscription, USD-M through a listenKey that ccxt keeps alive.

On every (re)connect the consumer first sweeps the account's working orders (`sweeps.sweep`) and syncs its
balances, so whatever happened while the stream was down is applied before the stream is trusted ("live").
While it is not live the account's sweeps run at the young-order rate. A broken stream (the venue closed it,
the listenKey expired, a network error) is rebuilt with a new client and a new listenKey after a short backoff.

Order reports go through `venue_orders.apply_venue_order`, as the poller's and the placement answer's do: a
report already applied is a no-op, an out-of-order one is recorded as stale and never moves the order back,
and a report whose trades the stream did not deliver (a lost event) has them fetched from the venue. Spot
balance events are applied as they come; USD-M's ask for the account's balance sync (debounced), which
replaces balances and positions with the venue's, and a USD-M funding event (reason FUNDING_FEE) for a funding sync
(execution.funding: the payment read from the income history and recorded once).
The ledger's database work runs on one executor thread per stream, so reports are applied in arrival order.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from celery import bootsteps
from django.conf import settings

from accounts.models import Account, Market
from accounts.selectors import accounts_to_sync
from exchanges import stream_state as state
from exchanges.errors import VenueError
from exchanges.results import VenueOrder
from infra.cpu_stages import staged
from infra.jsonlog import log_context

log = logging.getLogger(__name__)

CLOSE_SECONDS = 1


def stream_targets() -> list[tuple[int, str]]:
    """(account id, market) of every stream to consume: enabled Binance accounts with credentials."""
    accounts = accounts_to_sync(exchange="binance")
    return [(pk, market) for pk in accounts.values_list("pk", flat=True) for market in (Market.SPOT, Market.FUTURES)]


# ------------------------------------------------------------------------------------ ledger side (sync)

@staged("stream.order")
def apply_order_report(account_id: int, market: str, vo: VenueOrder) -> None:
    """One order report from the stream, applied like any other venue report; orders not ours are ignored
    (reconciliation adopts them)."""
    from exchanges.gateway import gateway_for
    from execution import venue_orders

    order = venue_orders.account_order(account_id, order_id=vo.client_order_id, market=market, exchange_id=vo.id)
    # Most reports tell what the ledger already shows (the worker recorded the venue's answer to its own
    # request): then there is nothing to lock or write.
    if order is None or not order.is_open or not venue_orders.report_is_news(order, vo):
        return
    gateway = gateway_for(order.account, credential_stamp=order.credential_stamp)
    symbol = venue_orders.ccxt_symbol_of(order.exchange, order.market, order.symbol)
    with log_context(order_id=order.id, account=order.account.name, task=f"stream.{market}"):
        venue_orders.apply_venue_order(gateway, order, vo, symbol=symbol, source="stream")


def catch_up(account_id: int, market: str) -> None:
    """Everything that happened while the stream was down: the working orders swept, the balances synced."""
    from django.db import close_old_connections

    from execution import funding, sweeps, venue_orders

    close_old_connections()
    sweeps.sweep(account_id, market, reason="catch-up")
    venue_orders.balances_sync_soon(account_id)
    if market == Market.FUTURES:  # funding paid while the stream was down
        funding.sync_soon(account_id)


def funding_paid(account_id: int) -> None:
    """A USD-M funding event (ACCOUNT_UPDATE reason FUNDING_FEE): the payment is read from the income history and
    recorded (the event has no payment id), and the wallet synced."""
    from django.db import close_old_connections

    from execution import funding

    close_old_connections()
    funding.sync_soon(account_id)


@staged("stream.balance")
def balances_changed(account_id: int, rows: list[dict]) -> None:
    """A balance event: spot's carries the assets' amounts, applied as they are; USD-M's (wallet and
    positions, in the venue's own terms) asks for the account's balance sync instead."""
    from execution import venue_orders
    from orders import services

    if rows:
        services.balances_update(account_id=account_id, market=Market.SPOT, balances=rows)
    else:
        venue_orders.balances_sync_soon(account_id)


def on_ledger_connection(fn, *args):
    """fn(*args) on a stream's ledger thread, which keeps its database connection from one event to the next
    without a health check (a round trip per event, as Django's request cycle would make). A connection found
    broken (PostgreSQL restarted meanwhile) is replaced and fn runs once more: what failed on it was rolled back,
    and applying a venue report or a balance event again is harmless."""
    from django.db import InterfaceError, OperationalError, connection

    try:
        return fn(*args)
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block or (connection.connection is not None and connection.is_usable()):
            raise
        connection.close()
        return fn(*args)


# ------------------------------------------------------------------------------------ stream side (async)

class Stream:
    """One account's stream on one market, while this worker holds its lease."""

    def __init__(self, account_id: int, market: str, owner: str):
        self.account_id, self.market, self.owner = account_id, market, owner
        self.ledger = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"oms-stream-{account_id}-{market}")
        self.task: asyncio.Task | None = None
        self.live = False

    async def _db(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.ledger, on_ledger_connection, fn, *args)

    async def run(self) -> None:
        backoff = 0.5
        first = True
        while True:
            state.record(self.account_id, self.market, state="connecting", reconnect=not first, holder=self.owner)
            first = False
            try:
                await self._session()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except VenueError as exc:  # the venue closed it, the network broke, the listenKey expired
                log.warning("user stream %s %s broke: %s: %s", self.account_id, self.market, type(exc).__name__, exc)
            except Exception:  # noqa: BLE001 - a defect or the database away: fall back to sweeps, reconnect
                log.exception("user stream %s %s failed", self.account_id, self.market)
            finally:
                self._set_live(False)
                state.record(self.account_id, self.market, state="down")
            await asyncio.sleep(backoff * (1 + random.random() / 2))
            backoff = min(backoff * 2, 10.0)

    def _set_live(self, live: bool) -> None:
        self.live = live
        state.set_live(self.account_id, self.market, live)

    async def _session(self) -> None:
        from exchanges.gateway import stream_client

        def prepare():
            # decrypts the credential and reads the account's markets: database reads
            return stream_client(Account.objects.get(pk=self.account_id), self.market)

        client = await self._db(prepare)
        tasks: list[asyncio.Future] = []
        try:
            await client.oms_subscribe()  # spot: subscribed once this returns; USD-M: a listenKey
            queue: asyncio.Queue = asyncio.Queue()
            tasks = [asyncio.ensure_future(self._watch_orders(client, queue)),
                     asyncio.ensure_future(self._watch_balances(client, queue))]
            opened = client.oms_socket_opened()
            if opened is not None:  # USD-M: the listenKey's socket must be open before the catch-up
                await asyncio.wait([opened, *tasks], return_when=asyncio.FIRST_COMPLETED)
                for task in tasks:
                    if task.done():
                        task.result()  # it failed before the socket opened
            state.record(self.account_id, self.market, state="catching_up")
            await self._db(catch_up, self.account_id, self.market)
            state.record(self.account_id, self.market, state="live", catch_up=True)
            self._set_live(True)
            log.info("user stream %s %s live", self.account_id, self.market)
            tasks.append(asyncio.ensure_future(self._apply(queue)))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await client.oms_close(CLOSE_SECONDS)

    # ccxt.pro hands a message to a watch only if the watch is waiting when it arrives: one that arrives while
    # nothing waits stays in ccxt's cache until the next message wakes the watch. So the watch loops below never
    # wait on the ledger between two watches; they queue what they got for `_apply`, which does.
    async def _watch_orders(self, client, queue: asyncio.Queue) -> None:
        while True:
            queue.put_nowait(("orders", await client.oms_watch_orders()))

    async def _watch_balances(self, client, queue: asyncio.Queue) -> None:
        while True:
            queue.put_nowait(("balance", await client.oms_watch_balance_rows()))
            if self.market == Market.FUTURES and client.oms_take_funding_events():
                queue.put_nowait(("funding", []))

    async def _apply(self, queue: asyncio.Queue) -> None:
        while True:
            batch = [await queue.get()]
            while not queue.empty():  # what piled up while the ledger was busy
                batch.append(queue.get_nowait())
            state.record(self.account_id, self.market, event=True)
            # Balance events carry each asset's amounts, not changes: the latest row of each asset in the batch is
            # what applying them one by one would leave, in one transaction instead of one per event.
            balances: dict[str, dict] = {}
            sync_asked = False  # an event without rows (USD-M's) asks for the account's balance sync
            for kind, reports in batch:
                if kind == "balance":
                    sync_asked = sync_asked or not reports
                    balances.update((row["asset"], row) for row in reports)
                elif kind == "funding":
                    await self._db(funding_paid, self.account_id)
                else:
                    for vo in reports:
                        await self._db(apply_order_report, self.account_id, self.market, vo)
            if balances:
                await self._db(balances_changed, self.account_id, list(balances.values()))
            if sync_asked:
                await self._db(balances_changed, self.account_id, [])


class UserStreams:
    """The supervisor of this worker's streams: takes free leases, renews held ones, starts and stops streams."""

    def __init__(self):
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.streams: dict[tuple[int, str], Stream] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.wake: asyncio.Event | None = None  # set from `stop`, so the supervisor ends without finishing its sleep
        self.stopping = threading.Event()
        self.targets = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oms-stream-targets")

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="oms-user-streams", daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        loop, wake = self.loop, self.wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)
        if self.thread:
            self.thread.join(timeout)

    def _run(self) -> None:
        from django.db import connections

        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._supervise())
        finally:
            self.loop.close()
            connections.close_all()

    async def _supervise(self) -> None:
        period = settings.OMS_USER_STREAM_LEASE_SECONDS / 3
        self.wake = asyncio.Event()
        try:
            while not self.stopping.is_set():
                try:
                    await self._tick()
                except Exception:  # noqa: BLE001 - Redis or the database away: keep what runs, try again
                    log.exception("user streams: supervision failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=period)
        finally:
            await asyncio.gather(*(self._drop(key, stream) for key, stream in list(self.streams.items())))
            await asyncio.get_running_loop().run_in_executor(self.targets, _close_connections)
            self.targets.shutdown(wait=True)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        targets = set(await loop.run_in_executor(self.targets, _targets_now)) if settings.OMS_USER_STREAMS else set()
        for key, stream in list(self.streams.items()):
            held = key in targets and state.lease_renew(*key, self.owner)
            if not held or stream.task.done():
                await self._drop(key, stream)
            elif stream.live:
                state.set_live(*key, True)
        for key in targets - set(self.streams):
            if state.lease_acquire(*key, self.owner):
                stream = self.streams[key] = Stream(*key, self.owner)
                stream.task = asyncio.ensure_future(stream.run())

    async def _drop(self, key, stream: Stream) -> None:
        stream.task.cancel()
        with contextlib.suppress(BaseException):
            await stream.task
        # Its ledger thread may still be inside a venue request (a venue that went away answers nothing until
        # the timeout): its database connection is closed when that ends, without holding the stop up.
        stream.ledger.submit(_close_connections)
        stream.ledger.shutdown(wait=False)
        state.set_live(*key, False)
        state.lease_release(*key, self.owner)
        self.streams.pop(key, None)


def _close_connections() -> None:
    """An executor thread's database connection, closed before the thread goes."""
    from django.db import connections

    connections.close_all()


def _targets_now() -> list[tuple[int, str]]:
    from django.db import close_old_connections

    close_old_connections()
    return stream_targets()


class UserStreamStep(bootsteps.StartStopStep):
    """Runs the user-data streams in a worker that consumes the `sync` queue (OMS_USER_STREAMS)."""

    requires = {"celery.worker.components:Pool"}

    def include_if(self, worker) -> bool:
        queues = worker.app.amqp.queues
        consumed = queues.consume_from if queues.consume_from is not None else queues
        return settings.OMS_USER_STREAMS and "sync" in consumed

    def create(self, worker) -> UserStreams:
        return UserStreams()

