"""The guide's examples end to end: real gRPC server, real worker, ccxt over HTTP to the local venue.
Outcomes are checked against the ledger and against the venue itself (an independent ccxt client)."""
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from accounts.models import Balance
from clients.python.oms_client import OMSClient
from exchanges.marketdata import poll_venue
from orders.models import Order
from proto import oms_pb2, oms_pb2_grpc
from tests.orders.grpc.conftest import StreamReader
from tests.orders.grpc.test_guide_python import CLI, cli, guide_usage_started
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[3]

GUIDE_INTEGRATION_TEST = '''
# Python test example
import unittest
from oms_client import OMSClient

class TestOMSClient(unittest.TestCase):
    def setUp(self):
        self.client = OMSClient("localhost:50051")

    def test_place_order(self):
        result = self.client.place_order(
            symbol="BTCUSDT",
            side="BUY",
            quantity=0.001,
            price=100000
        )
        self.assertIsNotNone(result['order_id'])
        self.assertEqual(result['status'], 'NEW')
'''


@pytest.fixture(autouse=True)
def patient_placement(settings):
    settings.OMS_PLACE_WAIT_SECONDS = 10  # answered as soon as the worker records the venue's reply


def ledger_balances(account, market="spot"):
    return {b.asset: b.free + b.locked for b in Balance.objects.filter(account=account, market=market)}


def venue_balances(venue_view):
    return {r["asset"]: Decimal(r["free"]) + Decimal(r["locked"])
            for r in venue_view.fetch_balance()["info"]["balances"] if Decimal(r["free"]) or Decimal(r["locked"])}


def on_venue(venue_view, order_id):
    return venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order_id})


def test_the_guides_python_examples_against_the_venue(grpc_server, venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 120000, freeze=True)  # the guide's 115000 bid rests on the book
    out, scope, runner = guide_usage_started(grpc_server)
    wait_until(lambda: "client" in scope and scope["client"]._streams, what="the price stream to open")
    poll_venue(venue_account)  # one round of the market-data feed: the venue's tickers go out on Redis
    wait_until(lambda: "BTCUSDT: $" in out.getvalue() and "ETHUSDT: $" in out.getvalue(), what="prices printed")
    scope["client"].close()
    runner.join(10)

    lines = out.getvalue().splitlines()
    order = Order.objects.get()
    assert lines[0] == f"Order placed: {order.id}"
    assert order.status == "NEW" and order.exchange_order_id == on_venue(venue_view, order.id)["id"]
    balances = ledger_balances(venue_account)
    assert lines[1:1 + len(balances)] == [f"{asset}: {total:.8f}" for asset, total in sorted(balances.items()) if total]
    assert balances == venue_balances(venue_view)
    assert "BTCUSDT: $120000.00" in lines


def test_the_guides_integration_test_passes_as_written(grpc_server, venue, venue_account, venue_view, tmp_path):
    venue.control.set_price("BTCUSDT", 115000, freeze=True)
    (tmp_path / "test_guide_integration.py").write_text(
        GUIDE_INTEGRATION_TEST.replace('"localhost:50051"', repr(str(grpc_server))))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "clients" / "python")}

    out = subprocess.run([sys.executable, "-m", "unittest", "-v", "test_guide_integration"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)

    assert out.returncode == 0, out.stderr
    order = Order.objects.get()
    assert order.status == "NEW" and on_venue(venue_view, order.id)["status"] == "open"


def test_a_stream_sees_new_then_filled_and_the_balance_moves(grpc_server, venue, venue_account, venue_view):
    before = ledger_balances(venue_account)
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server))
    reader = StreamReader(stub.StreamOrders(oms_pb2.StreamOrdersRequest(account_id="main"))).start()

    with OMSClient(grpc_server) as client:
        result = client.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, order_type="MARKET")
        wait_until(lambda: any(u.update_type == "FILLED" for u in reader.messages), what="FILLED on the stream")
        reader.stop()
        order = Order.objects.get(pk=result["order_id"])
        after = wait_until(lambda: ledger_balances(venue_account) if ledger_balances(venue_account) == venue_balances(
            venue_view) and ledger_balances(venue_account) != before else None, what="balances synced after the fill")
        balance = client.get_balance(exchange="binance", market="spot")

    kinds = [u.update_type for u in reader.messages]
    assert kinds[0] == "NEW" and kinds[-1] == "FILLED" and set(kinds) <= {"NEW", "UPDATE", "FILLED"}
    assert [u.sequence for u in reader.messages] == sorted({u.sequence for u in reader.messages})
    assert result["status"] == "FILLED" == order.status and order.filled_quantity == Decimal("0.001")
    assert after["BTC"] == before["BTC"] + Decimal("0.001") - order.cumulative_fee
    assert {asset: Decimal(str(b["total"])) for asset, b in balance.items()} == {a: Decimal(str(float(t))) for a, t in after.items()}


def test_the_guides_cli_examples_against_the_venue(grpc_server, venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 120000, freeze=True)

    placed = cli([*CLI, "place", "--symbol", "BTCUSDT", "--side", "BUY", "--quantity", "0.001", "--price", "115000"],
                 grpc_server)
    balance = cli([*CLI, "balance", "--exchange", "binance", "--market", "spot"], grpc_server)
    order = Order.objects.get()
    cancelled = cli([*CLI, "cancel", "--id", order.id], grpc_server)

    assert placed.stdout.startswith(f"Order placed: {order.id}  status NEW  exchange id ")
    assert {line.split(":")[0] for line in balance.stdout.splitlines()} == set(venue_balances(venue_view))
    assert cancelled.stdout.strip() in (f"Order {order.id}: CANCELLED", f"Order {order.id}: PENDING_CANCEL")
    wait_until(lambda: on_venue(venue_view, order.id)["status"] == "canceled", what="cancelled on the venue")
    wait_until(lambda: Order.objects.get(pk=order.id).status == "CANCELLED", what="cancelled in the ledger")
