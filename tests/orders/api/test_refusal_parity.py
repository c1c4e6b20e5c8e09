"""REST and gRPC refuse the same order for the same reason: both call orders.services.order_place, where
validation, risk limits and the kill switch live once. Checked over real HTTP handling and a real gRPC server."""
from __future__ import annotations

from decimal import Decimal

import grpc
import pytest

from accounts import services as account_services
from orders.models import Order
from proto import oms_pb2, oms_pb2_grpc
from tests import factories
from tests.orders.api.conftest import token_client

pytestmark = [pytest.mark.e2e]

GRPC_STATUS = {"failed_precondition": grpc.StatusCode.FAILED_PRECONDITION, "invalid": grpc.StatusCode.INVALID_ARGUMENT,
               "permission_denied": grpc.StatusCode.PERMISSION_DENIED}
REFUSALS = {
    "kill switch": lambda: account_services.kill_switch_set(on=True, reason="venue incident"),
    "max order notional": lambda: account_services.risk_limit_update(account="main", max_order_notional=Decimal(100)),
    "allowed symbols": lambda: account_services.risk_limit_update(account="main", allowed_symbols=["ETHUSDT"]),
    "max open orders": lambda: account_services.risk_limit_update(account="main", max_open_orders=0),
    "account disabled": lambda: account_services.account_set_enabled(account="main", enabled=False, reason="audit"),
    "account halted": lambda: account_services.trading_state_set(account="main", state="HALTED", reason="review"),
    "globally halted": lambda: account_services.trading_state_set(state="HALTED", reason="venue incident"),
    "account reducing": lambda: account_services.trading_state_set(account="main", state="REDUCING", reason="loss"),
}


@pytest.fixture
def trader(grpc_server, no_prices):
    user = factories.user_create(username="trader")
    factories.instrument_create()
    factories.instrument_create(symbol="ETHUSDT")
    factories.account_create(name="main", member=user)
    return user


def rest_refusal(user, quantity: str) -> dict:
    response = token_client(user).post("/api/v1/orders/", {
        "account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": quantity, "price": "20000"}, format="json")
    assert response.status_code in (400, 403, 409), response.content
    return response.json()["error"]


def grpc_refusal(address: str, user, quantity: float) -> grpc.RpcError:
    token = account_services.api_token_create(user=user)
    with grpc.insecure_channel(address) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            oms_pb2_grpc.OrderServiceStub(channel).PlaceOrder(
                oms_pb2.PlaceOrderRequest(account_id="main", symbol="BTCUSDT", side="BUY", order_type="LIMIT",
                                          quantity=quantity, price=20000, exchange="binance", market="spot"),
                metadata=[("authorization", f"Bearer {token}")], timeout=10)
    return refused.value


@pytest.mark.parametrize("refusal", REFUSALS)
def test_rest_and_grpc_refuse_with_the_same_reason(refusal, grpc_server, trader):
    REFUSALS[refusal]()

    rest = rest_refusal(trader, "0.01")
    via_grpc = grpc_refusal(grpc_server, trader, 0.01)

    assert via_grpc.code() == GRPC_STATUS[rest["code"]]
    assert via_grpc.details() == f"{rest['field']}: {rest['message']}"
    assert not Order.objects.exists()


def test_bad_input_is_refused_alike(grpc_server, trader):
    rest = rest_refusal(trader, "0.000001")
    via_grpc = grpc_refusal(grpc_server, trader, 0.000001)

    assert (rest["code"], rest["field"]) == ("invalid", "quantity")
    assert via_grpc.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert via_grpc.details() == f"quantity: {rest['message']}"
    assert not Order.objects.exists()
