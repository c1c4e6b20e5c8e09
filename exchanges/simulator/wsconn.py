"""One websocket with an ordered outbox: events leave in the order they happened, each no earlier than
its due time (the delay fault), and a close queued behind them leaves last."""
import asyncio
import contextlib

import orjson
from aiohttp import web

CLOSE = None  # the outbox item that closes the socket once everything before it was sent


class Connection:
    def __init__(self, ws: web.WebSocketResponse, opened_ms: int):
        self.ws = ws
        self.opened_ms = opened_ms  # venue time, for the 24 h limit on user-data connections
        self.outbox: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue(maxsize=10_000)
        self.held: tuple[dict, float, float] | None = None  # reorder fault: (payload, delay s, held at)
        self.next_subscription_id = 0  # websocket API: subscription ids count per session from 0
        self.closing = False
        self.sender = asyncio.create_task(self._send())

    def push(self, payload, delay_s: float = 0.0) -> None:
        due = asyncio.get_running_loop().time() + delay_s if delay_s > 0 else 0.0
        with contextlib.suppress(asyncio.QueueFull):  # a client that stops reading loses messages, not the venue
            self.outbox.put_nowait((due, orjson.dumps(payload)))

    def close_after_sent(self) -> None:
        """Close once what is queued has left (e.g. after `listenKeyExpired`)."""
        if not self.closing:
            self.closing = True
            with contextlib.suppress(asyncio.QueueFull):
                self.outbox.put_nowait((0.0, CLOSE))

    def close_now(self) -> None:
        """Close at once; what is still queued is lost, as when a venue drops the connection."""
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().create_task(self.ws.close())

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await self.outbox.get()
            if due and due > loop.time():
                await asyncio.sleep(due - loop.time())
            try:
                if data is CLOSE:
                    await self.ws.close()
                    return
                await self.ws.send_str(data.decode())
            except (ConnectionError, RuntimeError):
                return

    def stop(self) -> None:
        self.sender.cancel()
