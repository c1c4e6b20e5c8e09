"""REST over the whole spine: a real worker, ccxt over HTTP to the local venue. Placement and cancellation
answer with the venue's outcome."""
from __future__ import annotations

import pytest

from accounts import services as account_services
from orders.models import Order
from tests import factories
from tests.orders.api.conftest import token_client
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def desk(venue, venue_account, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 10  # answered as soon as the worker records the venue's reply
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    user = factories.user_create(username="desk")
    account_services.member_add(account="main", user=user)
    return token_client(user)


def test_limit_below_the_market_comes_back_new_then_cancels(desk, venue):
    placed = desk.post("/api/v1/orders/", {"account": "main", "symbol": "BTCUSDT", "side": "BUY",
                                             "quantity": "0.01", "price": "90000"}, format="json",
                         HTTP_IDEMPOTENCY_KEY="e2e-1")

    assert placed.status_code == 201
    order = placed.json()
    assert order["status"] == "NEW" and order["exchange_order_id"]

    cancelled = desk.post(f"/api/v1/orders/{order['id']}/cancel/")

    assert cancelled.json()["status"] == "CANCELLED"
    assert [e["to_status"] for e in desk.get(f"/api/v1/orders/{order['id']}/").json()["events"]] == [
        "PENDING_NEW", "NEW", "PENDING_CANCEL", "CANCELLED"]
    assert len(venue.control.audit(client_order_id=order["id"])) >= 1


def test_market_order_comes_back_filled_with_its_fills(desk):
    placed = desk.post("/api/v1/orders/", {"account": "main", "symbol": "BTCUSDT", "side": "BUY",
                                             "quantity": "0.01", "order_type": "MARKET"}, format="json").json()

    assert placed["status"] == "FILLED" and placed["filled_quantity"] == "0.01"
    detail = desk.get(f"/api/v1/orders/{placed['id']}/").json()
    assert sum(float(f["quantity"]) for f in detail["fills"]) == pytest.approx(0.01)
    assert [f["trade_id"] for f in desk.get("/api/v1/fills/", {"order": placed["id"]}).json()["results"]] == [
        f["trade_id"] for f in reversed(detail["fills"])]


def test_a_batch_rests_on_the_venue_and_cancel_all_leaves_nothing_open(desk, venue_view):
    orders = [{"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001", "price": str(90000 + i)}
              for i in range(6)] + [{"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001",
                                     "price": "90000.001"}]  # off the tick: refused, never sent

    placed = desk.post("/api/v1/orders/batch/", {"orders": orders}, format="json")

    assert placed.status_code == 207, placed.content
    results = placed.json()["results"]
    assert [r["order"]["status"] for r in results[:6]] == ["NEW"] * 6
    assert results[6]["status"] == 400 and results[6]["error"]["field"] == "price"
    ids = {r["order"]["id"] for r in results[:6]}
    assert {o["clientOrderId"] for o in venue_view.fetch_open_orders("BTC/USDT")} == ids

    cancelled = desk.post("/api/v1/orders/cancel-all/", {"account": "main", "symbol": "BTCUSDT"}, format="json")

    assert {o["id"] for o in cancelled.json()["orders"]} == ids
    wait_until(lambda: Order.objects.filter(id__in=ids, status="CANCELLED").count() == 6, timeout=30,
               what="the six orders CANCELLED")
    assert venue_view.fetch_open_orders("BTC/USDT") == []
