"""PlaceOrders end to end: a real gRPC server and worker, ccxt over HTTP to the local venue. Of a batch of 50, the
45 valid orders are placed and filled on the venue, once each (USD-M's five to a batchOrders request); the 5
refused never reach it."""
from decimal import Decimal

import pytest

from clients.python.oms_client import OMSClient
from orders.models import Fill, Order
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

REFUSED = {  # index -> the field its refusal names
    4: "quantity", 13: "price", 21: "symbol", 33: "side", 49: "quantity",
}
QUANTITY = {"spot": "0.001", "futures": "0.01"}


def order(index: int, market: str) -> dict:
    base = {"symbol": "BTCUSDT", "side": "BUY", "quantity": QUANTITY[market], "order_type": "MARKET", "market": market,
            "client_order_id": f"e2e-{index}"}
    return {4: {**base, "quantity": "0"}, 13: {**base, "order_type": "LIMIT", "price": "0.001"},
            21: {**base, "symbol": "NOPEUSDT"}, 33: {**base, "side": "BOTH"},
            49: {**base, "quantity": "0.0000001"}}.get(index, base)


def venue_requests(venue, method: str, path: str) -> list[dict]:
    return [row for row in venue.control.audit() if row["method"] == method and row["path"] == path]


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_a_batch_of_50_with_5_refused_fills_the_45_on_the_venue_once_each(grpc_server, venue, venue_account, settings,
                                                                           market):
    settings.OMS_PLACE_WAIT_SECONDS = 10
    venue.control.set_price("BTCUSDT", 100000, market=market, freeze=True)

    with OMSClient(grpc_server, timeout=30) as client:
        result = client.place_orders([order(i, market) for i in range(50)])

    assert (result["accepted"], result["refused"]) == (45, 5)
    assert {r["index"]: r["error"]["field"] for r in result["results"] if not r["ok"]} == REFUSED
    placed = {r["index"]: r["order"]["order_id"] for r in result["results"] if r["ok"]}
    wait_until(lambda: Order.objects.filter(status="FILLED").count() == 45, timeout=60, what="45 orders FILLED")
    assert Order.objects.count() == 45
    on_venue: dict[str, list[dict]] = {}
    for row in venue.control.records(venue.api_key, market=market)["orders"]:
        on_venue.setdefault(row["client_order_id"], []).append(row)
    assert sorted(on_venue) == sorted(placed.values())  # nothing else reached the venue
    for index, order_id in placed.items():
        [row] = on_venue[order_id]  # sent once
        filled = Order.objects.get(pk=order_id)
        assert row["status"] == "FILLED" and Decimal(row["executed_qty"]) == Decimal(QUANTITY[market])
        assert filled.client_order_id == f"e2e-{index}" and filled.exchange_order_id == str(row["order_id"])
        assert sum(f.quantity for f in Fill.objects.filter(order=filled)) == Decimal(QUANTITY[market])
    if market == "futures":
        assert len(venue_requests(venue, "POST", "/fapi/v1/batchOrders")) == 9  # 45 orders, five a request
        assert venue_requests(venue, "POST", "/fapi/v1/order") == []
    else:
        assert len(venue_requests(venue, "POST", "/api/v3/order")) == 45
