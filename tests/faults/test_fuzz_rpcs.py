"""A fuzz run over the request fields of every OrderService RPC but PlaceOrder (test_fuzz_place_order.py has
that one), through a real gRPC channel: hostile numbers, empty and 10 KB strings, unicode, SQL and shell
metacharacters, unknown statuses, forged page tokens. Every answer is OK or a clean status with a short
message (no value comes back whole); reads never change the ledger, and CancelOrder changes only the one
order it names, and only when it answers OK."""
from __future__ import annotations

import base64
import json
from decimal import Decimal

import grpc
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import Balance, Position
from orders import services
from orders.models import Order, OrderEvent, Status
from proto import oms_pb2, oms_pb2_grpc
from tests import factories
from tests.faults.hostile import HOSTILE_INT64, HOSTILE_INTS, HOSTILE_TEXT, assert_clean_refusal, requests, text

D = Decimal
ORDER_REF = "<order {}>"  # stands for the id of the fixture's n-th order (ids are only known at run time)
PAGE_REF = "<next page token>"


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED_TOKENS = [_token(json.dumps(v).encode()) for v in (
    ["not a date", "x"], [1, 2], ["2026-11-26T00:00:00+00:00", "x" * 10240], ["9999-12-31T23:59:59.999999+14:00", ""],
    ["0001-01-01T00:00:00-14:00", ""], ["0001-01-01T00:00:00+14:00", "z"], ["2026-11-26T00:00:00", "' OR 1=1 --"],
    {"a": 1, "b": 2}, [None, None], [], [1, 2, 3], "just a string")] + [
    _token(b"\xff\xfe not json"), "====", "%%%", "a", "x" * 10240]

order_ids = st.one_of(st.sampled_from([ORDER_REF.format(i) for i in range(3)]), text(["", "0", "-1", "1" * 26]))
symbols = text(["", "BTCUSDT", "btc/usdt", "ETHUSDT", "BTC/USDT:USDT"])
exchanges = text(["", "binance", "BINANCE", "kraken"])
markets = text(["", "spot", "futures", "SPOT", "options"])
accounts = text(["", "main", "nobody", "MAIN"])
int32s = st.one_of(st.sampled_from(HOSTILE_INTS), st.integers(-(2**31), 2**31 - 1))

REQUESTS = {
    "CancelOrder": st.builds(oms_pb2.CancelOrderRequest, order_id=order_ids),
    "GetOrder": st.builds(oms_pb2.GetOrderRequest, order_id=order_ids),
    "ListOrders": requests(oms_pb2.ListOrdersRequest, {"account_id": "main", "status": "OPEN", "limit": 2}, {
        "status": text(["", "OPEN", "open", "PENDING_NEW", "FILLED", "NOT_A_STATUS"]), "symbol": symbols,
        "exchange": exchanges, "account_id": accounts, "market": markets, "limit": int32s,
        "page_token": st.one_of(st.just(PAGE_REF), st.sampled_from(FORGED_TOKENS), text(["", PAGE_REF]))}),
    "GetBalance": requests(oms_pb2.GetBalanceRequest, {"account_id": "main"},
                           {"exchange": exchanges, "market": markets, "account_id": accounts}, max_fields=2),
    "GetPositions": requests(oms_pb2.GetPositionsRequest, {"account_id": "main"},
                             {"exchange": exchanges, "account_id": accounts, "symbol": symbols}, max_fields=2),
    "GetPnL": requests(oms_pb2.GetPnLRequest, {"account_id": "main", "group_by": "day"}, {
        "exchange": exchanges, "account_id": accounts,
        "since_ms": st.one_of(st.sampled_from(HOSTILE_INT64), st.integers(-(2**63), 2**63 - 1)),
        "until_ms": st.one_of(st.sampled_from(HOSTILE_INT64), st.integers(-(2**63), 2**63 - 1)),
        "group_by": text(["", "day", "symbol", "DAY", "week"])}, max_fields=2),
    "StreamPrices": requests(oms_pb2.StreamPricesRequest, {"symbols": ["BTCUSDT"]}, {
        "exchange": exchanges, "market": markets,
        "symbols": st.one_of(st.lists(symbols, max_size=5), st.just([f"S{i}USDT" for i in range(1001)]),
                             st.just(HOSTILE_TEXT))}, max_fields=2),
    "StreamOrders": requests(oms_pb2.StreamOrdersRequest, {"account_id": "main"}, {
        "account_id": accounts,
        "since_sequence": st.one_of(st.sampled_from(HOSTILE_INT64), st.integers(-(2**63), 2**63 - 1))}, max_fields=1),
}
STREAMS = {"StreamPrices", "StreamOrders"}


