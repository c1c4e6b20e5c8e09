"""One Redis subscriber per events process, fanned out to the event streams on its loop (as the gRPC server's
hub does for its streams): a stream holds a queue, not a Redis connection, and leaving is dropping the queue.

If the Redis connection drops, order streams end with an `unavailable` error event (EventSource reconnects and
resumes with Last-Event-ID, replayed from the ledger); price streams carry on after the reconnect."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

import redis.asyncio
from django.conf import settings

from infra import pubsub
from infra.errors import RateLimited, ServiceError, Unavailable

log = logging.getLogger("oms.events")

QUEUE_SIZE = 1000  # updates queued per stream; a stream further behind is ended
CONNECT_WAIT_SECONDS = 5.0


class Listener:
    """One stream's queue of decoded messages from the channels it `accepts`."""

    def __init__(self, accepts: Callable[[str], bool], kind: str):
        self.accepts, self.kind = accepts, kind
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self.error: ServiceError | None = None

    def offer(self, message: dict) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.end(RateLimited(f"stream ended: the client read too slowly and {QUEUE_SIZE} updates queued up; "
                                 "reconnect"))

    def end(self, error: ServiceError) -> None:
        self.error = self.error or error
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)  # wakes the reader, which checks `error` first

    async def next(self, timeout: float) -> dict | None:
        """The next message, None after `timeout` seconds without one; raises the reason the stream was ended."""
        if self.error:
            raise self.error
        try:
            async with asyncio.timeout(timeout):
                message = await self.queue.get()
        except TimeoutError:
            return None
        if self.error:
            raise self.error
        return message


class EventHub:
    def __init__(self):
        self.listeners: set[Listener] = set()
        self.connected = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def listen(self, accepts: Callable[[str], bool], kind: str) -> Listener:
        """A listener that hears everything published from now on (UNAVAILABLE while Redis cannot be reached)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="oms-events-hub")
        try:
            async with asyncio.timeout(CONNECT_WAIT_SECONDS):
                await self.connected.wait()
        except TimeoutError:
            raise Unavailable("live updates are unavailable (no connection to Redis); retry shortly") from None
        listener = Listener(accepts, kind)
        self.listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            client = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5)
            subscription = client.pubsub(ignore_subscribe_messages=True)
            try:
                await subscription.psubscribe(f"{pubsub.ORDER_CHANNEL_PREFIX}*", f"{pubsub.PRICE_CHANNEL_PREFIX}*")
                self.connected.set()
                backoff = 0.2
                async for message in subscription.listen():
                    if message["type"] == "pmessage":
                        self._dispatch(message["channel"].decode(), message["data"])
            except (redis.RedisError, OSError) as exc:
                log.warning("Redis pub/sub lost (%s); reconnecting in %.1fs", exc.__class__.__name__, backoff)
            finally:
                self.connected.clear()
                for listener in list(self.listeners):
                    if listener.kind == "orders":
                        listener.end(Unavailable("order updates interrupted; reconnect (Last-Event-ID resumes)"))
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2):
                        await subscription.aclose()
                        await client.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def _dispatch(self, channel: str, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("ignored a malformed message on %s", channel)
            return
        for listener in list(self.listeners):
            if listener.error is None and listener.accepts(channel):
                listener.offer(message)


HUB = EventHub()
