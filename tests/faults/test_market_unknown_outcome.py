"""A MARKET order fills at once on the venue, but its answer is lost (dropped, -1007 or a 503 "Unknown error").

Binance accepts a reused client order id once the first order is no longer open, so a re-sent MARKET order
would be a second order: the OMS must look the first one up instead. Checked against the venue's audit."""
from __future__ import annotations

from decimal import Decimal

import pytest

from orders import services
from orders.models import Order, Status
from tests.fixtures.venue_audit import posts_of
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal

LOST_ANSWERS = {
    "dropped": {"drop_response_count": 1},
    "-1007": {"error_count": 1, "error_kind": "timeout", "error_delay_ms": 50},
    "503 unknown": {"error_count": 1, "error_kind": "unknown"},
}


@pytest.mark.parametrize("fault", list(LOST_ANSWERS))
def test_a_market_order_whose_answer_is_lost_is_sent_once_and_ends_filled_with_its_fills(fault, polling_only, venue,
                                                                                        venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(endpoints=["POST /api/v3/order"], **LOST_ANSWERS[fault])

    order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.01"),
                                 order_type="MARKET")
    order = wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).first(), timeout=20,
                       what="FILLED")

    posts = posts_of(venue, order.id)
    assert len(posts) == 1, posts  # at most one POST per client order id
    assert posts[0]["outcome"].startswith("fault:")
    assert sum(venue.control.fault_counts().values()) >= 1

    on_venue = venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order.id})
    assert on_venue["status"] == "closed" and order.exchange_order_id == on_venue["id"]
    trades = venue_view.fetch_my_trades("BTC/USDT", None, None, {"orderId": order.exchange_order_id})
    fills = list(order.fills.all())
    assert sorted(f.trade_id for f in fills) == sorted(t["id"] for t in trades) and trades
    assert order.filled_quantity == D("0.01") == sum(f.quantity for f in fills) == D(on_venue["info"]["executedQty"])
    # Nothing else of ours reached the venue as an order.
    assert {r["client_order_id"] for r in venue.control.audit() if r["method"] == "POST"
            and r["path"] == "/api/v3/order"} == {order.id}
