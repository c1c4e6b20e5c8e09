"""The server process: health, reflection, authentication, graceful stop."""
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from accounts import services as account_services
from orders.grpc.server import auth_required
from orders.models import Order
from proto import oms_pb2, oms_pb2_grpc
from tests import factories
from tests.subprocess_env import database_url
from tests.tls import self_signed_certificate

ROOT = Path(__file__).resolve().parents[3]


def stub_for(address):
    return oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(address))


def test_health_check_serves_the_order_service(grpc_server):
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(grpc_server))

    for service in ("", "oms.OrderService"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_and_describes_the_services(grpc_server):
    database = ProtoReflectionDescriptorDatabase(grpc.insecure_channel(grpc_server))

    services = set(database.get_services())
    pool = descriptor_pool.DescriptorPool(database)
    methods = {m.name for m in pool.FindServiceByName("oms.OrderService").methods}

    assert {"oms.OrderService", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= services
    assert methods == {"PlaceOrder", "CancelOrder", "GetOrder", "ListOrders", "GetBalance", "GetPositions",
                       "StreamPrices", "StreamOrders", "GetCandles", "GetPnL", "PlaceOrders", "CancelOrders",
                       "CancelAllOrders", "AmendOrder"}
    assert pool.FindMessageTypeByName("oms.StreamOrdersRequest").fields_by_name["since_sequence"].number == 20


@pytest.mark.parametrize(("address", "setting", "required"), [
    ("127.0.0.1:50051", None, False), ("localhost:50051", None, False), ("[::1]:50051", None, False),
    ("0.0.0.0:50051", None, True), ("[::]:50051", None, True), ("10.1.2.3:50051", None, True),
    ("127.0.0.1:50051", "on", True), ("0.0.0.0:50051", "off", False),
])
def test_auth_is_required_by_default_unless_bound_to_loopback(address, setting, required):
    assert auth_required(address, setting) is required


def test_auth_required_refuses_a_credential_less_client_with_instructions(grpc_server_factory, account):
    address = grpc_server_factory(require_auth=True)

    with pytest.raises(grpc.RpcError) as err:
        stub_for(address).PlaceOrder(oms_pb2.PlaceOrderRequest(symbol="BTCUSDT", side="BUY", quantity=0.01, price=20000),
                                     timeout=5)

    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer <token>" in err.value.details()
    assert Order.objects.count() == 0


def test_auth_required_refuses_streams_without_a_token(grpc_server_factory):
    address = grpc_server_factory(require_auth=True)

    with pytest.raises(grpc.RpcError) as err:
        next(stub_for(address).StreamOrders(oms_pb2.StreamOrdersRequest(), timeout=5))

    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwdw==", "Bearer"])
def test_bad_or_revoked_credentials_are_refused_even_when_auth_is_optional(grpc_server, header):
    with pytest.raises(grpc.RpcError) as err:
        stub_for(grpc_server).ListOrders(oms_pb2.ListOrdersRequest(), metadata=[("authorization", header)], timeout=5)

    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_scopes_the_caller_to_its_accounts(grpc_server_factory, trader, account, btcusdt):
    other = factories.account_create(name="other")
    factories.order_place(account)
    factories.order_place(other)
    token = account_services.api_token_create(user=trader)
    address = grpc_server_factory(require_auth=True)

    reply = stub_for(address).ListOrders(oms_pb2.ListOrdersRequest(), metadata=[("authorization", f"Bearer {token}")],
                                         timeout=5)

    assert {o.account_id for o in reply.orders} == {"main"}


def test_health_and_reflection_need_no_token(grpc_server_factory):
    address = grpc_server_factory(require_auth=True)
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))

    assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
    assert "oms.OrderService" in ProtoReflectionDescriptorDatabase(grpc.insecure_channel(address)).get_services()


