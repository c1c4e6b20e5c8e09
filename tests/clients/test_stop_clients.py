"""Conditional orders through the three clients against a real gRPC server, worker and the local venue: the Go CLI's
`place -type STOP_LIMIT -stop-price` (triggered by the venue's price, then shown by get-order), the Python CLI's
`place --type STOP_MARKET --stop-price` (cancelled before its trigger), and the Node SDK's placeOrder({stopPrice})."""
from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest

from orders.models import Order, Status
from tests.clients.conftest import ACCOUNT, client_env, parse_fields, parse_table
from tests.clients.test_batch_clients import python_cli
from tests.clients.test_go_cli import ok, order_in_ledger, run_cli

pytestmark = pytest.mark.e2e


def test_go_cli_places_a_stop_limit_that_triggers_and_fills(go_client, trading_stack, venue):
    stack = trading_stack
    venue.control.set_price("BTCUSDT", 100000, freeze=True)

    def cli(*args):
        return ok(run_cli(go_client, "-server", stack.address, "-token", stack.token, *args))

    row = parse_table(cli("place", "-symbol", "BTCUSDT", "-side", "SELL", "-quantity", "0.001", "-type", "stop_limit",
                          "-price", "94000", "-stop-price", "95000", "-account", ACCOUNT).stdout)[0]
    order = order_in_ledger(row["ORDER ID"], Status.NEW)
    assert (order.order_type, order.stop_price, order.price) == ("STOP_LIMIT", Decimal("95000"), Decimal("94000"))
    assert parse_fields(cli("get-order", "-id", order.id).stdout)["stop price"] == "95000 (armed)"

    venue.control.set_price("BTCUSDT", 94900, freeze=True)

    order_in_ledger(order.id, Status.FILLED)
    fields = parse_fields(cli("get-order", "-id", order.id).stdout)
    assert fields["status"] == "FILLED" and fields["stop price"].startswith("95000 (triggered 20")


def test_python_cli_places_a_stop_market_and_cancels_it_before_the_trigger(trading_stack, venue):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)

    placed = json.loads(python_cli(trading_stack, "place", "--symbol", "BTCUSDT", "--side", "SELL", "--quantity",
                                   "0.001", "--type", "STOP_MARKET", "--stop-price", "95000", "--account", ACCOUNT).stdout)

    assert placed["status"] == "NEW" and placed["order"]["stop_price"] == "95000"
    order = Order.objects.get(pk=placed["order_id"])
    assert (order.order_type, order.stop_price, order.price) == ("STOP_MARKET", Decimal("95000"), None)
    python_cli(trading_stack, "cancel", "--id", order.id)
    order_in_ledger(order.id, Status.CANCELLED)
    assert Order.objects.get(pk=order.id).triggered_at is None


NODE_SCRIPT = """
const OMSClient = require(process.argv[1]);
const [address, token, account] = process.argv.slice(2);
(async () => {
  const client = new OMSClient(address, { token, timeoutMs: 30000 });
  try {
    const placed = await client.placeOrder({ symbol: 'BTCUSDT', side: 'SELL', quantity: '0.001',
      orderType: 'TAKE_PROFIT_MARKET', stopPrice: '105000', accountId: account });
    const order = await client.getOrder(placed.orderId);
    console.log(JSON.stringify({ placed, order }));
  } finally {
    client.close();
  }
})().catch((err) => { console.error(err); process.exit(1); });
"""


def test_node_sdk_places_a_take_profit_with_stop_price(node_sdk, trading_stack, venue):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)

    out = subprocess.run(["node", "-e", NODE_SCRIPT, str(node_sdk / "oms-client.js"), trading_stack.address,
                          trading_stack.token, ACCOUNT], env=client_env(), capture_output=True, text=True, timeout=90,
                         cwd=node_sdk)

    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    order = report["order"]
    assert (order["orderType"], order["stopPriceDecimal"], order["stopPrice"]) == ("TAKE_PROFIT_MARKET", "105000", 105000)
    assert order["triggeredAt"] is None
    ledger = Order.objects.get(pk=report["placed"]["orderId"])
    assert (ledger.order_type, ledger.stop_price) == ("TAKE_PROFIT_MARKET", Decimal("105000"))
