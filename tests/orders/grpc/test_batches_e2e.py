"""PlaceOrders end to end: a real gRPC server and worker, ccxt over HTTP to the local venue. Of a batch of 50, the
45 valid orders are placed and filled on the venue, once each; the 5 refused never reach it."""
from decimal import Decimal

import pytest

from clients.python.oms_client import OMSClient
from orders.models import Fill, Order
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

REFUSED = {  # index -> the field its refusal names
    4: "quantity", 13: "price", 21: "symbol", 33: "side", 49: "quantity",
}


def order(index: int) -> dict:
    base = {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001", "order_type": "MARKET",
            "client_order_id": f"e2e-{index}"}
    return {4: {**base, "quantity": "0"}, 13: {**base, "order_type": "LIMIT", "price": "0.001"},
            21: {**base, "symbol": "NOPEUSDT"}, 33: {**base, "side": "BOTH"},
            49: {**base, "quantity": "0.0000001"}}.get(index, base)


def test_a_batch_of_50_with_5_refused_fills_the_45_on_the_venue_once_each(grpc_server, venue, venue_account, venue_view,
                                                                           settings):
    settings.OMS_PLACE_WAIT_SECONDS = 10
    venue.control.set_price("BTCUSDT", 100000, freeze=True)

    with OMSClient(grpc_server, timeout=30) as client:
        result = client.place_orders([order(i) for i in range(50)])

    assert (result["accepted"], result["refused"]) == (45, 5)
    assert {r["index"]: r["error"]["field"] for r in result["results"] if not r["ok"]} == REFUSED
    placed = {r["index"]: r["order"]["order_id"] for r in result["results"] if r["ok"]}
    wait_until(lambda: Order.objects.filter(status="FILLED").count() == 45, timeout=60, what="45 orders FILLED")
    assert Order.objects.count() == 45
    for index, order_id in placed.items():
        on_venue = venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order_id})
        assert on_venue["status"] == "closed" and Decimal(on_venue["info"]["executedQty"]) == Decimal("0.001")
        filled = Order.objects.get(pk=order_id)
        assert filled.client_order_id == f"e2e-{index}" and filled.exchange_order_id == on_venue["id"]
        assert sum(f.quantity for f in Fill.objects.filter(order=filled)) == Decimal("0.001")
    sends = [row for row in venue.control.audit() if row["method"] == "POST" and row["path"] == "/api/v3/order"]
    assert sorted(row["client_order_id"] for row in sends) == sorted(placed.values())  # each sent once, no other
