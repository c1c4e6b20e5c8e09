"""Scenario 9: what background sync costs an account with M resting orders, in request weight per minute as
a share of the venue's published limit (Binance spot: 6,000 a minute).

The orders are placed through the OMS on an account of their own (its own venue key), then rest for a window
while beat, the worker and the account's user-data stream run on the production schedule (no knob changed: the
sweeps' pace does not depend on the orders' ages, so a window of minutes costs per minute what a day does). The
cost is counted from the venue's audit of the key (GET openOrders, order and myTrades, weighted as Binance
weighs them) and also read from the OMS's own figure (`sync_weight` of the stream state).
Baseline: per-order polling, which the sweeps replaced, for the same orders and window: one GET order (weight 4)
per working order every min(60, max(1, age/10)) seconds.
During the window P more orders are placed, each beside a ccxt placement as scenario 1 does (on a key of its
own, so the baseline's orders send the OMS account no events), and P before the M orders, as a reference. Balance syncs (GET account, weight 20), which
the stream's balance events ask for, are counted apart."""
from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial

from bench.stack import GENEROUS, Stack, wait_for
from bench.stats import compare, summary, timed

ACCOUNT, KEY = "sync", "bench-sync-key"
RAW_KEY = "bench-sync-raw-key"  # the ccxt baseline's own key: its orders must not wake the OMS account's stream
# Far below the market (and away from the prices other scenarios move): the orders rest all window.
LEVELS = {"BTCUSDT": (Decimal("50000"), Decimal("1"), Decimal("0.001")),   # top price, step, quantity
          "XRPUSDT": (Decimal("1.5"), Decimal("0.0001"), Decimal("10"))}
CCXT = {"BTCUSDT": "BTC/USDT", "XRPUSDT": "XRP/USDT"}
# Binance spot weights of the requests sync makes (GET /api/v3/...).
WEIGHT = {"openOrders": 6, "openOrders (all symbols)": 80, "order": 4, "myTrades": 20, "myTrades (orderId)": 5}
POLL_WEIGHT = 4  # the per-order poll: GET order
BALANCE_PATH, BALANCE_WEIGHT = "/api/v3/account", 20  # a spot balance sync, counted apart from the order sync


