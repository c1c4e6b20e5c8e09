"""Scenario 15: eight clients place and cancel on one account at once, through the Python SDK over gRPC, while the
market moves under their resting orders (random fills) and the venue loses a few answers and requests. At the end
the ledger equals the venue exactly (I1–I5: statuses, filled quantities, fills by trade id) and the balances equal
the venue's and reconcile to the sum of the fills and their fees. `run()` takes the duration: a few seconds in
`make test`, a minute in `make soak`."""
from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal

import grpc
from django.db import connection

from orders.models import TERMINAL_STATUSES, Order
from tests.faults.ledger_venue import fill_totals, ledger_balances, settle, venue_balances
from tests.fixtures.stack import OmsStack
from tests.fixtures.worker import sync_balances
from tests.waiting import wait_until

D = Decimal
SYMBOL = "BTCUSDT"
MID, TICK, BAND = D("100000"), D("10"), 30  # the market walks within MID ± BAND ticks
NEW_ORDER, CANCEL = "POST /api/v3/order", "DELETE /api/v3/order"
# A few requests lost at random: answers dropped or "unknown" after processing, requests lost before it.
FAULTS = {"endpoints": [NEW_ORDER, CANCEL], "drop_response_rate": 0.02, "drop_request_rate": 0.01, "error_rate": 0.02,
          "error_kind": "unknown"}
# Each client acts every 0.4-1.0 s: with 8 clients about 8 placements/s, under the venue's 10 orders/s per account.
PAUSE_S = (0.4, 1.0)


class Market:
    """Moves the mid price a few ticks at a time, every few hundred ms, until stopped: resting orders fill as
    it passes them."""

    def __init__(self, stack: OmsStack, seed: int):
        self.control, self.rng, self.mid = stack.venue.control, random.Random(seed), MID
        self.stopped = threading.Event()
        self.moves = 0
        self.thread = threading.Thread(target=self._walk, name="market", daemon=True)

    def _walk(self) -> None:
        while not self.stopped.wait(self.rng.uniform(0.2, 0.5)):
            self.mid = min(max(self.mid + self.rng.randint(-3, 3) * TICK, MID - BAND * TICK), MID + BAND * TICK)
            self.control.set_price(SYMBOL, self.mid, freeze=True)
            self.moves += 1


class Client(threading.Thread):
    """One trading client: places resting and marketable orders and cancels its own, at random."""

    def __init__(self, stack: OmsStack, market: Market, seed: int, deadline: float, intents_lock: threading.Lock):
        super().__init__(name=f"client-{seed}", daemon=True)
        self.stack, self.market, self.rng, self.deadline = stack, market, random.Random(seed), deadline
        self.intents_lock = intents_lock
        self.tally: Counter = Counter()
        self.error: BaseException | None = None
        self.mine: list[str] = []

    def run(self) -> None:
        try:
            with self.stack.client() as client:
                while time.monotonic() < self.deadline:
                    self._act(client)
                    time.sleep(self.rng.uniform(*PAUSE_S))  # a client's think time, not a wait for a condition
        except BaseException as exc:  # noqa: BLE001 - reported by run()
            self.error = exc
        finally:
            connection.close()  # this thread's ledger reads

    def _act(self, client) -> None:
        roll, side = self.rng.random(), self.rng.choice(["BUY", "SELL"])
        quantity = D("0.001") * self.rng.randint(1, 5)
        if roll < 0.3 and self.mine:
            order_id = self.mine.pop(self.rng.randrange(len(self.mine)))
            try:
                client.cancel_order(order_id)
                self.tally["cancels"] += 1
            except grpc.RpcError as refused:  # it filled first: a clean refusal of a closed order
                assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, (refused.code(), refused.details())
                assert Order.objects.get(pk=order_id).status in TERMINAL_STATUSES
                self.tally["cancels refused (already closed)"] += 1
            return
        if roll < 0.4:
            order_type, price = "MARKET", 0
        else:
            offset = self.rng.randint(-2, 8) * TICK  # mostly resting, sometimes through the touch
            order_type, price = "LIMIT", self.market.mid - offset if side == "BUY" else self.market.mid + offset
        client_order_id = f"c15-{uuid.uuid4().hex[:20]}"
        with self.intents_lock:
            self.stack.intents[client_order_id] = None
        answer = client.place_order(SYMBOL, side, quantity, order_type, price, client_order_id=client_order_id)
        with self.intents_lock:
            self.stack.intents[client_order_id] = answer["order_id"]
        self.tally["placed"] += 1
        if order_type == "LIMIT":
            self.mine.append(answer["order_id"])


def run(stack: OmsStack, *, seconds: float, clients: int = 8, seed: int = 15, trickle_per_min: float = 0) -> dict:
    """Trade for `seconds`, settle, check; returns the figures (asserts the invariants and the balances).
    `trickle_per_min`: the venue's random synthetic takers partially fill resting orders meanwhile (off at the end,
    before the settling)."""
    venue, account = stack.venue, stack.account
    venue.control.fund(venue.api_key, "spot", "USDT", 1_000_000)
    venue.control.fund(venue.api_key, "spot", "BTC", 20)
    venue.control.set_price(SYMBOL, MID, freeze=True)
    before = venue_balances(venue)
    venue.control.fault_counts(reset=True)
    venue.control.set_faults(**FAULTS)
    if trickle_per_min:
        venue.control.set_random_trickle(rate_per_min=trickle_per_min, fraction=0.3, seed=seed)

    market = Market(stack, seed)
    lock = threading.Lock()
    started = time.monotonic()
    team = [Client(stack, market, seed * 100 + i, started + seconds, lock) for i in range(clients)]
    market.thread.start()
    for client in team:
        client.start()
    for client in team:
        client.join(seconds + 60)
    market.stopped.set()
    market.thread.join(5)
    traded_for = time.monotonic() - started
    taker_fills = venue.control.set_random_trickle(rate_per_min=0)["fills"]
    venue.control.clear_faults()
    errors = [f"{c.name}: {c.error!r}" for c in team if c.error or c.is_alive()]
    assert not errors, errors

    result = settle(venue, account, window_ms=stack.window_ms, intents=stack.intents, timeout=90)
    after = wait_until(lambda: ledger_balances(account) == venue_balances(venue) and ledger_balances(account),
                       timeout=30, interval=0.5, tick=sync_balances, what="ledger balances == venue balances")
    moved = fill_totals(account)
    for asset in set(before) | set(after) | set(moved):
        total_before, total_after = sum(before.get(asset, (0, 0))), sum(after.get(asset, (0, 0)))
        assert total_after - total_before == moved[asset], (asset, total_before, total_after, moved[asset])

    tally = sum((c.tally for c in team), Counter())
    faults = venue.control.fault_counts()
    return {"seconds": round(traded_for, 1), "clients": clients, "orders placed": tally["placed"],
            "placements/s": round(tally["placed"] / traded_for, 1), "cancels": tally["cancels"],
            "cancels refused (already closed)": tally["cancels refused (already closed)"], "fills": result.fills,
            "synthetic taker fills": taker_fills, "price moves": market.moves, "faults injected": sum(faults.values()),
            "rejected as never received": result.never_received, "duplicates found": result.duplicates,
            "lost": result.lost}
