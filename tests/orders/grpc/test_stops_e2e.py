"""Spot conditional orders end to end: a real gRPC server and worker, ccxt over HTTP to the local venue. Each type
is placed (NEW, armed on the venue), triggered by moving the venue's price (a TRIGGERED event, the same ledger
order), and filled; or cancelled before the trigger; bad requests are refused naming the field."""
from decimal import Decimal

import grpc
import pytest

from clients.python.oms_client import OMSClient
from orders.lifecycle import EventKind
from orders.models import Fill, Order, OrderEvent
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal
QTY = "0.001"


@pytest.fixture(autouse=True)
def patient_placement(settings):
    settings.OMS_PLACE_WAIT_SECONDS = 10  # answered once the worker records the venue's reply


def venue_row(venue, order_id):
    [row] = [r for r in venue.control.records(venue.api_key)["orders"] if r["client_order_id"] == order_id]
    return row


def kinds(order_id):
    return list(OrderEvent.objects.filter(order_id=order_id).order_by("sequence").values_list("kind", flat=True))


@pytest.mark.parametrize(("order_type", "side", "stop", "price", "move_to", "venue_type"), [
    ("STOP_MARKET", "SELL", "95000", None, 94900, "STOP_LOSS"),
    ("STOP_LIMIT", "SELL", "95000", "94000", 94900, "STOP_LOSS_LIMIT"),
    ("TAKE_PROFIT_MARKET", "SELL", "105000", None, 105100, "TAKE_PROFIT"),
    ("TAKE_PROFIT_LIMIT", "BUY", "95000", "96000", 94900, "TAKE_PROFIT_LIMIT"),
])
def test_each_type_is_armed_then_triggered_and_filled_as_one_ledger_order(grpc_server, venue, venue_account,
                                                                          order_type, side, stop, price, move_to,
                                                                          venue_type):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    with OMSClient(grpc_server, timeout=30) as client:
        placed = client.place_order("BTCUSDT", side, QTY, order_type=order_type, price=price or 0, stop_price=stop)
        assert placed["status"] == "NEW" and placed["order"]["stop_price"] == D(stop)
        assert placed["order"]["triggered_at"] is None and placed["order"]["order_type"] == order_type

        row = venue_row(venue, placed["order_id"])
        assert (row["type"], row["status"], row["armed"], D(row["stop_price"])) == (venue_type, "NEW", True, D(stop))
        assert Order.objects.get(pk=placed["order_id"]).triggered_at is None

        venue.control.set_price("BTCUSDT", move_to, freeze=True)
        wait_until(lambda: Order.objects.get(pk=placed["order_id"]).status == "FILLED", timeout=30,
                   what="the triggered order FILLED")
        got = client.get_order(placed["order_id"])

    order = Order.objects.get(pk=placed["order_id"])
    assert Order.objects.count() == 1 and order.triggered_at is not None and got["triggered_at"] is not None
    assert order.filled_quantity == D(QTY) and sum(f.quantity for f in Fill.objects.filter(order=order)) == D(QTY)
    events = kinds(order.id)
    assert events.count(EventKind.TRIGGERED) == 1
    assert events.index(EventKind.ACCEPTED) < events.index(EventKind.TRIGGERED) < events.index(EventKind.FILLED)
    assert venue_row(venue, order.id)["status"] == "FILLED"


