"""order_adopt: a venue order the ledger never had enters the ledger as already sent (never submitted),
once, with an ADOPTED event from reconciliation; bad input changes nothing."""
from decimal import Decimal

import pytest

from infra.errors import InvalidInput
from orders import services
from orders.models import Order, OrderEvent, Status

D = Decimal


def adopt(**overrides):
    fields = {"account": "main", "market": "spot", "symbol": "BTC/USDT", "side": "buy", "order_type": "limit",
              "quantity": D("0.02"), "price": D("95000"), "exchange_order_id": "777", "client_order_id": "desk-1"}
    return services.order_adopt(**{**fields, **overrides})


def test_adopted_once_never_submitted(account, order_lane):
    order = adopt()
    again = adopt()
    assert again.pk == order.pk and Order.objects.count() == 1
    assert (order.symbol, order.side, order.status, order.exchange_order_id) == ("BTCUSDT", "BUY", Status.PENDING_NEW, "777")
    assert order.submitted_at is not None and order.client_order_id == "desk-1"
    event = OrderEvent.objects.get(order=order)
    assert (event.kind, event.source, event.payload["venue_client_order_id"]) == ("ADOPTED", "reconcile", "desk-1")
    assert order_lane.items() == []  # nothing to send


def test_client_id_taken_by_one_of_ours_stays_in_the_payload(account, order_lane):
    first = adopt()
    second = adopt(exchange_order_id="778")
    assert second.pk != first.pk and second.client_order_id is None
    assert OrderEvent.objects.get(order=second).payload["venue_client_order_id"] == "desk-1"


@pytest.mark.parametrize("field,value", [("side", "HOLD"), ("quantity", D("0")), ("exchange_order_id", "")])
def test_bad_input_changes_nothing(account, field, value):
    with pytest.raises(InvalidInput) as err:
        adopt(**{field: value})
    assert err.value.field == field
    assert not Order.objects.exists()
