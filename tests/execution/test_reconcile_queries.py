"""Reconciliation matches the venue's open orders to the ledger in bulk: the number of SQL statements of
the open-order comparison does not grow with the number of working orders, and the matching still
finds ledger orders by client order id and by exchange order id alone."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from execution.reconcile import AccountReconciler
from orders.models import Order, Status, new_order_id
from orders.models_reconcile import Drift

pytestmark = [pytest.mark.e2e]


def rest_on_venue_and_ledger(venue_view, account, count: int, *, client_id_is_ours: bool = True) -> list[Order]:
    """`count` resting buys placed on the venue and written to the ledger as NEW, settled a minute ago."""
    orders = []
    for i in range(count):
        order_id = new_order_id()
        client_id = order_id if client_id_is_ours else f"desk-{order_id[-8:]}"
        price = Decimal(20000 + i)
        vo = venue_view.create_order("BTC/USDT", "limit", "buy", 0.001, float(price), {"clientOrderId": client_id})
        orders.append(Order(id=order_id, account=account, exchange="binance", market="spot", symbol="BTCUSDT",
                            side="BUY", order_type="LIMIT", time_in_force="GTC", quantity=Decimal("0.001"), price=price,
                            status=Status.NEW, version=2, exchange_order_id=str(vo["id"]),
                            client_order_id=None if client_id_is_ours else client_id))
    Order.objects.bulk_create(orders)
    past = timezone.now() - timedelta(minutes=1)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(created_at=past, updated_at=past)
    return orders


def compare_open_orders(account) -> tuple[int, list]:
    reconciler = AccountReconciler(account, "spot", since=timezone.now() - timedelta(hours=1), fix=False,
                                   settle_seconds=0)
    with CaptureQueriesContext(connection) as queries:
        reconciler.compare_open_orders()
    return len(queries), reconciler.findings


def test_open_order_comparison_makes_the_same_queries_for_3_or_23_orders(venue, account_on_venue, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    rest_on_venue_and_ledger(venue_view, account_on_venue, 2)
    # Matched by exchange order id only: the venue's client order id is not a ledger order id.
    rest_on_venue_and_ledger(venue_view, account_on_venue, 1, client_id_is_ours=False)
    few, findings = compare_open_orders(account_on_venue)
    assert findings == []

    rest_on_venue_and_ledger(venue_view, account_on_venue, 18)
    rest_on_venue_and_ledger(venue_view, account_on_venue, 2, client_id_is_ours=False)
    many, findings = compare_open_orders(account_on_venue)
    assert findings == []
    assert many == few, f"{few} statements for 3 orders, {many} for 23"


def test_a_venue_order_the_ledger_lacks_is_still_found_among_matched_ones(venue, account_on_venue, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    ours = rest_on_venue_and_ledger(venue_view, account_on_venue, 3)
    stranger = venue_view.create_order("BTC/USDT", "limit", "buy", 0.001, 21000, {"clientOrderId": "manual-desk-7"})
    before = Order.objects.count()

    _, findings = compare_open_orders(account_on_venue)

    assert [(f.kind, f.reference) for f in findings] == [(Drift.Kind.ORDER_UNKNOWN, "manual-desk-7")]
    assert findings[0].venue["id"] == str(stranger["id"])
    assert Order.objects.count() == before  # reporting only: nothing adopted
    assert all(Order.objects.get(pk=o.pk).status == Status.NEW for o in ours)
