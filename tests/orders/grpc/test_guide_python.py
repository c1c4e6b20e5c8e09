"""The client guide's Python section and CLI section, run as written (only the server address differs),
checked against the ledger. The venue answering is covered end to end in tests/e2e."""
import contextlib
import io
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from infra import pubsub
from orders.models import Order
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
CLI = ["python", "clients/python/oms_client.py"]

GUIDE_USAGE = '''
from clients.python.oms_client import OMSClient

# Create client
client = OMSClient("localhost:50051")

# Place an order
result = client.place_order(
    symbol="BTCUSDT",
    side="BUY",
    quantity=0.001,
    order_type="LIMIT",
    price=115000
)
print(f"Order placed: {result['order_id']}")

# Get balance
balance = client.get_balance(exchange="binance", market="spot")
for asset, bal in balance.items():
    if bal['total'] > 0:
        print(f"{asset}: {bal['total']:.8f}")

# Stream prices
def on_price_update(update):
    print(f"{update['symbol']}: ${update['last_price']:.2f}")

client.stream_prices(["BTCUSDT", "ETHUSDT"], on_price_update)
'''

GUIDE_ERRORS = '''
try:
    result = client.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, price=-1)
except grpc.RpcError as e:
    print(f"Error: {e.details()}")
    print(f"Status code: {e.code()}")
'''


@pytest.fixture(autouse=True)
def short_wait(settings):
    settings.OMS_PLACE_WAIT_SECONDS = 0.2


def tick(symbol, last):
    pubsub.publish_price({"exchange": "binance", "market": "spot", "symbol": symbol, "bid_price": str(last),
                          "bid_quantity": "1", "ask_price": str(last), "ask_quantity": "1", "last_price": str(last),
                          "timestamp_ms": int(time.time() * 1000)})


def guide_usage_started(grpc_server) -> tuple[io.StringIO, dict, threading.Thread]:
    """The guide's usage example running in a thread against this server: (its output, its globals, the thread)."""
    code = GUIDE_USAGE.replace('"localhost:50051"', repr(str(grpc_server)))
    out, scope = io.StringIO(), {}

    def run():
        with contextlib.redirect_stdout(out):
            exec(compile(code, "client-guide", "exec"), scope)  # noqa: S102 - the guide's own code

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    return out, scope, runner


def test_the_guides_usage_examples(grpc_server, funded, btcusdt, no_prices):
    out, scope, runner = guide_usage_started(grpc_server)
    wait_until(lambda: "client" in scope and scope["client"]._streams)  # stream_prices is listening
    tick("BTCUSDT", 115123.456)
    tick("XRPUSDT", 3)
    tick("ETHUSDT", 4000.5)
    wait_until(lambda: "ETHUSDT" in out.getvalue())
    scope["client"].close()  # the guide's stream runs until the client is closed
    runner.join(10)

    lines = out.getvalue().splitlines()
    order = Order.objects.get()
    assert lines == [f"Order placed: {order.id}", "BTC: 1.75000000", "USDT: 10000.00000000",
                     "BTCUSDT: $115123.46", "ETHUSDT: $4000.50"]
    assert (order.symbol, order.side, order.quantity, order.price, order.order_type) == (
        "BTCUSDT", "BUY", Decimal("0.001"), Decimal("115000"), "LIMIT")
    assert not runner.is_alive()


def test_the_guides_error_handling_example(grpc_server, funded, btcusdt):
    from clients.python.oms_client import OMSClient
    out = io.StringIO()
    with OMSClient(grpc_server) as client, contextlib.redirect_stdout(out):
        exec(GUIDE_ERRORS, {"client": client, "grpc": grpc})  # noqa: S102

    assert out.getvalue().splitlines() == ["Error: price: must not be negative, got -1",
                                           "Status code: StatusCode.INVALID_ARGUMENT"]
    assert Order.objects.count() == 0


def cli(args, server, *, cwd=ROOT, check=True, **kwargs):
    env = {**os.environ, "OMS_SERVER": str(server)}
    out = subprocess.run([sys.executable if a == "python" else a for a in args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=30, **kwargs)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_the_guides_cli_examples(grpc_server, funded, btcusdt, no_prices):
    placed = cli([*CLI, "place", "--symbol", "BTCUSDT", "--side", "BUY", "--quantity", "0.001", "--price", "115000"],
                 grpc_server)
    balance = cli([*CLI, "balance", "--exchange", "binance", "--market", "spot"], grpc_server)

    order = Order.objects.get()
    assert placed.stdout.startswith(f"Order placed: {order.id}")
    assert (order.quantity, order.price) == (Decimal("0.001"), Decimal("115000"))
    assert balance.stdout.splitlines() == ["BTC: free 1.5  locked 0.25  total 1.75000000",
                                           "USDT: free 10000  locked 0  total 10000.00000000"]

    stream = subprocess.Popen([sys.executable, *CLI[1:], "stream", "--symbols", "BTCUSDT", "ETHUSDT", "XRPUSDT"],
                              cwd=ROOT, env={**os.environ, "OMS_SERVER": str(grpc_server), "PYTHONUNBUFFERED": "1"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: grpc_server.server.hub.subscriptions, timeout=20)
        tick("XRPUSDT", 3.1)
        first = stream.stdout.readline()
    finally:
        stream.terminate()
        stream.wait(10)
    assert first.startswith("XRPUSDT: $3.10")


def test_the_cli_manages_orders(grpc_server, funded, btcusdt):
    order_id = Order.objects.get(pk=cli([*CLI, "--json", "place", "--symbol", "BTCUSDT", "--side", "SELL", "--quantity",
                                         "0.002", "--price", "120000"], grpc_server).stdout.split('"')[3]).id

    got = cli([*CLI, "get", "--id", order_id], grpc_server).stdout
    listed = cli([*CLI, "list", "--status", "OPEN", "--symbol", "BTCUSDT"], grpc_server).stdout
    cancelled = cli([*CLI, "cancel", "--id", order_id], grpc_server).stdout

    assert order_id in got and "SELL LIMIT 0.002 BTCUSDT @ 120000" in got
    assert listed.splitlines()[0].startswith(order_id)
    assert cancelled.strip() == f"Order {order_id}: PENDING_CANCEL"
    assert Order.objects.get(pk=order_id).status == "PENDING_CANCEL"


def test_cli_errors_print_the_code_and_details_and_exit_non_zero(grpc_server, funded, btcusdt):
    bad = cli([*CLI, "place", "--symbol", "BTCUSDT", "--side", "BUY", "--quantity", "0.001", "--price", "nan"],
              grpc_server, check=False)
    unknown = cli([*CLI, "get", "--id", "order_123456"], grpc_server, check=False)

    assert bad.returncode == 1 and bad.stderr.startswith("Error: INVALID_ARGUMENT: price: must be a finite number, got NaN")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "Error: NOT_FOUND: order_id: order 'order_123456' not found"
    assert Order.objects.count() == 0


def test_the_sdk_imports_as_the_guide_shows_from_clients_python(grpc_server, funded):
    script = ("from oms_client import OMSClient\n"
              f"print(sorted(OMSClient({str(grpc_server)!r}).get_balance()))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT / "clients" / "python", capture_output=True, text=True,
                         timeout=30)

    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['BTC', 'USDT']"
