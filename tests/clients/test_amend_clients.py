"""Amend through the three clients against a real gRPC server, worker and the local venue: the Go CLI's `amend`,
the Python CLI's `amend` and the Node SDK's amendOrder, each decreasing a resting spot order's quantity (the order
keeps its ids on the venue) and each showing a refusal that names the field."""
from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest

from orders.models import Order, Status
from tests.clients.conftest import ACCOUNT, client_env, parse_table
from tests.clients.test_batch_clients import python_cli
from tests.clients.test_go_cli import ok, run_cli
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def resting(venue, tag: str) -> Order:
    from orders import services

    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = services.order_place(account=ACCOUNT, symbol="BTCUSDT", side="BUY", quantity=Decimal("0.002"),
                                 price=Decimal("99000"), client_order_id=tag)
    return wait_until(lambda: (o := Order.objects.get(pk=order.id)).status == Status.NEW and o, what="NEW")


def amended_on_venue(venue_view, order: Order) -> None:
    on_venue = venue_view.fetch_order(order.exchange_order_id, "BTC/USDT")
    assert on_venue["amount"] == 0.001 and on_venue["clientOrderId"] == order.id
    ledger = Order.objects.get(pk=order.id)
    assert ledger.quantity == Decimal("0.001") and ledger.events.filter(kind="AMENDED").count() == 1


def test_go_cli_amend(go_client, trading_stack, venue, venue_view):
    order = resting(venue, "go-amend")
    args = ("-server", trading_stack.address)

    out = ok(run_cli(go_client, "amend", "-id", order.id, "-quantity", "0.001", *args, token=trading_stack.token))
    refused = run_cli(go_client, "amend", "-id", order.id, "-price", "98000", *args, token=trading_stack.token)

    [row] = parse_table(out.stdout)
    assert row["ORDER ID"] == order.id and row["STATUS"] == "NEW"
    amended_on_venue(venue_view, order)
    assert refused.returncode != 0 and "INVALID_ARGUMENT" in refused.stderr and "price" in refused.stderr


def test_python_cli_amend(trading_stack, venue, venue_view):
    order = resting(venue, "py-amend")

    answer = json.loads(python_cli(trading_stack, "amend", "--id", order.id, "--quantity", "0.001").stdout)

    assert answer["amend_pending"] is False and answer["order"]["order_id"] == order.id
    amended_on_venue(venue_view, order)


NODE_SCRIPT = """
const OMSClient = require(process.argv[1]);
const [address, token, orderId] = process.argv.slice(2);
(async () => {
  const client = new OMSClient(address, { token, timeoutMs: 30000 });
  try {
    const amended = await client.amendOrder({ orderId, quantity: '0.001' });
    let refused = null;
    try { await client.amendOrder({ orderId, quantity: '0.0015' }); } catch (err) {
      refused = { codeName: err.codeName, details: err.details };
    }
    console.log(JSON.stringify({ amended, refused }));
  } finally {
    client.close();
  }
})().catch((err) => { console.error(err); process.exit(1); });
"""


def test_node_sdk_amend_order(node_sdk, trading_stack, venue, venue_view):
    order = resting(venue, "node-amend")

    out = subprocess.run(["node", "-e", NODE_SCRIPT, str(node_sdk / "oms-client.js"), trading_stack.address,
                          trading_stack.token, order.id], env=client_env(), capture_output=True, text=True, timeout=90,
                         cwd=node_sdk)

    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["amended"]["amendPending"] is False and report["amended"]["order"]["orderId"] == order.id
    assert report["amended"]["order"]["quantityDecimal"] == "0.001"
    assert report["refused"]["codeName"] == "INVALID_ARGUMENT" and "quantity" in report["refused"]["details"]
    amended_on_venue(venue_view, order)
