"""Scenario 10: a batch of 50 placements (PlaceOrders) against 50 single PlaceOrder calls made one after another,
on spot and on USD-M, each timed from the first call until every order's answer is back (resting limit orders:
NEW). USD-M batches reach the venue five to a batchOrders request; spot's are sent one order at a time by the
worker, so there the batch saves the client's round trips only. Each round is followed by CancelAllOrders and a
wait for the book to be empty (not timed), so MAX_NUM_ORDERS never caps a round."""
from __future__ import annotations

from decimal import Decimal

from bench.stack import Stack, wait_for
from bench.stats import compare, summary, timed

SYMBOL = "BTCUSDT"
BATCH = 50
MID = Decimal("100000")
# Under the held mid, inside each market's price band (spot 0.2x..5x, USD-M 0.95x..1.05x): every order rests.
PRICE = {"spot": Decimal("90000"), "futures": Decimal("98000")}
QUANTITY = {"spot": Decimal("0.001"), "futures": Decimal("0.01")}


def _order(market: str, i: int) -> dict:
    return {"symbol": SYMBOL, "side": "BUY", "quantity": QUANTITY[market], "price": PRICE[market] + i, "market": market}


def _all_new(statuses: list[str], what: str) -> None:
    if set(statuses) != {"NEW"}:
        raise RuntimeError(f"{what} came back {sorted(set(statuses))}, not all NEW")


def _clear(client, market: str) -> None:
    client.cancel_all_orders(account_id="main", symbol=SYMBOL)
    wait_for(lambda: not client.list_orders(status="OPEN", symbol=SYMBOL, market=market, limit=1), 60,
             f"the {market} book to be empty")


def run(stack: Stack, rounds: int) -> dict:
    from clients.python.oms_client import OMSClient

    out = {"_many": True}
    with OMSClient(stack.grpc_address, timeout=60) as client:
        for market in ("spot", "futures"):
            stack.control.set_price(SYMBOL, MID, market=market, freeze=True)
            _clear(client, market)  # what earlier scenarios left resting
            batched, singles = [], []
            for _ in range(rounds):
                ms, result = timed(lambda market=market: client.place_orders([_order(market, i) for i in range(BATCH)]))
                _all_new([r["order"]["status"] if r["ok"] else r["error"]["message"] for r in result["results"]],
                         "a batch")
                batched.append(ms)
                _clear(client, market)
                ms, results = timed(lambda market=market: [client.place_order(**_order(market, i)) for i in range(BATCH)])
                _all_new([r["status"] for r in results], "single placements")
                singles.append(ms)
                _clear(client, market)
            stack.control.set_price(SYMBOL, MID, market=market, freeze=False)
            row = {"oms": summary(batched), "raw": summary(singles),
                   "note": f"baseline: {BATCH} single PlaceOrder calls; {rounds} rounds"}
            row.update(compare(row["oms"], row["raw"]))
            out[f"11 batch of {BATCH} {market}"] = row
    return out
