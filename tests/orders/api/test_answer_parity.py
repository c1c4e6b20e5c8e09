"""PlaceOrder/CancelOrder (gRPC) and POST /orders, /orders/{id}/cancel (REST) wait for the venue's answer by one
rule (orders.venue_wait): the same settled state once the answer comes, the pending state when it does not come
in OMS_PLACE_WAIT_SECONDS. The two adapters used to wait in two ways (the hub, and a subscription of their own).

No worker runs here: the venue's answer is what a worker records, through the same service, from another thread
once the adapter has committed the order."""
from __future__ import annotations

import threading
from decimal import Decimal

import grpc
import pytest
from django.db import connection

from accounts import services as account_services
from accounts.models import Account
from orders import services as order_services
from orders.models import Order, Status
from proto import oms_pb2, oms_pb2_grpc
from tests import factories
from tests.orders.api.conftest import token_client
from tests.waiting import wait_until

PLACE = {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": "20000"}


@pytest.fixture
def adapters(grpc_server, no_prices):
    user = factories.user_create(username="carol")
    factories.instrument_create()
    factories.account_create(name="main", member=user)
    token = account_services.api_token_create(user=user)
    channel = grpc.insecure_channel(grpc_server)
    stub, metadata = oms_pb2_grpc.OrderServiceStub(channel), [("authorization", f"Bearer {token}")]
    yield stub, metadata, token_client(user)
    channel.close()


def venue_answers(client_order_id: str, pending: str, **update):
    """A worker's answer to the order placed with this client order id, recorded once the order is `pending`."""
    def answer():
        try:
            order = wait_until(lambda: Order.objects.filter(client_order_id=client_order_id, status=pending).first(),
                               timeout=20, what=f"{client_order_id} {pending}")
            order_services.order_apply_venue_update(order_id=order.id, **update)
        finally:
            connection.close()

    thread = threading.Thread(target=answer)
    thread.start()
    return thread


def grpc_place(stub, metadata, client_order_id: str) -> oms_pb2.Order:
    return stub.PlaceOrder(oms_pb2.PlaceOrderRequest(
        account_id="main", symbol="BTCUSDT", side="BUY", order_type="LIMIT", quantity=0.01, price=20000,
        client_order_id=client_order_id), metadata=metadata, timeout=30).order


def rest_place(rest, client_order_id: str) -> dict:
    response = rest.post("/api/v1/orders/", {**PLACE, "client_order_id": client_order_id}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def answer_of_grpc(message: oms_pb2.Order) -> tuple:
    return message.status, message.exchange_order_id, Decimal(message.filled_quantity_decimal or "0"), message.version


def answer_of_rest(body: dict) -> tuple:
    return body["status"], body["exchange_order_id"] or "", Decimal(body["filled_quantity"]), body["version"]


def test_both_adapters_answer_a_placement_with_the_venues_answer(adapters, settings):
    stub, metadata, rest = adapters
    settings.OMS_PLACE_WAIT_SECONDS = 20  # the answer comes long before: the wait ends when it does

    answering = [venue_answers("g-1", Status.PENDING_NEW, status=Status.NEW, exchange_order_id="v-g-1"),
                 venue_answers("r-1", Status.PENDING_NEW, status=Status.NEW, exchange_order_id="v-r-1")]
    by_grpc, by_rest = grpc_place(stub, metadata, "g-1"), rest_place(rest, "r-1")
    for thread in answering:
        thread.join(20)

    assert answer_of_grpc(by_grpc) == (Status.NEW, "v-g-1", Decimal(0), 2)
    assert answer_of_rest(by_rest) == (Status.NEW, "v-r-1", Decimal(0), 2)


def test_both_adapters_answer_a_cancel_with_the_venues_answer(adapters, settings):
    stub, metadata, rest = adapters
    settings.OMS_PLACE_WAIT_SECONDS = 0
    orders = {}
    for client_order_id in ("g-2", "r-2"):
        placed = factories.order_place(Account.objects.get(name="main"), client_order_id=client_order_id)
        orders[client_order_id] = order_services.order_apply_venue_update(
            order_id=placed.id, status=Status.NEW, exchange_order_id=f"v-{client_order_id}")
    settings.OMS_PLACE_WAIT_SECONDS = 20

    answering = [venue_answers(cid, Status.PENDING_CANCEL, status=Status.CANCELLED) for cid in orders]
    by_grpc = stub.CancelOrder(oms_pb2.CancelOrderRequest(order_id=orders["g-2"].id), metadata=metadata, timeout=30).order
    response = rest.post(f"/api/v1/orders/{orders['r-2'].id}/cancel/")
    assert response.status_code == 200, response.content
    for thread in answering:
        thread.join(20)

    assert answer_of_grpc(by_grpc) == (Status.CANCELLED, "v-g-2", Decimal(0), 4)
    assert answer_of_rest(response.json()) == (Status.CANCELLED, "v-r-2", Decimal(0), 4)


def test_without_an_answer_both_adapters_answer_the_pending_state_when_the_wait_is_over(adapters, settings):
    stub, metadata, rest = adapters
    settings.OMS_PLACE_WAIT_SECONDS = 0.3

    by_grpc, by_rest = grpc_place(stub, metadata, "g-3"), rest_place(rest, "r-3")

    assert answer_of_grpc(by_grpc) == answer_of_rest(by_rest) == (Status.PENDING_NEW, "", Decimal(0), 1)
    assert set(Order.objects.filter(client_order_id__in=["g-3", "r-3"]).values_list("status", flat=True)) == {
        Status.PENDING_NEW}
