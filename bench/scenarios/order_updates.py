"""Scenario 5: from the venue's fill to the StreamOrders client. Marketable limit orders fill on arrival;
the venue's audit says when it finished the request (the fill), the stream says when FILLED arrived.
Baseline: the same fill reaching a direct ccxt caller in the HTTP response."""
from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal

from bench.scenarios.placement import CCXT_SYMBOL, QUANTITY, SYMBOL, _sdk
from bench.stack import Stack
from bench.stats import compare, summary

CROSSING_PRICE = Decimal("200000")  # above every ask: fills at once


def _venue_done_ms(stack: Stack) -> dict[str, float]:
    """client order id → when the venue finished handling its placement (arrival + duration), ms."""
    return {row["client_order_id"]: row["ts"] + row["ms"] for row in stack.control.audit()
            if row.get("client_order_id") and row.get("ms") is not None}


def fill_to_stream(stack: Stack, n: int) -> dict:
    filled: dict[str, float] = {}
    arrived = threading.Condition()
    with _sdk(stack) as listener, _sdk(stack) as client:
        def listen() -> None:
            for update in listener.iter_orders("main"):
                if update["order"]["status"] == "FILLED":
                    with arrived:
                        filled[update["order"]["order_id"]] = time.time() * 1000
                        arrived.notify_all()

        threading.Thread(target=listen, daemon=True).start()

        def place_and_hear() -> str:
            order_id = client.place_order(symbol=SYMBOL, side="BUY", quantity=QUANTITY, price=CROSSING_PRICE)["order_id"]
            with arrived:
                if not arrived.wait_for(lambda: order_id in filled, timeout=30):
                    raise TimeoutError(f"no FILLED update for {order_id} on the order stream")
            return order_id

        place_and_hear()  # the stream is live once the first update arrives
        oms_ids = [place_and_hear() for _ in range(n)]
    raw = stack.raw_client()
    raw_received: dict[str, float] = {}
    for _ in range(n):
        cid = f"bench-{uuid.uuid4().hex[:20]}"
        raw.create_order(CCXT_SYMBOL, "limit", "buy", str(QUANTITY), str(CROSSING_PRICE), {"clientOrderId": cid})
        raw_received[cid] = time.time() * 1000
    done = _venue_done_ms(stack)
    oms = summary(filled[i] - done[i] for i in oms_ids)
    base = summary(t - done[cid] for cid, t in raw_received.items())
    return {"oms": oms, "raw": base, **compare(oms, base)}
