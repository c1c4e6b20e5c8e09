"""AmendOrder end to end through the Python SDK: a real gRPC server and worker, ccxt over HTTP to the local venue."""
from decimal import Decimal

import grpc
import pytest

from clients.python.oms_client import OMSClient
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]


def test_amend_order_answers_the_amended_order_and_refusals_name_the_field(grpc_server, venue, venue_account,
                                                                           venue_view, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 10
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)

    with OMSClient(grpc_server, timeout=30) as client:
        placed = client.place_order("BTCUSDT", "BUY", "0.01", price="99000", market="futures")
        wait_until(lambda: client.get_order(placed["order_id"])["status"] == "NEW", what="NEW")
        answer = client.amend_order(placed["order_id"], price=Decimal("99100"), quantity="0.02")
        with pytest.raises(grpc.RpcError) as bad_tick:
            client.amend_order(placed["order_id"], price="99100.05")

    assert answer["amend_pending"] is False
    order = answer["order"]
    assert order["order_id"] == placed["order_id"] and order["status"] == "NEW"
    assert order["price_decimal"] == Decimal("99100") and order["quantity_decimal"] == Decimal("0.02")
    on_venue = venue_view.fetch_order(order["exchange_order_id"], "BTC/USDT:USDT")
    assert on_venue["price"] == 99100 and on_venue["amount"] == 0.02
    assert bad_tick.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "tick size" in bad_tick.value.details()
