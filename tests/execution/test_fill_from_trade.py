"""A ccxt trade becomes a Fill in one place (execution.venue_orders.fill_from_trade), for the worker and for
reconciliation. Reconciliation had its own copy, which required the trade's own timestamp (a TypeError on a
trade without one, where the worker dates it by its order report)."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from exchanges.results import venue_order, venue_trade
from execution import venue_orders
from orders.models import Fill
from tests import factories


def test_a_trade_without_time_or_fee_is_dated_by_its_order_report_and_fee_free(account, btcusdt):
    order = factories.order_place(account)
    report = venue_order({"lastTradeTimestamp": 1_700_000_000_000, "timestamp": 1_600_000_000_000})
    trade = venue_trade({"id": 77, "price": "20000", "amount": "0.004", "fee": None, "timestamp": None,
                         "takerOrMaker": "maker"})

    venue_orders.fill_from_trade(order, trade, report, source="reconcile")

    fill = Fill.objects.get(order=order)
    assert (fill.trade_id, fill.price, fill.quantity, fill.fee, fill.fee_asset, fill.is_maker, fill.executed_at) == (
        "77", Decimal("20000"), Decimal("0.004"), Decimal(0), "", True, datetime.fromtimestamp(1_700_000_000, tz=UTC))
    assert order.events.filter(kind="FILL", source="reconcile").exists()

