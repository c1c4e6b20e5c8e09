"""Scenarios 1-3: placing and cancelling resting limit orders through the OMS (Python SDK over gRPC)
against the same calls made straight to the venue with ccxt, in the same run, on the same venue key.

OMS and raw calls alternate one by one (latency) so both see the same background load."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

from bench import cpu
from bench.stack import Stack
from bench.stats import compare, summary, timed

SYMBOL, CCXT_SYMBOL = "BTCUSDT", "BTC/USDT"
QUANTITY = Decimal("0.001")
# Far below the market (~115,000): the orders rest, and each scenario keeps to its own price level.
PRICE = {"latency": Decimal("60000"), "throughput": Decimal("61000"), "warmup": Decimal("59000")}


def _sdk(stack: Stack):
    from clients.python.oms_client import OMSClient

    return OMSClient(stack.grpc_address, timeout=30)


def _oms_place(client, price: Decimal) -> dict:
    result = client.place_order(symbol=SYMBOL, side="BUY", quantity=QUANTITY, price=price)
    if result["status"] != "NEW":
        raise RuntimeError(f"OMS placement came back {result['status']} ({result.get('reason')}), not NEW")
    return result


def _raw_place(exchange, price: Decimal) -> dict:
    return exchange.create_order(CCXT_SYMBOL, "limit", "buy", str(QUANTITY), str(price))


def _oms_cancel(client, order_id: str) -> None:
    result = client.cancel_order(order_id)
    if result["status"] != "CANCELLED":
        raise RuntimeError(f"OMS cancel came back {result['status']}, not CANCELLED")


def warm_up(stack: Stack, n: int) -> None:
    """Connections, gateways, markets and code paths on every side are hot before anything is timed."""
    raw = stack.raw_client()
    with _sdk(stack) as client:
        for _ in range(n):
            _oms_cancel(client, _oms_place(client, PRICE["warmup"])["order_id"])
            raw.cancel_order(_raw_place(raw, PRICE["warmup"])["id"], CCXT_SYMBOL)


def latency(stack: Stack, n: int) -> tuple[dict, dict]:
    """Scenarios 1 and 3: N sequential placements of each kind, then N cancels of each (the same orders)."""
    raw = stack.raw_client()
    oms_place, raw_place, oms_ids, raw_ids = [], [], [], []
    with _sdk(stack) as client:
        for _ in range(n):
            ms, result = timed(lambda: _oms_place(client, PRICE["latency"]))
            oms_place.append(ms)
            oms_ids.append(result["order_id"])
            ms, result = timed(lambda: _raw_place(raw, PRICE["latency"]))
            raw_place.append(ms)
            raw_ids.append(result["id"])
        oms_cancel, raw_cancel = [], []
        for oms_id, raw_id in zip(oms_ids, raw_ids, strict=True):
            oms_cancel.append(timed(lambda oms_id=oms_id: _oms_cancel(client, oms_id))[0])
            raw_cancel.append(timed(lambda raw_id=raw_id: raw.cancel_order(raw_id, CCXT_SYMBOL))[0])
    place = {"oms": summary(oms_place), "raw": summary(raw_place)}
    cancel = {"oms": summary(oms_cancel), "raw": summary(raw_cancel)}
    place.update(compare(place["oms"], place["raw"]))
    cancel.update(compare(cancel["oms"], cancel["raw"]))
    place["cpu"], cancel["cpu"] = cpu_per_order(stack, n)
    return place, cancel


def cpu_per_order(stack: Stack, n: int) -> tuple[dict, dict]:
    """CPU per placement and per cancel of each OMS process (bench.cpu): N placements, then their N cancels, OMS
    calls only (the latency runs interleave raw ccxt orders on the same key, whose stream events the worker hears)."""
    with _sdk(stack) as client:
        with cpu.Meter(stack) as placing:
            ids = [_oms_place(client, PRICE["latency"])["order_id"] for _ in range(n)]
        with cpu.Meter(stack) as cancelling:
            for order_id in ids:
                _oms_cancel(client, order_id)
    return placing.per_order(n), cancelling.per_order(n)


def _run_clients(make, place, clients: int, seconds: float) -> tuple[int, int, float]:
    """`clients` threads, each with its own connection, placing back to back for `seconds`.
    Returns (orders acknowledged, errors, elapsed seconds)."""
    counts, errors = [0] * clients, [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def run(i: int) -> None:
        conn = make()
        try:
            start.wait()
            while time.monotonic() < stop_at[0]:
                try:
                    place(conn)
                    counts[i] += 1
                except Exception:  # noqa: BLE001 - counted and reported, the run goes on
                    errors[i] += 1
        finally:
            getattr(conn, "close", lambda: None)()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join(seconds + 60)
    return sum(counts), sum(errors), time.monotonic() - began


def throughput(stack: Stack, clients: int, seconds: float) -> dict:
    """Scenario 2: C concurrent clients for T seconds; acknowledged (NEW) orders per second, OMS vs raw."""
    price = PRICE["throughput"]
    raw_n, raw_err, raw_s = _run_clients(stack.raw_client, lambda ex: _raw_place(ex, price), clients, seconds)
    with cpu.Meter(stack) as meter:
        oms_n, oms_err, oms_s = _run_clients(lambda: _sdk(stack), lambda c: _oms_place(c, price), clients, seconds)
    raw_rate, oms_rate = raw_n / raw_s, oms_n / oms_s
    return {"clients": clients, "seconds": seconds, "cpu": meter.per_order(oms_n),
            "oms": {"orders": oms_n, "errors": oms_err, "per_s": round(oms_rate, 1)},
            "raw": {"orders": raw_n, "errors": raw_err, "per_s": round(raw_rate, 1)},
            "ratio": round(oms_rate / raw_rate, 3) if raw_rate else None}
