"""A fuzz run over PlaceOrder's request fields through a real gRPC channel: hostile numbers (NaN, ±inf,
negative, zero, 1e308, 1e-30), empty and 10 KB strings, unicode, SQL and shell metacharacters, unknown enum
values. Every answer is OK or a clean status with a message; the ledger changes only when the answer is OK,
and then by exactly the one valid order asked for."""
from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import Balance
from orders import services
from orders.models import Order, OrderEvent
from proto import oms_pb2, oms_pb2_grpc
from tests import factories
from tests.faults.hostile import HOSTILE_DECIMALS, HOSTILE_NUMBERS, assert_clean_refusal, requests, text

VALID = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "account_id": "main", "quantity_decimal": "0.01",
         "price_decimal": "20000"}
HOSTILE = {
    "symbol": text(["BTCUSDT", "BTC/USDT", "btcusdt", "ETHUSDT"]),
    "side": text(["BUY", "SELL", "buy", "SIDEWAYS"]),
    "order_type": text(["LIMIT", "MARKET", "STOP", "limit"]),
    "quantity": st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.floats()),
    "price": st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.floats()),
    "exchange": text(["", "binance", "kraken"]),
    "market": text(["", "spot", "futures", "options"]),
    "account_id": text(["main", "", "nobody"]),
    "leverage": st.one_of(st.sampled_from([0, 1, 10, 125, 126, -1, 2**31 - 1, -(2**31)]),
                          st.integers(-(2**31), 2**31 - 1)),
    "client_order_id": text(["", "fuzz-1", "fuzz-2"]),
    "time_in_force": text(["", "GTC", "IOC", "FOK", "GTX", "FOREVER"]),
    "reduce_only": st.booleans(),
    "post_only": st.booleans(),
    "quantity_decimal": st.sampled_from(HOSTILE_DECIMALS),
    "price_decimal": st.sampled_from(HOSTILE_DECIMALS),
}


@pytest.fixture
def stub(grpc_server, order_lane, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 0  # no worker here: answer with the PENDING_NEW order at once
    factories.instrument_create()
    factories.account_create(name="main")
    services.balances_replace(account="main", market="spot",
                              balances=[{"asset": "USDT", "free": Decimal("1000000"), "locked": Decimal("0")},
                                        {"asset": "BTC", "free": Decimal("100"), "locked": Decimal("0")}])
    with grpc.insecure_channel(grpc_server, options=[("grpc.max_send_message_length", 8 * 1024 * 1024)]) as channel:
        yield oms_pb2_grpc.OrderServiceStub(channel)


def _ledger() -> tuple:
    return (tuple(Order.objects.order_by("id").values_list("id", "status", "quantity", "price")),
            OrderEvent.objects.count(),
            tuple(Balance.objects.order_by("asset").values_list("asset", "free", "locked")))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(request=requests(oms_pb2.PlaceOrderRequest, VALID, HOSTILE))
def test_every_place_order_answer_is_clean_and_only_valid_requests_change_the_ledger(stub, request):
    before = _ledger()
    try:
        reply = stub.PlaceOrder(request, timeout=10)
    except grpc.RpcError as refused:
        assert_clean_refusal(refused)
        event(f"refused: {refused.code().name}")  # --hypothesis-show-statistics shows the mix
        assert _ledger() == before  # refused: nothing changed
        return

    event("accepted")
    order = Order.objects.get(pk=reply.order.order_id)
    orders_before = {row[0] for row in before[0]}
    if order.id in orders_before:  # an idempotent retry by client order id: the first order, nothing new
        assert request.client_order_id.strip() and order.client_order_id == request.client_order_id.strip()
        assert _ledger()[0] == before[0]
        return
    assert len(_ledger()[0]) == len(before[0]) + 1  # exactly the one order asked for
    assert order.account.name == "main" and order.symbol == "BTCUSDT"
    assert order.side in ("BUY", "SELL") and order.order_type in ("LIMIT", "MARKET")
    assert order.quantity.is_finite() and order.quantity > 0
    assert order.price is None or (order.price.is_finite() and order.price > 0)
    assert order.status == "PENDING_NEW"


@pytest.mark.parametrize("field", ["account_id", "symbol", "client_order_id", "quantity_decimal"])
def test_a_nul_character_in_any_string_field_is_invalid_input_naming_the_field(stub, field):
    before = _ledger()
    with pytest.raises(grpc.RpcError) as refused:
        stub.PlaceOrder(oms_pb2.PlaceOrderRequest(**{**VALID, field: "ab\x00c"}), timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in refused.value.details() and "NUL" in refused.value.details()
    with pytest.raises(grpc.RpcError) as refused:
        stub.GetOrder(oms_pb2.GetOrderRequest(order_id="\x00"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "order_id" in refused.value.details()
    assert _ledger() == before
