"""Bad input on every RPC: the right status code, a message naming the field, and an unchanged ledger."""
import base64
import json
import logging
import math
from datetime import timedelta, timezone

import grpc
import pytest

from accounts import services as account_services
from accounts.models import AccountMember, Balance
from orders import services
from orders.models import Fill, Order, OrderEvent
from proto import oms_pb2, oms_pb2_grpc
from tests import factories

INVALID, NOT_FOUND = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
GOOD = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "quantity": 0.01, "price": 20000}


@pytest.fixture
def stub(grpc_server):
    return oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server))


@pytest.fixture
def ledger_snapshot(funded, btcusdt):
    def snapshot():
        return (Order.objects.count(), OrderEvent.objects.count(), Fill.objects.count(),
                sorted(Balance.objects.values_list("asset", "free", "locked")))
    return snapshot


def refused(call, request, code, *words, metadata=()):
    with pytest.raises(grpc.RpcError) as err:
        reply = call(request, timeout=10, metadata=metadata)
        if hasattr(reply, "__next__"):
            next(reply)
    assert err.value.code() == code, err.value.details()
    details = err.value.details()
    assert "Traceback" not in details
    for word in words:
        assert word.lower() in details.lower(), details
    return details


PLACE_CASES = [
    ({"symbol": ""}, INVALID, ["symbol", "required"]),
    ({"symbol": "NOPEUSDT"}, INVALID, ["symbol", "NOPEUSDT", "BTCUSDT"]),
    ({"side": ""}, INVALID, ["side"]),
    ({"side": "HOLD"}, INVALID, ["side", "HOLD"]),
    ({"order_type": "STOP"}, INVALID, ["order_type", "STOP"]),
    ({"market": "margin"}, INVALID, ["market", "margin"]),
    ({"time_in_force": "GTX"}, INVALID, ["time_in_force", "GTX"]),
    ({"quantity": 0}, INVALID, ["quantity"]),
    ({"quantity": -0.01}, INVALID, ["quantity", "negative"]),
    ({"quantity": math.nan}, INVALID, ["quantity", "NaN"]),
    ({"quantity": math.inf}, INVALID, ["quantity", "finite"]),
    ({"quantity": -math.inf}, INVALID, ["quantity", "finite"]),
    ({"quantity": 1e300}, INVALID, ["quantity", "range"]),
    ({"quantity": 0.000001}, INVALID, ["quantity"]),
    ({"quantity_decimal": "lots"}, INVALID, ["quantity_decimal", "lots"]),
    ({"quantity_decimal": "NaN"}, INVALID, ["quantity", "NaN"]),
    ({"quantity_decimal": "١"}, INVALID, ["quantity_decimal", "ASCII digits"]),  # Arabic-Indic one: was a 1 BTC order
    ({"quantity_decimal": "0.00_1"}, INVALID, ["quantity_decimal", "ASCII digits"]),
    ({"quantity_decimal": "1e-2"}, INVALID, ["quantity_decimal", "ASCII digits"]),
    ({"price_decimal": "٢٠٠٠٠"}, INVALID, ["price_decimal", "ASCII digits"]),
    ({"price": 0}, INVALID, ["price", "LIMIT"]),
    ({"price": -5}, INVALID, ["price", "negative"]),
    ({"price": math.nan}, INVALID, ["price", "NaN"]),
    ({"price": math.inf}, INVALID, ["price", "finite"]),
    ({"price": 1e25}, INVALID, ["price"]),
    ({"price_decimal": "1e-30"}, INVALID, ["price"]),
    ({"order_type": "MARKET", "price": 100}, INVALID, ["price", "MARKET"]),
    ({"leverage": -3}, INVALID, ["leverage"]),
    ({"leverage": 10}, INVALID, ["leverage", "futures"]),
    ({"reduce_only": True}, INVALID, ["reduce_only"]),
    ({"exchange": "kraken"}, INVALID, ["exchange", "kraken"]),
    ({"client_order_id": "x" * 65}, INVALID, ["client_order_id"]),
    ({"client_order_id": "a\x07b"}, INVALID, ["client_order_id", "control character"]),
    ({"client_order_id": "abc\u202edef"}, INVALID, ["client_order_id", "bidirectional", "U+202E"]),
    ({"account_id": "ghost"}, NOT_FOUND, ["account", "ghost"]),
]


