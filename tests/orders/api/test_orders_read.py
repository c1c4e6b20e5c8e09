"""GET /api/v1/orders/: scoping, filters, search, ordering, cursor pagination, and one order with its history."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import services as order_services
from orders.api.serializers import OrderSerializer
from orders.models import Order
from tests import factories
from tests.orders.api.conftest import error_of, order_acked, order_filled

URL = "/api/v1/orders/"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [o["id"] for o in response.json()["results"]]


def test_list_shows_only_the_callers_accounts_newest_first(client_a, acct_a, acct_b):
    mine = [factories.order_place(acct_a, price=Decimal(20000 + i)) for i in range(3)]
    factories.order_place(acct_b)

    assert ids(client_a.get(URL)) == [o.id for o in reversed(mine)]


def test_order_fields_are_exact_decimal_strings(client_a, acct_a):
    order = factories.order_place(acct_a, quantity=Decimal("0.015"), price=Decimal("20000.5"))

    row = client_a.get(URL).json()["results"][0]

    assert row["id"] == order.id
    assert (row["account"], row["symbol"], row["side"], row["status"]) == ("acct-a", "BTCUSDT", "BUY", "PENDING_NEW")
    assert (row["quantity"], row["price"], row["filled_quantity"], row["remaining_quantity"]) == (
        "0.015", "20000.5", "0", "0.015")


def test_list_rows_render_exactly_as_the_order_serializer(client_a, acct_a):
    """The list renders values() rows (serializers.order_rows): each must equal OrderSerializer's rendering of
    the same order, nulls, derived and decimal fields included."""
    pending = factories.order_place(acct_a, price=Decimal("20000.5"), client_order_id="mine-1")
    market = factories.order_place(acct_a, order_type="MARKET", price=None, quantity=Decimal("0.015"))
    acked = order_acked(acct_a)
    filled = order_filled(acct_a, trade_id="t-all", price="19999.99")
    partial = order_acked(acct_a, quantity=Decimal("0.02"))
    order_services.fill_record(order_id=partial.id, trade_id="t-half", price=Decimal("20000"), quantity=Decimal("0.005"),
                               fee=Decimal("0.001"), fee_asset="BNB", is_maker=False, executed_at=timezone.now())
    Order.objects.filter(pk=filled.pk).update(submitted_at=timezone.now(), reason="a reason")
    Order.objects.filter(pk=acked.pk).update(leverage=3)  # as a futures order keeps it

    rows = client_a.get(URL).json()["results"]

    expected = OrderSerializer(Order.objects.select_related("account").order_by("-created_at", "-id"), many=True).data
    assert rows == json.loads(json.dumps(expected))
    by_id = {row["id"]: row for row in rows}
    assert (by_id[market.id]["price"], by_id[market.id]["average_price"]) == (None, None)
    assert by_id[pending.id]["client_order_id"] == "mine-1"
    assert (by_id[partial.id]["status"], by_id[partial.id]["remaining_quantity"]) == ("PARTIALLY_FILLED", "0.015")
    assert by_id[filled.id]["submitted_at"].endswith("Z") and by_id[filled.id]["reason"] == "a reason"
    assert by_id[acked.id]["leverage"] == 3 and by_id[acked.id]["exchange_order_id"]


def test_filters_status_open_side_symbol_account_market_exchange(client_a, acct_a, alice):
    factories.instrument_create(symbol="ETHUSDT", tick_size="0.01", step_size="0.0001")
    other = factories.account_create(name="acct-a2", member=alice)
    working = order_acked(acct_a)
    filled = order_filled(acct_a, trade_id="t1")
    sell = factories.order_place(acct_a, side="SELL", price=Decimal("90000"))
    eth = factories.order_place(acct_a, symbol="ETHUSDT", price=Decimal("1000"))
    elsewhere = factories.order_place(other)

    assert set(ids(client_a.get(URL, {"status": "OPEN"}))) == {working.id, sell.id, eth.id, elsewhere.id}
    assert ids(client_a.get(URL, {"status": "FILLED"})) == [filled.id]
    assert ids(client_a.get(URL, {"status": "NEW"})) == [working.id]
    assert ids(client_a.get(URL, {"side": "SELL"})) == [sell.id]
    assert ids(client_a.get(URL, {"symbol": "ethusdt"})) == [eth.id]
    assert ids(client_a.get(URL, {"account": "acct-a2"})) == [elsewhere.id]
    assert len(ids(client_a.get(URL, {"market": "spot", "exchange": "binance"}))) == 5
    assert ids(client_a.get(URL, {"market": "futures"})) == []


def test_symbol_filter_takes_any_spelling_and_matches_the_stored_symbol_exactly(client_a, acct_a):
    factories.instrument_create(symbol="ETHUSDT", tick_size="0.01", step_size="0.0001")
    eth = factories.order_place(acct_a, symbol="ETHUSDT", price=Decimal("1000"))
    factories.order_place(acct_a)

    with CaptureQueriesContext(connection) as queries:
        found = ids(client_a.get(URL, {"symbol": "eth/usdt"}))

    assert found == [eth.id]
    # an exact match on the normalized symbol, which the (account, symbol, created_at) index serves
    order_queries = [q["sql"] for q in queries.captured_queries if 'FROM "orders_order"' in q["sql"]]
    assert order_queries and not any("UPPER(" in sql for sql in order_queries)


def test_filter_by_created_range(client_a, acct_a):
    old = factories.order_place(acct_a)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    new = factories.order_place(acct_a, price=Decimal("20001"))
    cut = (timezone.now() - timedelta(days=1)).isoformat()

    assert ids(client_a.get(URL, {"created_after": cut})) == [new.id]
    assert ids(client_a.get(URL, {"created_before": cut})) == [old.id]


def test_bad_filter_value_is_a_400_naming_the_field(client_a, acct_a):
    response = client_a.get(URL, {"status": "BOGUS"})

    assert response.status_code == 400
    assert error_of(response)["field"] == "status"


def test_search_by_order_client_and_exchange_id(client_a, acct_a):
    target = order_acked(acct_a, client_order_id="bot-7")
    factories.order_place(acct_a, price=Decimal("20001"))

    for term in (target.id, "bot-7", target.exchange_order_id):
        assert ids(client_a.get(URL, {"search": term})) == [target.id]
    assert ids(client_a.get(URL, {"search": "bot"})) == []  # exact ids only


def test_cursor_pagination_walks_every_order_once(client_a, acct_a):
    placed = [factories.order_place(acct_a, price=Decimal(20000 + i)).id for i in range(5)]

    seen, url = [], URL + "?page_size=2"
    while url:
        page = client_a.get(url).json()
        assert len(page["results"]) <= 2
        seen += [o["id"] for o in page["results"]]
        url = page["next"]

    assert seen == list(reversed(placed))


def test_orders_created_at_the_same_instant_page_newest_id_first(client_a, acct_a):
    """Ties on created_at are broken by id, as ListOrders does: every page boundary is exact."""
    placed = [factories.order_place(acct_a, price=Decimal(20000 + i)).id for i in range(5)]
    Order.objects.filter(pk__in=placed).update(created_at=timezone.now())

    seen, url = [], URL + "?page_size=2"
    while url:
        page = client_a.get(url).json()
        seen += [o["id"] for o in page["results"]]
        url = page["next"]

    assert seen == sorted(placed, reverse=True)


def test_account_filter_compares_the_account_id_not_a_join_on_its_name(client_a, acct_a, alice):
    other = factories.account_create(name="acct-a2", member=alice)
    mine, elsewhere = factories.order_place(acct_a), factories.order_place(other)

    with CaptureQueriesContext(connection) as queries:
        found = ids(client_a.get(URL, {"account": "acct-a"}))

    assert found == [mine.id] and elsewhere.id not in found
    # a constant id lets PostgreSQL read the (account, status, created_at) index in order and stop at the page
    page_sql = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "orders_order"')]
    assert len(page_sql) == 1 and re.search(r'"orders_order"\."account_id" = \d+\)', page_sql[0])
    assert '"accounts_account"."name" =' not in page_sql[0]


def test_an_account_filter_the_caller_may_not_see_is_404_as_on_grpc(client_a, acct_a, acct_b):
    """One rule (orders.selectors.order_filter / accounts.selectors.account_get) for every list: a foreign
    account is reported exactly like a missing one, naming the query parameter; it used to be an empty page on
    REST and NOT_FOUND on gRPC."""
    factories.order_place(acct_b)
    for url in (URL, "/api/v1/fills/", "/api/v1/balances/", "/api/v1/positions/"):
        for name in ("acct-b", "no-such-desk"):
            response = client_a.get(url, {"account": name})
            assert response.status_code == 404, (url, response.content)
            assert error_of(response) == {"code": "not_found", "message": f"account '{name}' not found",
                                          "field": "account"}


def test_ordering_oldest_first(client_a, acct_a):
    placed = [factories.order_place(acct_a, price=Decimal(20000 + i)).id for i in range(3)]

    assert ids(client_a.get(URL, {"ordering": "created_at"})) == placed


def test_one_order_with_fills_and_event_history(client_a, acct_a):
    order = order_filled(acct_a, trade_id="t-42", price="20000")

    body = client_a.get(f"{URL}{order.id}/").json()

    assert body["status"] == "FILLED"
    assert [f["trade_id"] for f in body["fills"]] == ["t-42"]
    assert body["fills"][0]["price"] == "20000" and body["fills"][0]["fee"] == "0.02"
    assert [e["to_status"] for e in body["events"]][:2] == ["PENDING_NEW", "NEW"]
    assert body["events"][-1]["to_status"] == "FILLED"
    assert [e["sequence"] for e in body["events"]] == sorted(e["sequence"] for e in body["events"])


def test_another_accounts_order_is_404_and_never_listed(client_a, acct_a, acct_b):
    theirs = factories.order_place(acct_b)

    response = client_a.get(f"{URL}{theirs.id}/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert theirs.id not in response.content.decode()
    assert ids(client_a.get(URL, {"search": theirs.id})) == []
    assert client_a.get(URL, {"account": "acct-b"}).status_code == 404


def test_unauthenticated_is_401_in_the_error_shape(db):
    from rest_framework.test import APIClient

    response = APIClient().get(URL)

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer oms_not-a-real-token")

    response = client.get(URL)

    assert response.status_code == 401
    assert "unknown or revoked" in error_of(response)["message"]


def test_session_auth_works_for_the_browsable_api(client, alice, acct_a):
    order = factories.order_place(acct_a)
    client.force_login(alice)

    assert client.get(URL).json()["results"][0]["id"] == order.id
