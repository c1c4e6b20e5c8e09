"""The admin's lists as operators read them: numbers at the instrument's step and tick (exact value in the tooltip),
times in UTC with ms, coloured statuses, how long a pending order waits, filters people reach for, CSV export of
exactly the filtered rows, and no COUNT(*) over a whole table."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.templatetags.admin_list import result_headers
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from infra.admin_base import number_text, utc_ms
from orders.models import Order
from tests import factories
from tests.orders.api.conftest import order_acked, order_filled

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def account(db):
    factories.instrument_create(symbol="ETHUSDT", tick_size="0.01", step_size="0.0001")
    factories.instrument_create()  # BTCUSDT: tick 0.01, step 0.00001
    return factories.account_create(name="main")


@pytest.mark.parametrize(("value", "increment", "shown"), [
    ("0.050000000000000000", "0.0001", "0.0500"),          # quantity at the step
    ("3000.000000000000000000", "0.01", "3,000.00"),       # price at the tick
    ("0.050000000000000000", None, "0.05"),               # no instrument: trailing zeros dropped
    ("3000.125000000000000000", "0.01", "3,000.125"),      # an average price off the tick keeps its digits
    ("3000.123456789123000000", "0.01", "3,000.12345679"),  # … up to 8 places
    ("1E+1", None, "10"),                                 # never exponent form
])
def test_numbers_are_shown_at_the_step_and_tick(value, increment, shown):
    assert number_text(Decimal(value), Decimal(increment) if increment else None) == shown


def test_times_are_utc_with_milliseconds():
    assert utc_ms(datetime(2026, 12, 7, 19, 16, 6, 123456, tzinfo=UTC)) == "2026-12-07 19:16:06.123 UTC"


def test_order_list_shows_what_operators_ask_first(admin_as, viewer, account):
    filled = order_filled(account, trade_id="t-1", symbol="ETHUSDT", quantity=Decimal("0.05"), price="3000")
    pending = factories.order_place(account, quantity=Decimal("0.01"), price=Decimal("20000"))
    Order.objects.filter(pk=pending.pk).update(created_at=pending.created_at - timedelta(seconds=75))

    response = admin_as(viewer).get(CHANGELIST)
    page = response.content.decode()

    headers = [str(h["text"]) for h in result_headers(response.context["cl"])]
    assert headers == ["time (UTC)", "account", "symbol", "side", "type", "quantity", "price", "stop price",
                                            "filled", "avg price", "status", "pending for"]
    assert 'title="0.05">0.0500</span>' in page and 'title="3000">3,000.00</span>' in page  # step, tick; exact in title
    assert "0.050000000000000000" not in page and "3000.000000000000000000" not in page
    assert re.search(r'class="oms-badge" style="background:#1a7f37">FILLED<', page)
    assert re.search(r'class="oms-bad">1 min 1\d s<', page)  # PENDING_NEW for 75 s, over the 10 s alert
    assert f'title="{utc_ms(filled.created_at)}">{utc_ms(filled.created_at)[5:-4]}<' in page


def test_pending_filter_lists_orders_pending_longer_than_ten_seconds(admin_as, viewer, account):
    old = factories.order_place(account)
    Order.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(seconds=30))
    young = factories.order_place(account, price=Decimal("20001"))
    acked = order_acked(account, price=Decimal("20002"))
    Order.objects.filter(pk=acked.pk).update(created_at=acked.created_at - timedelta(seconds=30))

    page = admin_as(viewer).get(CHANGELIST, {"pending_over": "10"}).content.decode()

    assert old.pk in page and young.pk not in page and acked.pk not in page


def test_symbol_filter_filters_even_a_symbol_the_catalog_lacks(admin_as, viewer, account):
    btc = order_acked(account)
    Order.objects.filter(pk=btc.pk).update(symbol="NOTLISTED")
    eth = order_acked(account, symbol="ETHUSDT", price=Decimal("3000"))

    listed = admin_as(viewer).get(CHANGELIST, {"symbol": "NOTLISTED"}).context["cl"].result_list

    assert [o.pk for o in listed] == [btc.pk] and eth.pk not in [o.pk for o in listed]


def test_date_range_filter_takes_utc_days(admin_as, viewer, account):
    today = factories.order_place(account)
    earlier = factories.order_place(account, price=Decimal("20001"))
    Order.objects.filter(pk=earlier.pk).update(created_at=datetime(2026, 1, 5, 23, 59, tzinfo=UTC))

    page = admin_as(viewer).get(CHANGELIST, {"created_at__gte": "2026-01-05", "created_at__lt": "2026-01-05"}).content.decode()

    assert earlier.pk in page and today.pk not in page


def csv_of(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_export_has_exactly_the_filtered_rows_with_exact_values_and_no_secret(admin_as, viewer, account):
    account_services.credential_set(account="main", api_key="KEY-VISIBLE-NEVER", secret="SECRET-NEVER")
    other = factories.account_create(name="other")
    mine = order_acked(account, symbol="ETHUSDT", quantity=Decimal("0.05"), price=Decimal("3000"))
    order_acked(other)
    filled = order_filled(account, trade_id="t-9", price="20001")
    client = admin_as(viewer)

    assert 'id="csv-export"' in client.get(CHANGELIST, {"account__id__exact": account.pk}).content.decode()
    response = client.get(CHANGELIST + "export.csv", {"account__id__exact": account.pk, "status__exact": "NEW"})

    rows = csv_of(response)
    assert [r["id"] for r in rows] == [mine.pk]
    assert (rows[0]["quantity"], rows[0]["price"], rows[0]["account__name"]) == ("0.05", "3000", "main")
    assert filled.pk not in str(rows)
    body = str(rows) + response["Content-Disposition"]
    assert "KEY-VISIBLE-NEVER" not in body and "SECRET-NEVER" not in body


@pytest.mark.parametrize("path", ["/admin/orders/fill/", "/admin/orders/orderevent/", "/admin/accounts/balance/",
                                  "/admin/accounts/position/", "/admin/accounts/controlchange/",
                                  "/admin/exchanges/instrument/"])
def test_every_ledger_list_exports_csv(path, admin_as, account):
    order_filled(account, trade_id="t-csv")
    client = admin_as(factories.user_create(superuser=True))

    assert 'id="csv-export"' in client.get(path).content.decode()
    rows = csv_of(client.get(path + "export.csv"))
    if path == "/admin/orders/fill/":
        assert [r["trade_id"] for r in rows] == ["t-csv"]
    if path == "/admin/orders/orderevent/":
        assert {r["kind"] for r in rows} >= {"PLACED", "ACCEPTED", "FILL"}
    if path == "/admin/exchanges/instrument/":
        assert {(r["symbol"], r["tick_size"], r["step_size"]) for r in rows} == {("BTCUSDT", "0.01", "0.00001"),
                                                                                   ("ETHUSDT", "0.01", "0.0001")}


def count_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize("params", [{}, {"status__exact": "NEW"}, {"q": "nothing-like-it"}, {"open": "yes"}])
def test_order_list_never_counts_a_whole_table(params, admin_as, viewer, account):
    order_acked(account)
    client = admin_as(viewer)

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(CHANGELIST, params).status_code == 200

    counts = count_queries(ctx.captured_queries)
    assert all("LIMIT 1001" in sql for sql in counts), counts  # bounded: at most 1,001 rows counted


def test_a_big_table_is_estimated_not_counted(admin_as, viewer, account):
    order_acked(account)
    with connection.cursor() as cur:  # what autovacuum would have recorded for a table of two million orders
        cur.execute("UPDATE pg_class SET reltuples = 2000000 WHERE oid = 'orders_order'::regclass")

    with CaptureQueriesContext(connection) as ctx:
        page = admin_as(viewer).get(CHANGELIST).content.decode()

    assert count_queries(ctx.captured_queries) == []
    assert "about 2,000,000 orders" in page
