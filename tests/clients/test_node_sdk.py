"""The Node.js SDK (clients/javascript) end to end: its `node --test` suite runs against a real gRPC server
backed by the local venue, fed what the ledger holds; the orders it reports are then checked in the ledger."""
from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest

from execution import venue_orders
from orders import services
from orders.grpc.server import OMSGrpcServer
from orders.models import Order, OrderEvent, Status
from tests.clients.conftest import ACCOUNT, RESTING_BUY_PRICE, Running, client_env
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def _open_futures_position(stack) -> None:
    order = services.order_place(account=ACCOUNT, symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"), order_type="MARKET",
                                 market="futures", leverage=10)
    wait_until(lambda: Order.objects.filter(id=order.id, status=Status.FILLED).exists(), timeout=20, what="the futures order to fill")
    wait_until(stack.open_positions, timeout=20, what="the position in the ledger")
    venue_orders.account_sync(stack.account.id)  # the ledger as the venue has it now: nothing moves until the SDK trades


def test_node_sdk_suite(node_sdk, trading_stack, tls_server, tls_files, free_port, tmp_path):
    stack = trading_stack
    _open_futures_position(stack)
    balances = {asset: {"free": str(b.free), "locked": str(b.locked), "total": str(b.free + b.locked)}
                for asset, b in stack.balances("spot").items()}
    positions = [{"symbol": p.symbol, "side": p.side, "size": str(p.size), "leverage": p.leverage} for p in stack.open_positions()]
    assert balances and positions
    orders_before = set(Order.objects.values_list("id", flat=True))
    report_path = tmp_path / "report.json"
    env = client_env(
        OMS_TEST_SERVER=stack.address,
        OMS_TEST_TOKEN=stack.token,
        OMS_TEST_ACCOUNT=ACCOUNT,
        OMS_TEST_SINCE_SEQUENCE=str(OrderEvent.objects.order_by("-id").values_list("id", flat=True).first()),
        OMS_TEST_REPORT=str(report_path),
        OMS_TEST_EXPECT=json.dumps({"balances": balances, "positions": positions, "restingPrice": int(RESTING_BUY_PRICE),
                                    "downAddress": f"127.0.0.1:{free_port}",
                                    "tlsServer": tls_server, "tlsCa": tls_files[0].read_text()}),
    )
    out = subprocess.run(["node", "--test", "--test-reporter=spec", "test/"], cwd=node_sdk, env=env,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "fail 0" in out.stdout and "pass 13" in out.stdout, out.stdout

    report = json.loads(report_path.read_text())
    placed = report["placed"]
    assert set(Order.objects.values_list("id", flat=True)) - orders_before == set(placed.values()), \
        "the SDK created exactly the orders it reported; the refused ones created nothing"
    limit = Order.objects.get(id=placed["limit"])
    assert (limit.status, limit.quantity, limit.price) == (Status.CANCELLED, Decimal("0.001"), Decimal(RESTING_BUY_PRICE))
    idempotent = Order.objects.get(id=placed["idempotent"])
    assert idempotent.client_order_id.startswith("node-") and idempotent.quantity == Decimal("0.002")
    assert Order.objects.filter(client_order_id=idempotent.client_order_id).count() == 1
    market = Order.objects.get(id=placed["market"])
    assert (market.status, market.order_type, market.filled_quantity) == (Status.FILLED, "MARKET", Decimal("0.1"))
    assert Order.objects.get(id=placed["streamed"]).status == Status.NEW
    assert set(report["balances"]) == set(balances)
    assert [(p["symbol"], p["side"]) for p in report["positions"]] == [(p["symbol"], p["side"]) for p in positions]


def test_node_stream_reconnects_and_stops_on_ctrl_c(node_sdk, trading_stack):
    """The SDK's order stream survives the server going away and coming back on the same port, delivering
    the order placed meanwhile once; Ctrl-C (the example's SIGINT handler) ends it with exit status 0."""
    stack = trading_stack
    first = OMSGrpcServer("127.0.0.1:0", workers=4, require_auth=True)
    first.start()
    port = first.port
    servers = [first]
    stream = Running(["node", "examples/stream-orders.js", f"127.0.0.1:{port}", ACCOUNT], client_env(OMS_TOKEN=stack.token),
                     cwd=node_sdk)

    def place() -> str:
        return services.order_place(account=ACCOUNT, symbol="BTCUSDT", side="BUY", quantity=Decimal("0.001"),
                                    price=Decimal(RESTING_BUY_PRICE)).id

    try:
        # The stream is live once an order placed now shows up; keep placing until one does.
        placed: list[str] = []

        def streaming():
            placed.append(place())
            return any(json.loads(line)["orderId"] in placed for line in stream.out)

        wait_until(streaming, timeout=20, interval=0.5, what="the stream to deliver")
        first.stop(grace=0)
        stream.wait_line("a reconnect notice", lambda line: "reconnecting in" in line, stderr=True)
        during = place()
        second = OMSGrpcServer(f"127.0.0.1:{port}", workers=4, require_auth=True)
        second.start()
        servers.append(second)
        stream.wait_line("the reconnect", lambda line: line == "stream: reconnected", stderr=True, timeout=30)
        stream.wait_line("the order placed while the server was away", lambda line: json.loads(line)["orderId"] == during)
        assert stream.interrupt() == 0
    finally:
        stream.kill()
        for server in servers[1:]:
            server.stop(grace=0)
    updates = [json.loads(line) for line in stream.out]
    sequences = [u["sequence"] for u in updates]
    assert sequences == sorted(set(sequences)), "in order, none twice"
    mine = [u["sequence"] for u in updates if u["orderId"] == during]
    assert mine == list(OrderEvent.objects.filter(order_id=during).order_by("id").values_list("id", flat=True))[:len(mine)]
