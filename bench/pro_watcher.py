"""A bare ccxt.pro client on a venue key, the baseline of the user-data stream scenarios: it records when the
venue's report of each order reached it, with nothing between the socket and the clock."""
from __future__ import annotations

import asyncio
import contextlib
import threading
import time


class OrderWatcher:
    """`watch_orders` in a loop on its own thread: client order id → first time (ms) it was seen, per ccxt status."""

    def __init__(self, venue_url: str, api_key: str, secret: str, symbol: str):
        self.venue_url, self.api_key, self.secret, self.symbol = venue_url, api_key, secret, symbol
        self.seen: dict[str, dict[str, float]] = {}
        self.changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),), daemon=True,
                                        name="bench-pro-watcher")
        self._task: asyncio.Task | None = None
        self.error: BaseException | None = None

    def __enter__(self) -> OrderWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)

    def wait(self, client_order_id: str, status: str, timeout: float) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: status in self.seen.get(client_order_id, {}), timeout)
            return self.seen.get(client_order_id, {}).get(status)

    async def _run(self) -> None:
        from exchanges.simulator.testing import ccxt_pro_client

        self._task = asyncio.current_task()
        exchange = ccxt_pro_client(self.venue_url, self.api_key, self.secret)
        try:
            await exchange.load_markets()
            while True:
                # Straight back into the watch: ccxt.pro wakes only a watch that is waiting when a message arrives.
                orders = await exchange.watch_orders(self.symbol)
                now = time.time() * 1000
                with self.changed:
                    for order in orders:
                        self.seen.setdefault(order.get("clientOrderId") or "", {}).setdefault(order["status"], now)
                    self.changed.notify_all()
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001 - kept for the scenario to report
            self.error = exc
        finally:
            with contextlib.suppress(Exception):
                await exchange.close()
