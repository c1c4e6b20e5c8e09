"""Every list of the admin, and the overview, costs the same SQL statements for one row as for many (nothing is looked
up per row), counts at most 1,001 rows, and finds rows of an order by any of the order's ids with index look-ups."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import Balance, Position
from oms_project import admin_overview
from orders.models import FundingPayment
from orders.models_reconcile import Drift, ReconciliationRun
from tests import factories
from tests.admin.test_admin_lists import count_queries
from tests.admin.test_admin_overview import OVERVIEW, row_of
from tests.orders.api.conftest import order_acked, order_filled

LISTS = ["/admin/orders/order/", "/admin/orders/fill/", "/admin/orders/orderevent/", "/admin/orders/fundingpayment/",
         "/admin/orders/reconciliationrun/", "/admin/orders/drift/", "/admin/accounts/balance/",
         "/admin/accounts/position/", "/admin/accounts/controlchange/"]


@pytest.fixture
def account(db):
    factories.instrument_create()
    factories.instrument_create(market="futures")
    return factories.account_create(name="main")


def ledger_rows(account, count: int, start: int) -> None:
    """`count` rows of every list: filled orders (with their events and fills), reconciliation runs with a drift,
    funding payments, control changes, balances and positions."""
    for n in range(start, start + count):
        order = order_filled(account, trade_id=f"t-{n}", price=str(20000 + n))
        run = ReconciliationRun.objects.create(account=account, market="spot", outcome=ReconciliationRun.Outcome.DRIFT,
                                               drift_count=1)
        Drift.objects.create(run=run, kind=Drift.Kind.ORDER_CLOSED, symbol="BTCUSDT", reference=order.pk, order=order)
        FundingPayment.objects.create(account=account, symbol="BTCUSDT", venue_id=f"f-{n}", asset="USDT",
                                      amount=Decimal("-0.01"), paid_at=datetime.now(UTC))
        for enabled in (False, True):
            account_services.account_set_enabled(account=account.name, enabled=enabled, reason="drill")
        Balance.objects.create(account=account, market="spot", asset=f"A{n}", free=Decimal("1.5"))
        Position.objects.create(account=account, symbol="BTCUSDT" if n == 0 else f"X{n}USDT", side="LONG",
                                size=Decimal("0.5"), entry_price=Decimal("20000"), mark_price=Decimal("20100"))


def statements(client, path: str) -> list[dict]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return ctx.captured_queries


def rows_listed(client, path: str) -> int:
    return len(client.get(path).context["cl"].result_list)


def shapes(queries: list[dict]) -> list[str]:
    """Each statement's first words, to show which one a page added."""
    return [" ".join(q["sql"].split()[:8]) for q in queries]


@pytest.mark.parametrize("path", LISTS)
def test_a_list_costs_the_same_statements_for_one_row_as_for_five(path, admin_as, account):
    client = admin_as(factories.user_create(superuser=True))
    ledger_rows(account, 1, start=0)
    one, listed = statements(client, path), rows_listed(client, path)
    ledger_rows(account, 4, start=1)

    five = statements(client, path)

    assert rows_listed(client, path) >= listed + 4  # the page shows the new rows: each one is rendered
    assert len(five) == len(one), shapes(five)
    assert all("LIMIT 1001" in sql for sql in count_queries(five)), count_queries(five)  # never a whole table


def test_the_overview_costs_the_same_statements_for_one_account_as_for_three(admin_as, viewer, account):
    client = admin_as(viewer)
    order_acked(account)
    ReconciliationRun.objects.create(account=account, market="spot", outcome=ReconciliationRun.Outcome.AGREE)
    statements(client, OVERVIEW)  # the first render creates the trading switch's row
    one = statements(client, OVERVIEW)
    for name in ("desk-a", "desk-b"):
        other = factories.account_create(name=name)
        order_acked(other)
        ReconciliationRun.objects.create(account=other, market="futures", outcome=ReconciliationRun.Outcome.AGREE)

    three = statements(client, OVERVIEW)

    assert len(three) == len(one), shapes(three)
    assert not [q for q in three if "DISTINCT ON" in q["sql"]]  # the latest runs are read from the top of an index


def test_the_overview_counts_open_orders_up_to_the_cap(admin_as, viewer, account, monkeypatch):
    monkeypatch.setattr(admin_overview, "OPEN_COUNT_CAP", 2)
    for n in range(3):
        order_acked(account, price=Decimal(20000 + n))

    row = row_of(admin_as(viewer).get(OVERVIEW).content.decode(), "main", "spot")

    assert '">more than 2</a>' in row


@pytest.mark.parametrize("attr", ["id", "client_order_id", "exchange_order_id"])
def test_fills_and_events_are_found_by_any_id_of_their_order(attr, admin_as, viewer, account):
    target = order_filled(account, trade_id="t-target", client_order_id="bot-7")
    other = order_filled(account, trade_id="t-other", price="20001")
    client = admin_as(viewer)

    fills = client.get("/admin/orders/fill/", {"q": getattr(target, attr)}).context["cl"].result_list
    events = client.get("/admin/orders/orderevent/", {"q": getattr(target, attr)}).context["cl"].result_list

    assert [f.trade_id for f in fills] == ["t-target"]
    assert {e.order_id for e in events} == {target.pk} and len(events) == target.version
    by_trade = client.get("/admin/orders/fill/", {"q": "t-other"}).context["cl"].result_list
    assert [f.order_id for f in by_trade] == [other.pk]


def test_fills_are_listed_newest_first(admin_as, viewer, account):
    first = order_filled(account, trade_id="t-1")
    second = order_filled(account, trade_id="t-2", price="20001")

    listed = admin_as(viewer).get("/admin/orders/fill/").context["cl"].result_list

    assert [f.order_id for f in listed] == [second.pk, first.pk]


def test_reconciliation_runs_filter_by_utc_dates(admin_as, viewer, account):
    old = ReconciliationRun.objects.create(account=account, market="spot", outcome=ReconciliationRun.Outcome.AGREE)
    ReconciliationRun.objects.filter(pk=old.pk).update(started_at=datetime(2026, 1, 5, 12, tzinfo=UTC))
    new = ReconciliationRun.objects.create(account=account, market="spot", outcome=ReconciliationRun.Outcome.AGREE)
    client = admin_as(viewer)

    on_the_day = client.get("/admin/orders/reconciliationrun/", {"started_at__gte": "2026-01-05",
                                                                  "started_at__lt": "2026-01-05"}).context["cl"]
    every = client.get("/admin/orders/reconciliationrun/").context["cl"].result_list

    assert [r.pk for r in on_the_day.result_list] == [old.pk]
    assert [r.pk for r in every] == [new.pk, old.pk]  # the latest first
