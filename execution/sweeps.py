"""Sync that scales with open orders: one sweep per account and market instead of one poll per order.

A sweep asks the venue for the open orders of each symbol that has working orders in the ledger (one
request per symbol, whatever the number of orders), applies what changed, and looks up only the orders that
left the open list (their final status and every trade). While the account's user-data stream is live the
sweep is a safety net run every OMS_SYNC_SWEEP_LIVE_SECONDS; while it is down, sweeps run at the young-order
rate (every OMS_SYNC_SWEEP_MIN_SECONDS). Either way a sweep's weight never takes more than OMS_SYNC_WEIGHT_SHARE
of the account's published weight limit: the interval stretches instead, so placements and cancels keep the rest.

Orders the venue has not settled (PENDING_NEW, PENDING_CANCEL, or without an exchange id) also keep their own
per-order look-up (`orders.services.order_sync_due_claim`, `venue_orders.sync_order`), which sweeps cannot replace.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

from accounts.models import Market
from exchanges import ratelimit, stream_state
from exchanges.gateway import gateway_for
from execution import venue_orders
from infra import pubsub
from orders.models import Order, Status

log = logging.getLogger(__name__)

SWEPT_STATUSES = (Status.NEW, Status.PARTIALLY_FILLED, Status.PENDING_CANCEL)
# Binance's weight of GET openOrders with a symbol (spot /api/v3/openOrders, USD-M /fapi/v1/openOrders).
OPEN_ORDERS_WEIGHT = {Market.SPOT: 6, Market.FUTURES: 1}
# GET order (spot 4, USD-M 1), plus its trades when it filled; counted at the order's weight.
LOOKUP_WEIGHT = {Market.SPOT: 4, Market.FUTURES: 1}


@dataclass
class SweepResult:
    symbols: int = 0
    changed: int = 0
    looked_up: int = 0
    weight: float = 0


def _swept():
    """The working orders sweeps cover: acknowledged by the venue (they have its id). PENDING_CANCEL ones too:
    a sweep records their fills, while their own look-up settles the cancel."""
    return Order.objects.filter(status__in=SWEPT_STATUSES).exclude(exchange_order_id="").exclude(
        exchange_order_id__isnull=True)


def swept_orders(account_id: int, market: str):
    return _swept().filter(account_id=account_id, market=market)


def sweep_targets() -> list[tuple[int, str, int]]:
    """(account id, market, symbols with working orders) for every enabled account that has any."""
    from django.db.models import Count

    rows = (_swept().filter(account__enabled=True).order_by().values("account_id", "market")
            .annotate(symbols=Count("symbol", distinct=True)))
    return [(r["account_id"], r["market"], r["symbols"]) for r in rows]


def sweep_interval(account_id: int, market: str, symbols: int, *, live: bool) -> float:
    """Seconds between two sweeps: the mode's pace, stretched so sweeps keep to the sync share of the limit."""
    pace = settings.OMS_SYNC_SWEEP_LIVE_SECONDS if live else settings.OMS_SYNC_SWEEP_MIN_SECONDS
    weight_limit = next((lim for lim in ratelimit.published_limits(account_id, market) if lim.kind == "weight"), None)
    if weight_limit is None:
        return pace
    budget_per_second = settings.OMS_SYNC_WEIGHT_SHARE * weight_limit.capacity / weight_limit.window_seconds
    return max(pace, symbols * OPEN_ORDERS_WEIGHT.get(market, 1) / budget_per_second)


def sweep_due_claim(account_id: int, market: str, symbols: int) -> bool:
    """True for exactly one caller per interval (a Redis key that lives as long as the interval)."""
    live = stream_state.is_live(account_id, market)
    interval = sweep_interval(account_id, market, symbols, live=live)
    key = f"{settings.OMS_PUBSUB_PREFIX}:sweep:due:{account_id}:{market}"
    return bool(pubsub.client().set(key, "1", nx=True, px=max(1, int(interval * 1000))))


def sweep(account_id: int, market: str, *, reason: str = "schedule") -> SweepResult:
    """Bring the account's acknowledged working orders on one market in line with the venue."""
    result = SweepResult()
    orders = list(swept_orders(account_id, market).select_related("account"))
    if not orders:
        return result
    account = orders[0].account
    gateway = gateway_for(account)
    by_symbol: dict[str, list[Order]] = {}
    for order in orders:
        by_symbol.setdefault(order.symbol, []).append(order)
    for symbol, group in by_symbol.items():
        ccxt_symbol = venue_orders.ccxt_symbol_of(account.exchange, market, symbol)
        open_now = {vo.client_order_id or None: vo for vo in gateway.fetch_open_orders_of(symbol=ccxt_symbol, market=market)}
        by_exchange_id = {vo.id: vo for vo in open_now.values() if vo.id}
        result.symbols += 1
        result.weight += OPEN_ORDERS_WEIGHT.get(market, 1)
        for order in group:
            vo = open_now.get(order.id) or by_exchange_id.get(order.exchange_order_id)
            if vo is None:  # it left the open list: filled, cancelled or expired since we last heard
                result.looked_up += 1
                result.weight += LOOKUP_WEIGHT.get(market, 1)
                venue_orders.sync_order(order.id)
            elif venue_orders.report_differs(order, vo):
                result.changed += 1
                venue_orders.apply_venue_order(gateway, venue_orders.load(order.id), vo, symbol=ccxt_symbol,
                                               source="worker")
    stream_state.sync_weight_add(account_id, market, result.weight)
    if result.changed or result.looked_up:
        log.info("sweep of %s %s (%s): %d symbols, %d changed, %d looked up", account.name, market, reason,
                 result.symbols, result.changed, result.looked_up)
    return result

