"""Scenario 8: a fill of an order that has rested for minutes, from the venue to the StreamOrders client.

N limit BUYs are placed through the OMS below a frozen market, a level apart, and left to rest (long enough
that per-order polling would have slowed to its slowest rate); then the price is moved through them one at a
time, each move filling exactly one. Latency: the trade's time in the venue's records → FILLED on the stream.
Baseline: a bare ccxt.pro `watch_orders` client on the same key, hearing the same fills in the same run."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

from bench.pro_watcher import OrderWatcher
from bench.scenarios.placement import _sdk
from bench.stack import ACCOUNT, VENUE_KEY, Stack, wait_for
from bench.stats import compare, summary

# A symbol no other scenario trades, so moving its price fills nothing but these orders.
SYMBOL, CCXT_SYMBOL = "ETHUSDT", "ETH/USDT"
QUANTITY = Decimal("0.01")
MARKET = Decimal("4000")
TOP, STEP = Decimal("3900"), Decimal("5")  # order i rests at TOP - i*STEP
CROSS = Decimal("2")  # the mid moves this far below an order: its ask crosses that order and no lower one
HEARD_WITHIN_S = 30  # past the sweeps' live pace (20 s): a fill not heard by then is counted lost


def _oms_place(client, price: Decimal) -> dict:
    result = client.place_order(symbol=SYMBOL, side="BUY", quantity=QUANTITY, price=price)
    if result["status"] != "NEW":
        raise RuntimeError(f"OMS placement came back {result['status']} ({result.get('reason')}), not NEW")
    return result


def _trade_times_ms(stack: Stack) -> dict[str, int]:
    """Venue order id → the time of its last trade (the fill), from the venue's own records."""
    out: dict[str, int] = {}
    for trade in stack.control.records(VENUE_KEY, "spot")["trades"]:
        if trade["symbol"] == SYMBOL:
            key = str(trade["order_id"])
            out[key] = max(out.get(key, 0), int(trade["time"]))
    return out


def _subscriptions(stack: Stack) -> int:
    return sum(1 for c in stack.control.user_streams()["connections"] if c["api_key"] == VENUE_KEY
               and c["market"] == "spot")


def run(stack: Stack, n: int, rest_seconds: float) -> dict:
    from exchanges import stream_state

    filled: dict[str, float] = {}
    heard: set[str] = set()
    arrived = threading.Condition()
    wait_for(lambda: stream_state.is_live(stack.account.pk, "spot"), 60, "the account's user stream to be live")
    stack.control.set_price(SYMBOL, MARKET, freeze=True)
    subscribed_before = _subscriptions(stack)
    with (stack.beat(), _sdk(stack) as listener, _sdk(stack) as client,
          OrderWatcher(stack.venue_url, VENUE_KEY, stack.venue_secret, CCXT_SYMBOL) as raw):
        def listen() -> None:
            for update in listener.iter_orders(ACCOUNT):
                with arrived:
                    heard.add(update["order"]["order_id"])
                    if update["order"]["status"] == "FILLED":
                        filled.setdefault(update["order"]["order_id"], time.time() * 1000)
                    arrived.notify_all()

        threading.Thread(target=listen, daemon=True).start()
        wait_for(lambda: raw.error or _subscriptions(stack) > subscribed_before, 30,
                 "the ccxt.pro baseline to subscribe")
        # Both listeners hear a placement before anything is timed.
        probe = _oms_place(client, TOP - 1000)
        if raw.wait(probe["order_id"], "open", 30) is None:
            raise RuntimeError(f"the ccxt.pro baseline never heard a placement ({raw.error!r})")
        client.cancel_order(probe["order_id"])
        with arrived:
            if not arrived.wait_for(lambda: probe["order_id"] in heard, 30):
                raise TimeoutError("the order stream never delivered the probe's updates")
        orders = []  # highest first, so each price move fills the next one only
        for i in range(n):
            result = _oms_place(client, TOP - i * STEP)
            orders.append({**result, "price": TOP - i * STEP})
        rested_from = time.monotonic()
        time.sleep(rest_seconds)
        rested_s = time.monotonic() - rested_from
        not_heard = 0
        for order in orders:
            stack.control.set_price(SYMBOL, order["price"] - CROSS, freeze=True)
            with arrived:
                if not arrived.wait_for(lambda order=order: order["order_id"] in filled, HEARD_WITHIN_S):
                    not_heard += 1
            raw.wait(order["order_id"], "closed", HEARD_WITHIN_S)
            time.sleep(0.2)  # one fill at a time, as a resting order meets the market
        stack.control.set_price(SYMBOL, MARKET, freeze=False)
        raw_seen = {cid: statuses.get("closed") for cid, statuses in raw.seen.items()}
    venue_ms = _trade_times_ms(stack)
    oms, base = [], []
    for order in orders:
        at = venue_ms.get(str(order["exchange_order_id"]))
        if at is None:
            raise RuntimeError(f"the venue holds no trade of {order['order_id']}: the price move did not fill it")
        if order["order_id"] in filled:
            oms.append(filled[order["order_id"]] - at)
        if raw_seen.get(order["order_id"]) is not None:
            base.append(raw_seen[order["order_id"]] - at)
    oms_s, base_s = summary(oms), summary(base)
    return {"oms": oms_s, "raw": base_s, **compare(oms_s, base_s), "not_heard": not_heard, "rested_s": round(rested_s, 1),
            "note": f"{n} orders rested {rested_s:.0f} s; {not_heard} not heard within {HEARD_WITHIN_S} s; "
                    f"baseline heard {len(base)}/{n}"}
