"""Batches through the three clients against a real gRPC server, worker and the local venue: the Go CLI's
`place-batch` (stdin) and `cancel-all`, the Python CLI's `place-batch` (a file), `cancel-batch` and `cancel-all`,
and the Node SDK's placeOrders / cancelOrders / cancelAllOrders. Each run ends with nothing of it open on the venue."""
from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from orders.models import Order, Status
from tests.clients.conftest import ACCOUNT, ROOT, client_env, parse_table
from tests.clients.test_go_cli import ok, run_cli
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PYTHON_CLI = ROOT / "clients" / "python" / "oms_client.py"


def batch(tag: str, count: int = 4) -> list[dict]:
    """`count` BUYs resting under the market (one price step apart), then one refused: its price is off the tick."""
    orders = [{"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001", "price": str(100000 + i),
               "client_order_id": f"{tag}-{i}", "account_id": ACCOUNT} for i in range(count)]
    return [*orders, {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001", "price": "100000.001",
                      "account_id": ACCOUNT}]


def all_cancelled_everywhere(venue_view, ids: list[str]) -> None:
    wait_until(lambda: Order.objects.filter(id__in=ids, status=Status.CANCELLED).count() == len(ids), timeout=30,
               what="every order of the batch CANCELLED in the ledger")
    assert venue_view.fetch_open_orders("BTC/USDT") == []


def working(ids: list[str]) -> None:
    wait_until(lambda: Order.objects.filter(id__in=ids, status=Status.NEW).count() == len(ids), timeout=30,
               what="every placed order NEW (acknowledged by the venue)")


def test_go_cli_place_batch_from_stdin_then_cancel_all(go_client, trading_stack, venue_view):
    stack = trading_stack
    env = client_env(OMS_TOKEN=stack.token)

    out = ok(subprocess.run([str(go_client), "-server", stack.address, "place-batch"], input=json.dumps(batch("go")),
                            env=env, capture_output=True, text=True, timeout=60))

    rows = parse_table(out.stdout)
    assert [r["#"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert rows[4]["STATUS"] == "REFUSED" and rows[4]["ERROR"].startswith("INVALID_ARGUMENT: price: ")
    assert out.stdout.rstrip().endswith("4 accepted, 1 refused")
    ids = [r["ORDER ID"] for r in rows[:4]]
    assert [Order.objects.get(id=i).client_order_id for i in ids] == [f"go-{i}" for i in range(4)]
    working(ids)

    cancelled = parse_table(ok(run_cli(go_client, "cancel-all", "-account", ACCOUNT, "-symbol", "btcusdt",
                                       "-server", stack.address, token=stack.token)).stdout)

    assert sorted(r["ORDER ID"] for r in cancelled) == sorted(ids)
    all_cancelled_everywhere(venue_view, ids)


def test_go_cli_place_batch_refuses_a_file_it_cannot_read(go_client, tmp_path):
    bad = tmp_path / "orders.json"
    bad.write_text(json.dumps([{"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001", "prize": "1"}]))

    out = run_cli(go_client, "place-batch", "-file", str(bad))

    assert out.returncode == 2 and out.stdout == ""
    assert 'unknown field "prize"' in out.stderr and len(out.stderr.splitlines()) == 1


def python_cli(stack, *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, str(PYTHON_CLI), "--server", stack.address, "--token", stack.token, "--json",
                          *args], env=client_env(), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out


def test_python_cli_place_batch_cancel_batch_and_cancel_all(trading_stack, venue_view, tmp_path):
    stack = trading_stack
    orders = tmp_path / "orders.json"
    orders.write_text(json.dumps(batch("py")))

    placed = json.loads(python_cli(stack, "place-batch", str(orders)).stdout)

    assert (placed["accepted"], placed["refused"]) == (4, 1)
    assert placed["results"][4]["error"]["field"] == "price"
    ids = [r["order"]["order_id"] for r in placed["results"][:4]]
    working(ids)
    one = json.loads(python_cli(stack, "cancel-batch", "--ids", ids[0], "no-such-order").stdout)
    assert [r["ok"] for r in one["results"]] == [True, False]
    assert one["results"][1]["error"]["code"] == "NOT_FOUND"

    rest = json.loads(python_cli(stack, "cancel-all", "--account", ACCOUNT, "--symbol", "BTCUSDT").stdout)

    assert sorted(o["order_id"] for o in rest) == sorted(ids[1:])
    all_cancelled_everywhere(venue_view, ids)


NODE_SCRIPT = """
const OMSClient = require(process.argv[1]);
const [address, token, account, orders] = process.argv.slice(2);
(async () => {
  const client = new OMSClient(address, { token, timeoutMs: 30000 });
  try {
    const placed = await client.placeOrders(JSON.parse(orders));
    const ids = placed.results.filter((r) => r.ok).map((r) => r.order.orderId);
    const one = await client.cancelOrders([ids[0], 'no-such-order']);
    const rest = await client.cancelAllOrders({ accountId: account, symbol: 'BTCUSDT' });
    let tooMany = null;
    try { await client.placeOrders([]); } catch (err) { tooMany = { codeName: err.codeName, details: err.details }; }
    console.log(JSON.stringify({ placed, one, rest: rest.map((o) => o.orderId), tooMany }));
  } finally {
    client.close();
  }
})().catch((err) => { console.error(err); process.exit(1); });
"""


def test_node_sdk_place_orders_cancel_orders_cancel_all(node_sdk, trading_stack, venue_view):
    stack = trading_stack
    orders = [{"symbol": o["symbol"], "side": o["side"], "quantity": o["quantity"], "price": o["price"],
               "accountId": ACCOUNT, **({"clientOrderId": o["client_order_id"]} if "client_order_id" in o else {})}
              for o in batch("node")]

    out = subprocess.run(["node", "-e", NODE_SCRIPT, str(node_sdk / "oms-client.js"), stack.address, stack.token, ACCOUNT,
                          json.dumps(orders)], env=client_env(), capture_output=True, text=True, timeout=90, cwd=node_sdk)

    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    placed = report["placed"]
    assert (placed["accepted"], placed["refused"]) == (4, 1)
    assert placed["results"][4] == {"index": 4, "ok": False, "error": placed["results"][4]["error"]}
    assert placed["results"][4]["error"]["code"] == "INVALID_ARGUMENT" and placed["results"][4]["error"]["field"] == "price"
    ids = [r["order"]["orderId"] for r in placed["results"][:4]]
    assert [Order.objects.get(id=i).price for i in ids] == [Decimal(100000 + i) for i in range(4)]
    assert [r["ok"] for r in report["one"]["results"]] == [True, False]
    assert sorted(report["rest"]) == sorted(ids[1:])
    assert report["tooMany"]["codeName"] == "INVALID_ARGUMENT" and report["tooMany"]["details"].startswith("orders: ")
    all_cancelled_everywhere(venue_view, ids)