def _price(symbol: str, i: int) -> Decimal:
    top, step, _ = LEVELS[symbol]
    return top - (i // len(LEVELS)) % 500 * step  # spread over 500 levels, as a real book is


def _request_kind(row: dict) -> str | None:
    """The audit row's kind among the sync requests, or None for any other request."""
    if row.get("method") != "GET" or not str(row.get("path", "")).startswith("/api/v3/"):
        return None
    name = row["path"].rsplit("/", 1)[-1]
    if name == "openOrders":
        return name if row.get("symbol") else "openOrders (all symbols)"
    if name == "myTrades":
        return "myTrades (orderId)" if row.get("order_id") else name
    return name if name in WEIGHT else None


def _polls_in(created: float, start: float, end: float) -> int:
    """How many polls the old schedule made of an order created at `created` within [start, end] (seconds)."""
    count, at = 0, created + 1
    while at <= end:
        if at >= start:
            count += 1
        at += min(60.0, max(1.0, (at - created) / 10))
    return count


def _account(stack: Stack):
    from accounts import services as account_services
    from exchanges.markets import sync_markets
    from execution import venue_orders

    secret = secrets.token_urlsafe(16)
    stack.control.add_key(KEY, secret)
    stack.control.fund(KEY, "spot", "USDT", 10**9)
    account = account_services.account_create(name=ACCOUNT, exchange="binance", base_url=stack.venue_url)
    account_services.credential_set(account=ACCOUNT, api_key=KEY, secret=secret)
    sync_markets(account)  # stores the venue's published limits, which the window keeps to
    venue_orders.account_sync(account.pk)
    return account


def _place_all(stack: Stack, count: int, clients: int = 4) -> list[str]:
    from bench.scenarios.placement import _sdk

    def place(indexes: range) -> list[str]:
        out = []
        with _sdk(stack) as client:
            for i in indexes:
                symbol = tuple(LEVELS)[i % len(LEVELS)]
                result = client.place_order(symbol=symbol, side="BUY", quantity=LEVELS[symbol][2],
                                            price=_price(symbol, i), account_id=ACCOUNT)
                if result["status"] not in ("NEW", "PENDING_NEW"):  # PENDING_NEW: acked later (waited for below)
                    raise RuntimeError(f"setup placement came back {result['status']} ({result.get('reason')})")
                out.append(result["order_id"])
        return out

    with ThreadPoolExecutor(clients) as pool:
        return [oid for chunk in pool.map(place, [range(i, count, clients) for i in range(clients)]) for oid in chunk]


def _place_during(stack: Stack, raw, count: int, start: float, seconds: float, n: int) -> tuple[list, list]:
    """N placements spread over the window, each beside a ccxt placement on the same key: (OMS ms, ccxt ms)."""
    from bench.scenarios.placement import _sdk

    oms_ms, raw_ms = [], []
    with _sdk(stack) as client:
        for i in range(n):
            time.sleep(max(0.0, start + (i + 0.5) * seconds / n - time.time()))
            symbol = tuple(LEVELS)[i % len(LEVELS)]
            price, quantity = _price(symbol, count + i), LEVELS[symbol][2]
            ms, result = timed(partial(client.place_order, symbol=symbol, side="BUY", quantity=quantity, price=price,
                                       account_id=ACCOUNT))
            if result["status"] != "NEW":
                raise RuntimeError(f"placement came back {result['status']} ({result.get('reason')}), not NEW")
            oms_ms.append(ms)
            raw_ms.append(timed(partial(raw.create_order, CCXT[symbol], "limit", "buy", str(quantity), str(price)))[0])
    return oms_ms, raw_ms


def _key_rows(stack: Stack, start: float, end: float) -> list[dict]:
    """The venue's audit rows of the OMS account's key between two times (seconds)."""
    return [row for row in stack.control.audit()
            if row.get("api_key") == KEY and start * 1000 <= row["ts"] <= end * 1000]


def _settle(stack: Stack, quiet_s: float = 10, timeout: float = 300) -> float:
    """Wait until the setup's aftermath is over (no balance sync for `quiet_s`): the window measures the
    steady state. Returns the seconds waited."""
    began = time.time()
    while time.time() - began < timeout:
        last = max((row["ts"] / 1000 for row in _key_rows(stack, began - 3600, time.time())
                    if row["path"] == BALANCE_PATH), default=0)
        if time.time() - last >= quiet_s:
            break
        time.sleep(2)
    return time.time() - began


def _weight_limit_per_min(raw) -> float:
    """The venue's published request weight per minute (exchangeInfo), what Binance's limit means."""
    for row in raw.publicGetExchangeInfo()["rateLimits"]:
        if row["rateLimitType"] == "REQUEST_WEIGHT":
            return float(row["limit"]) * 60 / ({"SECOND": 1, "MINUTE": 60, "DAY": 86400}[row["interval"]]
                                               * int(row.get("intervalNum", 1)))
    raise RuntimeError("the venue publishes no REQUEST_WEIGHT limit")


def run(stack: Stack, count: int, seconds: float, placements: int, reference: dict | None = None) -> dict:
    from exchanges import ratelimit, stream_state
    from exchanges.simulator.testing import ccxt_client
    from orders.models import Order

    account = _account(stack)
    published = ratelimit.published_limits(account.pk, "spot")
    raw_secret = secrets.token_urlsafe(16)
    stack.control.add_key(RAW_KEY, raw_secret)
    stack.control.fund(RAW_KEY, "spot", "USDT", 10**9)
    raw = ccxt_client(stack.venue_url, RAW_KEY, raw_secret)
    raw.load_markets()
    limit_per_min = _weight_limit_per_min(raw)
    wait_for(lambda: stream_state.is_live(account.pk, "spot"), 60, "the account's user stream to be live")
    with stack.beat():
        # The same placements on the account before it holds any resting order: this run's own reference.
        quiet_oms, quiet_raw = _place_during(stack, raw, count + placements, time.time(), placements * 0.5,
                                             placements)
        # Setup only: M orders through the OMS at once, past Binance's 100 orders / 10 s (the venue's own limits
        # are off for the whole bench); the window then keeps to what the venue publishes.
        ratelimit.store_published_limits(account.pk, "spot",
                                         tuple(ratelimit.Limit(k, w, c) for k, w, c in GENEROUS))
        setup_from = time.time()
        setup_s, _ = timed(lambda: _place_all(stack, count))
        wait_for(lambda: not Order.objects.filter(account=account, status="PENDING_NEW").exists(), 120,
                 "every setup order to be acknowledged")
        ratelimit.store_published_limits(account.pk, "spot", published)
        settle_s = _settle(stack)
        setup_syncs = sum(1 for row in _key_rows(stack, setup_from, time.time()) if row["path"] == BALANCE_PATH)

        start = time.time()
        before = stream_state.snapshot(account.pk, "spot")["sync_weight"]
        oms_ms, raw_ms = _place_during(stack, raw, count, start, seconds, placements)
        time.sleep(max(0.0, start + seconds - time.time()))
        end = time.time()
        oms_weight = stream_state.snapshot(account.pk, "spot")["sync_weight"] - before
        live = stream_state.is_live(account.pk, "spot")
    minutes = (end - start) / 60
    by_kind: dict[str, int] = {}
    other: dict[str, int] = {}
    for row in _key_rows(stack, start, end):
        kind = _request_kind(row)
        if kind:
            by_kind[kind] = by_kind.get(kind, 0) + 1
        elif row.get("method") == "GET":
            other[row["path"]] = other.get(row["path"], 0) + 1
    audit_weight = sum(WEIGHT[kind] * n for kind, n in by_kind.items())
    balance_weight = BALANCE_WEIGHT * other.get(BALANCE_PATH, 0)
    created = [c.timestamp() for c in Order.objects.filter(account=account).values_list("created_at", flat=True)]
    poll_weight = POLL_WEIGHT * sum(_polls_in(c, start, end) for c in created)
    steady = POLL_WEIGHT * len(created)  # every order older than 10 min: one poll a minute

    def per_min(weight: float) -> dict:
        return {"weight_per_min": round(weight / minutes, 1), "share": round(weight / minutes / limit_per_min, 4)}

    sync = {"oms": per_min(audit_weight), "raw": per_min(poll_weight), "oms_reported": per_min(oms_weight),
            "ratio": round(audit_weight / poll_weight, 4) if poll_weight else None,
            "orders": len(created), "window_s": round(end - start, 1), "setup_s": round(setup_s / 1000, 1),
            "settle_s": round(settle_s, 1), "setup_balance_syncs": setup_syncs,
            "limit_per_min": limit_per_min, "requests": by_kind, "other_gets": other, "live_at_end": live,
            "balance_sync": per_min(balance_weight),
            "note": (f"{len(created):,} orders, {end - start:.0f} s; OMS's own count {oms_weight / minutes:.0f}/min; "
                     f"{', '.join(f'{n} {k}' for k, n in sorted(by_kind.items()))}; per-order polling of orders "
                     f"older than 10 min: {steady:,}/min ({steady / limit_per_min:.0%}); balance syncs besides: "
                     f"{other.get(BALANCE_PATH, 0)} GET account, {balance_weight / minutes:.0f}/min "
                     f"({balance_weight / minutes / limit_per_min:.1%}); setup {setup_s / 1000:.0f} s + {settle_s:.0f} s "
                     f"for its {setup_syncs} balance syncs to drain")}
    place = {"oms": summary(oms_ms), "raw": summary(raw_ms)}
    place.update(compare(place["oms"], place["raw"]))
    quiet = summary(quiet_oms)
    place["quiet"] = {"oms": quiet, "raw": summary(quiet_raw)}
    place["note"] = (f"{placements} spread over the window, each beside ccxt; the same before the orders rested: "
                     f"{quiet['p50_ms']:.1f} / {quiet['p99_ms']:.1f} ms (ccxt {place['quiet']['raw']['p50_ms']:.1f} / "
                     f"{place['quiet']['raw']['p99_ms']:.1f})")
    if reference and "oms" in reference:
        place["note"] += f"; scenario 1: {reference['oms']['p50_ms']:.1f} / {reference['oms']['p99_ms']:.1f} ms"
    return {"_many": True, "9 sync cost": sync, "9 place during sync": place}
