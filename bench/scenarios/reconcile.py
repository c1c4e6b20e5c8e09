"""Scenario 7: reconciliation of an account with W working orders, ledger and venue agreeing.

The orders are placed on the venue with ccxt (their client order ids are ledger order ids) and written
to the ledger in bulk as NEW, as the worker would have left them; then one reconciliation pass of the
account's spot market is timed. Baseline: fetching the same open orders from the venue with ccxt."""
from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from bench.stack import Stack
from bench.stats import timed

ACCOUNT, KEY = "recon", "bench-recon-key"
SYMBOLS = ("BTC/USDT", "ETH/USDT")
PRICES = {"BTC/USDT": Decimal("50000"), "ETH/USDT": Decimal("1000")}
QUANTITY = {"BTC/USDT": Decimal("0.001"), "ETH/USDT": Decimal("0.01")}


def _venue_orders(stack: Stack, secret: str, count: int) -> list[tuple[str, str, str]]:
    """(order id, ccxt symbol, exchange order id) of `count` resting orders placed on the venue."""
    from exchanges.simulator.testing import ccxt_client
    from orders.models import new_order_id

    wanted = [(new_order_id(), SYMBOLS[i % len(SYMBOLS)], i) for i in range(count)]

    def place(chunk):
        exchange = ccxt_client(stack.venue_url, KEY, secret)
        exchange.load_markets()
        out = []
        for order_id, symbol, i in chunk:
            price = PRICES[symbol] - i % 500  # spread over price levels, as a real book is
            vo = exchange.create_order(symbol, "limit", "buy", str(QUANTITY[symbol]), str(price),
                                       {"clientOrderId": order_id})
            out.append((order_id, symbol, str(vo["id"]), price))
        return out

    with ThreadPoolExecutor(4) as pool:
        return [row for chunk in pool.map(place, [wanted[i::4] for i in range(4)]) for row in chunk]


def run(stack: Stack, count: int) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from accounts import services as account_services
    from exchanges.markets import sync_markets
    from exchanges.simulator.testing import ccxt_client
    from execution import reconcile, venue_orders
    from orders.models import Order, Status

    secret = secrets.token_urlsafe(16)
    stack.control.add_key(KEY, secret)
    stack.control.fund(KEY, "spot", "USDT", 10**9)
    account = account_services.account_create(name=ACCOUNT, exchange="binance", base_url=stack.venue_url)
    account_services.credential_set(account=ACCOUNT, api_key=KEY, secret=secret)
    sync_markets(account)
    venue_orders.account_sync(account.pk)
    placed = _venue_orders(stack, secret, count)
    settled = timezone.now() - timedelta(seconds=settings.OMS_RECONCILE_SETTLE_SECONDS + 60)
    Order.objects.bulk_create([
        Order(id=order_id, account=account, exchange="binance", market="spot", symbol=symbol.replace("/", ""),
              side="BUY", order_type="LIMIT", time_in_force="GTC", quantity=QUANTITY[symbol], price=price,
              status=Status.NEW, version=2, exchange_order_id=exchange_id, submitted_at=settled)
        for order_id, symbol, exchange_id, price in placed], batch_size=2000)
    Order.objects.filter(account=account).update(created_at=settled, updated_at=settled)
    venue_orders.account_sync(account.pk)  # the resting orders lock funds: the ledger's balances follow

    raw = ccxt_client(stack.venue_url, KEY, secret)
    raw.load_markets()
    raw_s = timed(lambda: [raw.fetch_open_orders(symbol) for symbol in SYMBOLS])[0] / 1000
    oms_s, run = timed(lambda: reconcile.reconcile_one(account, "spot"))
    oms_s /= 1000
    return {"oms": {"wall_s": round(oms_s, 3)}, "raw": {"wall_s": round(raw_s, 3)},
            "ratio": round(oms_s / raw_s, 2) if raw_s else None,
            "outcome": run.outcome, "drift": run.drift_count, "run_error": run.error or None,
            "note": f"{count:,} working orders; outcome {run.outcome}, {run.drift_count} drift"}