def test_place_order_refuses_bad_fields(stub, ledger_snapshot):
    before = ledger_snapshot()

    for change, code, words in PLACE_CASES:  # one server for all cases; each names itself on failure
        try:
            refused(stub.PlaceOrder, oms_pb2.PlaceOrderRequest(**{**GOOD, **change}), code, *words)
        except AssertionError as exc:
            raise AssertionError(f"PlaceOrder{change}: {exc}") from None

    assert ledger_snapshot() == before


def test_place_order_refuses_a_message_over_the_size_limit(stub, ledger_snapshot):
    before = ledger_snapshot()

    refused(stub.PlaceOrder, oms_pb2.PlaceOrderRequest(**{**GOOD, "symbol": "X" * (5 * 1024 * 1024)}),
            grpc.StatusCode.RESOURCE_EXHAUSTED)

    assert ledger_snapshot() == before


def test_place_order_under_the_kill_switch_is_a_failed_precondition(stub, ledger_snapshot):
    account_services.kill_switch_set(on=True, reason="drill")
    before = ledger_snapshot()

    refused(stub.PlaceOrder, oms_pb2.PlaceOrderRequest(**GOOD), grpc.StatusCode.FAILED_PRECONDITION, "kill switch", "drill")

    assert ledger_snapshot() == before


def test_foreign_and_view_only_accounts_are_refused(grpc_server_factory, ledger_snapshot, funded, trader):
    address = grpc_server_factory(require_auth=True)
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(address))
    outsider = factories.user_create(username="outsider")
    viewer = factories.user_create(username="viewer")
    account_services.member_add(account="main", user=viewer, role=AccountMember.Role.VIEWER)
    order = factories.order_place(funded)
    as_outsider = [("authorization", f"Bearer {account_services.api_token_create(user=outsider)}")]
    as_viewer = [("authorization", f"Bearer {account_services.api_token_create(user=viewer)}")]
    before = ledger_snapshot()

    refused(stub.PlaceOrder, oms_pb2.PlaceOrderRequest(**GOOD), NOT_FOUND, "main", metadata=as_outsider)
    refused(stub.GetOrder, oms_pb2.GetOrderRequest(order_id=order.id), NOT_FOUND, metadata=as_outsider)
    refused(stub.CancelOrder, oms_pb2.CancelOrderRequest(order_id=order.id), NOT_FOUND, metadata=as_outsider)
    refused(stub.GetBalance, oms_pb2.GetBalanceRequest(account_id="main"), NOT_FOUND, metadata=as_outsider)
    refused(stub.ListOrders, oms_pb2.ListOrdersRequest(account_id="main"), NOT_FOUND, metadata=as_outsider)
    refused(stub.GetPositions, oms_pb2.GetPositionsRequest(account_id="main"), NOT_FOUND, metadata=as_outsider)
    refused(stub.StreamOrders, oms_pb2.StreamOrdersRequest(account_id="main"), NOT_FOUND, metadata=as_outsider)
    refused(stub.PlaceOrder, oms_pb2.PlaceOrderRequest(**GOOD), grpc.StatusCode.PERMISSION_DENIED, "main",
            metadata=as_viewer)
    refused(stub.CancelOrder, oms_pb2.CancelOrderRequest(order_id=order.id), grpc.StatusCode.PERMISSION_DENIED,
            metadata=as_viewer)

    assert stub.ListOrders(oms_pb2.ListOrdersRequest(), metadata=as_outsider, timeout=5).orders == []
    assert ledger_snapshot() == before


def test_order_ids_must_be_given_and_known(stub, ledger_snapshot):
    before = ledger_snapshot()

    for order_id in ("", "   "):
        refused(stub.GetOrder, oms_pb2.GetOrderRequest(order_id=order_id), INVALID, "order_id", "required")
        refused(stub.CancelOrder, oms_pb2.CancelOrderRequest(order_id=order_id), INVALID, "order_id", "required")
    for order_id in ("order_123456", "0" * 36, "x" * 5000, "'; drop table orders_order; --"):
        refused(stub.GetOrder, oms_pb2.GetOrderRequest(order_id=order_id), NOT_FOUND, "not found")
        refused(stub.CancelOrder, oms_pb2.CancelOrderRequest(order_id=order_id), NOT_FOUND, "not found")

    assert ledger_snapshot() == before