def test_stop_lets_in_flight_calls_finish_and_ends_streams_clearly(grpc_server, account, btcusdt, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 2  # no worker here: PlaceOrder waits the full time, then answers
    stub = stub_for(grpc_server)
    stream = stub.StreamOrders(oms_pb2.StreamOrdersRequest(), timeout=30)
    placed = {}

    def place():
        placed["reply"] = stub.PlaceOrder(
            oms_pb2.PlaceOrderRequest(symbol="BTCUSDT", side="BUY", quantity=0.01, price=20000), timeout=30)

    caller = threading.Thread(target=place)
    caller.start()
    first = next(stream)  # the placement's own update: the call is now in flight, waiting for the venue
    grpc_server.server.stop(grace=10)
    caller.join(10)

    assert first.update_type == "NEW"
    assert placed["reply"].status == "PENDING_NEW" and placed["reply"].order_id == first.order.order_id
    with pytest.raises(grpc.RpcError) as err:
        next(stream)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in err.value.details() and "since_sequence=" in err.value.details()


def test_grpcserve_serves_until_sigterm_then_exits_cleanly(transactional_db):
    env = {**os.environ, "DATABASE_URL": database_url(), "OMS_GRPC_SHUTDOWN_GRACE_SECONDS": "5"}
    proc = subprocess.Popen([sys.executable, "manage.py", "grpcserve", "--addr", "127.0.0.1:0", "--workers", "4"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on" in line, line + proc.stderr.read()
        address = line.split()[-1]
        channel = grpc.insecure_channel(address)
        health = health_pb2_grpc.HealthStub(channel)
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
        prices = oms_pb2_grpc.OrderServiceStub(channel).StreamPrices(oms_pb2.StreamPricesRequest(symbols=["NOSUCHPAIR"]))
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING

        proc.send_signal(signal.SIGTERM)

        with pytest.raises(grpc.RpcError) as err:
            next(prices)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()




def test_tls_when_a_certificate_is_configured(grpc_server_factory, settings, funded, tmp_path):
    from clients.python.oms_client import OMSClient
    cert, key = self_signed_certificate(tmp_path)
    settings.OMS_GRPC_TLS_CERT, settings.OMS_GRPC_TLS_KEY, ca = str(cert), str(key), cert.read_bytes()
    address = grpc_server_factory()

    with OMSClient(address, tls=True, root_certificates=ca) as client:
        balances = client.get_balance()
    with pytest.raises(grpc.RpcError) as err:
        stub_for(address).GetBalance(oms_pb2.GetBalanceRequest(), timeout=3)

    assert balances["USDT"]["total"] == 10000
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_failed_authentications_are_throttled_per_client(grpc_server_factory, settings):
    """Guessing tokens: after OMS_AUTH_FAILURE_RATE failures the client is refused, valid token or not, with
    RESOURCE_EXHAUSTED saying why (issue 19, item 11)."""
    from django.core.cache import cache

    from accounts.auth_throttle import _keys

    settings.OMS_AUTH_FAILURE_RATE = "3/min"
    cache.delete_many(_keys("127.0.0.1"))
    good = account_services.api_token_create(user=factories.user_create(username="dora"))
    address = grpc_server_factory(require_auth=True)
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(address))

    def code_for(token):
        try:
            stub.ListOrders(oms_pb2.ListOrdersRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10)
        except grpc.RpcError as exc:
            return exc.code(), exc.details()
        return grpc.StatusCode.OK, ""

    try:
        guesses = [code_for(f"guess-{i}") for i in range(4)]
        with_good_token = code_for(good)
    finally:
        cache.delete_many(_keys("127.0.0.1"))

    assert [code for code, _ in guesses] == [grpc.StatusCode.UNAUTHENTICATED] * 3 + [grpc.StatusCode.RESOURCE_EXHAUSTED]
    assert "failed authentications" in guesses[-1][1] and "retry in" in guesses[-1][1]
    assert with_good_token[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert code_for(good)[0] == grpc.StatusCode.OK  # the window was cleared above