class Desk:
    """The ledger the fuzz runs against: account `main` with balances, a position and three orders."""

    def __init__(self, stub):
        self.stub = stub
        factories.instrument_create()
        factories.account_create(name="main")
        services.balances_replace(account="main", market="spot",
                                  balances=[{"asset": "USDT", "free": D("1000000"), "locked": D("0")},
                                            {"asset": "BTC", "free": D("100"), "locked": D("0")}])
        services.positions_replace(account="main", positions=[{
            "symbol": "BTCUSDT", "market": "futures", "side": "LONG", "size": D("0.5"), "entry_price": D("100000"),
            "mark_price": D("0"), "unrealized_pnl": D("0"), "leverage": 10, "margin": D("5000"),
            "liquidation_price": None}])
        self.order_ids = [services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.01"),
                                               order_type="LIMIT", price=D("20000") + i).id for i in range(3)]
        first_page = stub.ListOrders(oms_pb2.ListOrdersRequest(limit=1), timeout=10)
        self.page_token = first_page.next_page_token

    def resolve(self, request):
        """Put the run's real order ids and page token where the strategy left a placeholder."""
        for i, order_id in enumerate(self.order_ids):
            ref = ORDER_REF.format(i)
            if getattr(request, "order_id", None) == ref:
                request.order_id = order_id
        if getattr(request, "page_token", None) == PAGE_REF:
            request.page_token = self.page_token
        return request

    @staticmethod
    def ledger() -> dict:
        return {
            "orders": {row[0]: row[1:] for row in Order.objects.values_list("id", "status", "quantity", "price", "version")},
            "events": OrderEvent.objects.count(),
            "balances": tuple(Balance.objects.order_by("asset").values_list("asset", "free", "locked")),
            "positions": tuple(Position.objects.order_by("symbol").values_list("symbol", "size", "updated_at")),
        }


@pytest.fixture
def desk(grpc_server, order_lane, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 0  # no worker here: CancelOrder answers with the PENDING_CANCEL order at once
    with grpc.insecure_channel(grpc_server, options=[("grpc.max_send_message_length", 8 * 1024 * 1024)]) as channel:
        yield Desk(oms_pb2_grpc.OrderServiceStub(channel))


def _call(stub, rpc: str, request) -> grpc.RpcError | None:
    """None when the call was accepted (a stream: once the server said it is live), else the refusal."""
    if rpc not in STREAMS:
        try:
            getattr(stub, rpc)(request, timeout=10)
        except grpc.RpcError as refused:
            return refused
        return None
    call = getattr(stub, rpc)(request, timeout=10)
    try:
        if dict(call.initial_metadata()).get("oms-stream") == "live":
            return None
        assert call.code() != grpc.StatusCode.OK, "a stream ended without going live"
        return call
    finally:
        call.cancel()


@pytest.mark.parametrize("rpc", sorted(REQUESTS))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(data=st.data())
def test_every_answer_is_clean_and_only_an_accepted_cancel_changes_the_ledger(desk, rpc, data):
    request = desk.resolve(data.draw(REQUESTS[rpc], label="request"))
    before = desk.ledger()
    refused = _call(desk.stub, rpc, request)
    after = desk.ledger()
    if refused is not None:
        assert_clean_refusal(refused)
        event(f"refused: {refused.code().name}")
        assert after == before
        return
    event("accepted")
    if rpc != "CancelOrder":
        assert after == before  # a read
        return
    changed = {oid for oid in before["orders"] if before["orders"][oid] != after["orders"][oid]}
    assert changed <= {request.order_id} and set(after["orders"]) == set(before["orders"])
    assert after["orders"][request.order_id][0] in (Status.PENDING_CANCEL, Status.CANCELLED)
    assert (after["balances"], after["positions"]) == (before["balances"], before["positions"])


@pytest.mark.parametrize("rpc,request_fields", [
    ("GetOrder", {"order_id": "x" * 10240}),
    ("ListOrders", {"status": "é" * 10240}),
    ("ListOrders", {"market": "m" * 10240}),
    ("GetBalance", {"account_id": "a" * 10240}),
    ("CancelOrder", {"order_id": "'; DROP TABLE orders_order; --" * 400}),
])
def test_a_10kb_value_is_quoted_back_cut_to_its_start_and_length(desk, rpc, request_fields):
    request = getattr(oms_pb2, f"{rpc}Request")(**request_fields)
    refused = _call(desk.stub, rpc, request)
    assert refused is not None
    assert_clean_refusal(refused)
    [value] = request_fields.values()
    assert value[:20] in refused.details().replace("\\'", "'")  # still says what was sent
    assert f"({len(value)} characters)" in refused.details()