def test_cancelling_a_finished_order_is_a_failed_precondition(stub, funded, btcusdt, ledger_snapshot):
    order = factories.order_place(funded)
    services.order_apply_venue_update(order_id=order.id, status="REJECTED", reason="insufficient balance")
    before = ledger_snapshot()

    refused(stub.CancelOrder, oms_pb2.CancelOrderRequest(order_id=order.id), grpc.StatusCode.FAILED_PRECONDITION,
            "REJECTED")

    assert ledger_snapshot() == before


def test_list_orders_refuses_bad_filters(stub, ledger_snapshot):
    for fields, code, words in [
        ({"status": "DONE"}, INVALID, ["status", "DONE", "OPEN"]),
        ({"market": "margin"}, INVALID, ["market"]),
        ({"account_id": "ghost"}, NOT_FOUND, ["ghost"]),
        ({"limit": -1}, INVALID, ["limit"]),
        ({"page_token": "not-a-token"}, INVALID, ["page_token"]),
        ({"page_token": "W10"}, INVALID, ["page_token"]),
    ]:
        refused(stub.ListOrders, oms_pb2.ListOrdersRequest(**fields), code, *words)


def test_list_orders_caps_a_huge_limit(stub, funded, btcusdt):
    factories.order_place(funded)

    reply = stub.ListOrders(oms_pb2.ListOrdersRequest(limit=2**31 - 1), timeout=5)

    assert len(reply.orders) == 1 and reply.next_page_token == ""


def test_account_reads_and_streams_refuse_bad_fields(stub, ledger_snapshot):
    before = ledger_snapshot()

    refused(stub.GetBalance, oms_pb2.GetBalanceRequest(market="margin"), INVALID, "market", "margin")
    refused(stub.GetBalance, oms_pb2.GetBalanceRequest(account_id="ghost"), NOT_FOUND, "ghost")
    refused(stub.GetBalance, oms_pb2.GetBalanceRequest(exchange="kraken"), INVALID, "exchange", "kraken")
    refused(stub.GetPositions, oms_pb2.GetPositionsRequest(account_id="ghost"), NOT_FOUND, "ghost")
    refused(stub.StreamOrders, oms_pb2.StreamOrdersRequest(since_sequence=-1), INVALID, "since_sequence")
    refused(stub.StreamOrders, oms_pb2.StreamOrdersRequest(account_id="ghost"), NOT_FOUND, "ghost")
    refused(stub.StreamPrices, oms_pb2.StreamPricesRequest(symbols=[f"S{i}USDT" for i in range(1001)]), INVALID, "symbols")

    assert ledger_snapshot() == before


def _page_token(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_list_orders_refuses_forged_page_tokens_without_a_traceback(stub, funded, btcusdt, caplog):
    """Deep JSON, a NUL in the order id, a year past 9999 once in UTC: INVALID_ARGUMENT naming page_token."""
    factories.order_place(funded)
    caplog.set_level(logging.INFO)
    deep = base64.urlsafe_b64encode(b"[" * 100 + b"]" * 100).decode()

    for token in (deep, _page_token(["2026-11-26T00:00:00+00:00", "a\x00b"]), _page_token(["9999-12-31T23:59:59-14:00", "x"]),
                  _page_token(["2026-11-26T00:00:00", "x"]), "A" * 10_000):
        refused(stub.ListOrders, oms_pb2.ListOrdersRequest(page_token=token), INVALID, "page_token")

    assert not [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_list_orders_reads_a_page_token_offset_postgresql_refuses_as_its_instant(stub, funded, btcusdt):
    order = factories.order_place(funded)
    after = order.created_at.astimezone(timezone(-timedelta(hours=23, minutes=59))) + timedelta(seconds=1)

    reply = stub.ListOrders(oms_pb2.ListOrdersRequest(page_token=_page_token([after.isoformat(), "~"])), timeout=10)

    assert [o.order_id for o in reply.orders] == [order.id]
