"""The Python SDK's own promises: resuming streams, safe retries, rate limiting."""
import threading

import grpc
import pytest

from clients.python.oms_client import OMSClient, RateLimiter
from orders import services
from orders.models import OrderEvent
from tests import factories
from tests.waiting import wait_until


def test_an_order_stream_resumes_after_a_server_restart_without_loss_or_repeats(grpc_server_factory, funded, btcusdt):
    first = grpc_server_factory()
    received = []
    client = OMSClient(first, timeout=5)
    streaming = threading.Thread(target=client.stream_orders, args=(received.append,), kwargs={"max_updates": 4},
                                 daemon=True)
    streaming.start()
    wait_until(lambda: first.server.hub.subscriptions)
    order = factories.order_place(funded)
    wait_until(lambda: len(received) == 1)

    first.server.stop(grace=1)  # the stream ends UNAVAILABLE; the client backs off and retries
    services.order_apply_venue_update(order_id=order.id, status="NEW", exchange_order_id="E-1")
    other = factories.order_place(funded, price=order.price + 1)
    grpc_server_factory(address=f"127.0.0.1:{first.server.port}")
    services.order_cancel(order_id=other.id)
    streaming.join(30)
    client.close()

    assert not streaming.is_alive()
    assert [u["sequence"] for u in received] == list(OrderEvent.objects.order_by("id").values_list("id", flat=True))
    assert [(u["order"]["order_id"], u["update_type"]) for u in received] == [
        (order.id, "NEW"), (order.id, "NEW"), (other.id, "NEW"), (other.id, "UPDATE")]


class CountingInterceptor(grpc.UnaryUnaryClientInterceptor):
    def __init__(self):
        self.calls = 0

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self.calls += 1
        return continuation(client_call_details, request)


def attempts(call) -> int:
    """How many requests the SDK sends for `call` against an address where nothing listens."""
    from proto import oms_pb2_grpc
    counter = CountingInterceptor()
    with OMSClient("127.0.0.1:1", timeout=2, retries=2) as client:
        client.stub = oms_pb2_grpc.OrderServiceStub(grpc.intercept_channel(client.channel, counter))
        with pytest.raises(grpc.RpcError) as err:
            call(client)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    return counter.calls


def test_retries_only_where_a_repeat_is_safe():
    assert attempts(lambda c: c.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, price=20000)) == 1
    assert attempts(lambda c: c.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, price=20000,
                                            client_order_id="k-1")) == 3
    assert attempts(lambda c: c.cancel_order("some-order")) == 1
    assert attempts(lambda c: c.get_order("some-order")) == 3
    assert attempts(lambda c: c.get_balance()) == 3


class StoppedClock:
    """Time that moves only when the limiter sleeps: what it waited is exact, whatever the machine's load."""

    def __init__(self):
        self.now, self.sleeps = 1024.0, []  # binary fractions (rate 16: waits of 1/16 s) add up exactly

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_rate_limiter_spaces_calls(grpc_server, funded, monkeypatch):
    from clients.python import oms_client

    clock = StoppedClock()
    with monkeypatch.context() as patched:
        patched.setattr(oms_client, "time", clock)
        limiter = RateLimiter(rate=16, burst=1)
        for _ in range(6):
            limiter.acquire()
    assert clock.sleeps == [1 / 16] * 5  # one token every 1/16 s: a wait before each call after the first

    with OMSClient(grpc_server, rate_limit=50) as client:
        assert all(client.get_balance()["USDT"]["total"] == 10000 for _ in range(5))


def test_the_token_travels_from_the_sdk_and_the_cli(grpc_server_factory, funded, trader):
    import os
    import subprocess
    import sys

    from accounts import services as account_services
    from tests.orders.grpc.test_guide_python import CLI, ROOT
    address = grpc_server_factory(require_auth=True)
    token = account_services.api_token_create(user=trader)

    with OMSClient(address, token=token) as client:
        assert client.get_balance()["USDT"]["total"] == 10000
    with OMSClient(address) as anonymous, pytest.raises(grpc.RpcError) as err:
        anonymous.get_balance()
    env = {**os.environ, "OMS_SERVER": str(address)}
    env.pop("OMS_TOKEN", None)
    with_token = subprocess.run([sys.executable, *CLI[1:], "--token", token, "balance"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=30)
    without = subprocess.run([sys.executable, *CLI[1:], "balance"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=30)

    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert with_token.returncode == 0 and "USDT: free 10000" in with_token.stdout
    assert without.returncode == 1 and without.stderr.startswith("Error: UNAUTHENTICATED: authentication required")
    assert token not in with_token.stdout + with_token.stderr