def test_a_stop_cancelled_before_its_trigger_never_trades(grpc_server, venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    with OMSClient(grpc_server, timeout=30) as client:
        placed = client.place_order("BTCUSDT", "SELL", QTY, order_type="STOP_LIMIT", price="94000", stop_price="95000")
        assert placed["status"] == "NEW"
        client.cancel_order(placed["order_id"])
        wait_until(lambda: Order.objects.get(pk=placed["order_id"]).status == "CANCELLED", timeout=30,
                   what="the armed stop CANCELLED")
    venue.control.set_price("BTCUSDT", 94900, freeze=True)

    row = venue_row(venue, placed["order_id"])
    assert row["status"] == "CANCELED" and D(row["executed_qty"]) == 0
    order = Order.objects.get(pk=placed["order_id"])
    assert order.triggered_at is None and EventKind.TRIGGERED not in kinds(order.id)
    assert not Fill.objects.filter(order=order).exists()


def test_cancel_all_takes_armed_stops_too(grpc_server, venue, venue_account):
    """(The kill switch's "cancel open orders" is the same service, orders.services.order_cancel_all.)"""
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    with OMSClient(grpc_server, timeout=30) as client:
        ids = [client.place_order("BTCUSDT", "SELL", QTY, order_type="STOP_MARKET", stop_price=s)["order_id"]
               for s in ("95000", "94000")]
        result = client.cancel_all_orders(account_id=venue_account.name, symbol="BTCUSDT")
    assert sorted(o["order_id"] for o in result) == sorted(ids)
    wait_until(lambda: set(Order.objects.values_list("status", flat=True)) == {"CANCELLED"}, timeout=30,
               what="both stops CANCELLED")
    assert [venue_row(venue, i)["status"] for i in ids] == ["CANCELED", "CANCELED"]


def test_a_stop_the_venue_would_trigger_at_once_is_rejected_with_its_words(grpc_server, venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    with OMSClient(grpc_server, timeout=30) as client:
        placed = client.place_order("BTCUSDT", "SELL", QTY, order_type="STOP_MARKET", stop_price="100500")
    assert placed["status"] == "REJECTED" and "Stop price would trigger immediately" in placed["reason"]


@pytest.mark.parametrize(("kwargs", "field", "words"), [
    ({"order_type": "STOP_MARKET"}, "stop_price", "needs a stop_price"),
    ({"order_type": "STOP_LIMIT", "stop_price": "95000"}, "price", "needs a price"),
    ({"order_type": "STOP_MARKET", "stop_price": "95000", "price": "94000"}, "price", "takes no price"),
    ({"order_type": "LIMIT", "price": "94000", "stop_price": "95000"}, "stop_price", "takes no stop_price"),
    ({"order_type": "STOP_MARKET", "stop_price": "95000.001"}, "stop_price", "tick size"),
    ({"order_type": "STOP_MARKET", "stop_price": "95000", "market": "futures"}, "order_type", "spot only"),
])
def test_bad_conditional_requests_are_refused_naming_the_field(grpc_server, venue, venue_account, kwargs, field,
                                                               words):
    with OMSClient(grpc_server, timeout=30) as client, pytest.raises(grpc.RpcError) as refused:
        client.place_order("BTCUSDT", "SELL", QTY, **kwargs)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in refused.value.details() and words in refused.value.details()
    assert not Order.objects.exists()


def test_a_stop_limit_triggered_but_not_filled_is_working_and_cancels(grpc_server, venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    with OMSClient(grpc_server, timeout=30) as client:
        placed = client.place_order("BTCUSDT", "SELL", QTY, order_type="STOP_LIMIT", price="96000", stop_price="95000")
        venue.control.set_price("BTCUSDT", 94000, freeze=True)  # through the stop; the bids are under the limit
        wait_until(lambda: Order.objects.get(pk=placed["order_id"]).triggered_at is not None, timeout=30,
                   what="the stop TRIGGERED")
        order = Order.objects.get(pk=placed["order_id"])
        assert (order.status, order.filled_quantity) == ("NEW", 0)
        row = venue_row(venue, order.id)
        assert (row["status"], row["armed"]) == ("NEW", False)

        client.cancel_order(order.id)
        wait_until(lambda: Order.objects.get(pk=order.id).status == "CANCELLED", timeout=30, what="CANCELLED")
    assert venue_row(venue, order.id)["status"] == "CANCELED"
    events = kinds(order.id)
    assert events.count(EventKind.TRIGGERED) == 1 and events[-1] == EventKind.CANCELLED
