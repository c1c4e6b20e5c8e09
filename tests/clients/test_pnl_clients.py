"""PnL and positions through the three clients (GetPnL and GetPositions over gRPC): the Python SDK and CLI, the Go
CLI's `pnl -since 24h` and `positions`, and the Node SDK's getPnl/getPositions, after a futures position opened
and partly closed on the local venue. Each is checked against the fills in the ledger and against the venue."""
from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import grpc
import pytest

from clients.python.oms_client import OMSClient
from clients.python.oms_client import main as python_cli
from orders import selectors_pnl
from orders.models import Fill, Order, Status
from tests.clients.conftest import ACCOUNT, client_env, parse_table
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def _filled(client: OMSClient, side: str, quantity: str) -> Order:
    placed = client.place_order("BTCUSDT", side, quantity, order_type="MARKET", market="futures", leverage=5,
                                account_id=ACCOUNT)
    return wait_until(lambda: Order.objects.filter(id=placed["order_id"], status=Status.FILLED).first(), timeout=20,
                      what=f"the futures {side} to fill")


@pytest.fixture
def traded(trading_stack):
    """BUY 0.01 BTCUSDT on USD-M, then SELL 0.004: a long of 0.006 left, and the 0.004 closed realized."""
    stack = trading_stack
    with OMSClient(stack.address, token=stack.token) as client:
        buy, sell = _filled(client, "BUY", "0.01"), _filled(client, "SELL", "0.004")
    fills = list(Fill.objects.filter(order__in=[buy, sell]).select_related("order").order_by("executed_at", "id"))
    wait_until(lambda: any(p.size == D("0.006") for p in stack.open_positions()), timeout=20,
               what="the venue's position of 0.006 synced")
    return stack, fills


def _expected(fills: list[Fill]) -> dict:
    """What the report must say about these fills, worked out here from the fills themselves: the average entry of
    the buys, the SELL realizing (price - entry) × quantity, fees in USDT, volume Σ price × quantity."""
    buys = [f for f in fills if f.order.side == "BUY"]
    sells = [f for f in fills if f.order.side == "SELL"]
    entry = sum(f.price * f.quantity for f in buys) / sum(f.quantity for f in buys)
    assert {f.fee_asset for f in fills} == {"USDT"}
    realized = sum((f.price - entry) * f.quantity for f in sells)
    fees = sum(f.fee for f in fills)
    return {"realized": realized, "fees": fees, "net": realized - fees, "volume": sum(f.price * f.quantity for f in fills),
            "trades": len(fills), "entry": entry}


def _close(a: D, b: D) -> bool:
    return abs(a - b) <= D("0.0000001")  # the ledger rounds realized PnL to 8 decimal places, per fill


def test_python_sdk_and_cli(traded):
    stack, fills = traded
    want = _expected(fills)
    with OMSClient(stack.address, token=stack.token) as client:
        report = client.get_pnl(since="24h", group_by="symbol", account_id=ACCOUNT)
        day = client.get_pnl(group_by="day")  # default range: today (UTC) so far, every account the trader sees
        positions = client.get_positions(account_id=ACCOUNT, symbol="BTC/USDT")
        with pytest.raises(grpc.RpcError) as refused:
            client.get_pnl(group_by="hour")
    with OMSClient(stack.address) as anonymous, pytest.raises(grpc.RpcError) as unauthenticated:
        anonymous.get_pnl()

    total = report["total"]
    assert (total["trade_count"], total["volume"], total["fees"], total["funding"]) == (
        want["trades"], want["volume"], want["fees"], 0)
    assert _close(total["realized_pnl"], want["realized"]) and _close(total["net_pnl"], want["net"])
    assert [r["key"] for r in report["rows"]] == ["BTCUSDT"] and report["rows"][0]["trade_count"] == want["trades"]
    assert report["account_ids"] == [ACCOUNT]
    assert timedelta(hours=24) <= report["until"] - report["since"] < timedelta(hours=24, seconds=10)  # until: now
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert [r["key"] for r in day["rows"]] == [today] and day["since"].strftime("%H:%M:%S") == "00:00:00"
    assert day["total"]["trade_count"] == want["trades"]

    [position] = positions
    venue = stack.open_positions()[0]
    assert (position["source"], position["side"], position["size_decimal"]) == ("ledger", "LONG", D("0.006"))
    assert (position["venue_side"], position["venue_size_decimal"]) == (venue.side, venue.size)
    assert _close(position["entry_price_decimal"], want["entry"])
    assert position["entry_price_decimal"] == pytest.approx(venue.entry_price)  # the ledger folds as the venue does
    assert _close(position["realized_pnl_decimal"], want["realized"]) and position["fees_decimal"] == want["fees"]
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and refused.value.details().startswith("group_by:")
    assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED

    out = io.StringIO()
    assert python_cli(["--server", stack.address, "--token", stack.token, "--json", "pnl", "--since", "24h",
                       "--group-by", "symbol"], out=out) == 0
    printed = json.loads(out.getvalue())
    assert printed["total"]["trade_count"] == want["trades"] and D(printed["total"]["volume"]) == want["volume"]
    assert python_cli(["--server", stack.address, "--token", stack.token, "pnl", "--since", "soon"]) == 2
    out = io.StringIO()
    assert python_cli(["--server", stack.address, "--token", stack.token, "--json", "positions"], out=out) == 0
    [printed_position] = json.loads(out.getvalue())  # a list, as before the ledger's figures were added to it
    assert (printed_position["source"], printed_position["size_decimal"]) == ("ledger", "0.006")
    out = io.StringIO()
    assert python_cli(["--server", stack.address, "--token", stack.token, "--json", "holdings"], out=out) == 0
    assert json.loads(out.getvalue()) == []  # futures fills hold no spot asset


def test_go_cli_pnl_and_positions(go_client, traded):
    stack, fills = traded
    want = _expected(fills)

    def cli(*args):
        out = subprocess.run([str(go_client), "-server", stack.address, *args], env=client_env(OMS_TOKEN=stack.token),
                             capture_output=True, text=True, timeout=60)
        return out

    out = cli("pnl", "-since", "24h", "-group-by", "symbol")
    assert out.returncode == 0 and out.stderr == "", out.stderr
    title, table = out.stdout.split("\n", 1)
    assert title.startswith(f"pnl of {ACCOUNT} from ")
    rows = {r["KEY"]: r for r in parse_table(table)}
    assert set(rows) == {"BTCUSDT", "TOTAL"}
    for row in rows.values():
        assert (int(row["TRADES"]), D(row["VOLUME"]), D(row["FEES"]), D(row["FUNDING"])) == (
            want["trades"], want["volume"], want["fees"], 0)
        assert _close(D(row["REALIZED PNL"]), want["realized"]) and _close(D(row["NET PNL"]), want["net"])

    days = parse_table(cli("pnl", "-group-by", "day").stdout.split("\n", 1)[1])
    assert [r["KEY"] for r in days] == [datetime.now(UTC).strftime("%Y-%m-%d"), "TOTAL"]

    positions = parse_table(cli("positions", "-account", ACCOUNT).stdout.split("\n\n")[0])
    venue = stack.open_positions()[0]
    assert [(r["SYMBOL"], r["SOURCE"], r["SIDE"], D(r["SIZE"])) for r in positions] == [("BTCUSDT", "ledger", "LONG", D("0.006"))]
    assert _close(D(positions[0]["ENTRY"]), want["entry"])
    assert positions[0]["VENUE"] == f"{venue.side} {venue.size.normalize():f} @ {venue.entry_price.normalize():f}"
    assert _close(D(positions[0]["REALIZED PNL"]), want["realized"]) and D(positions[0]["FEES"]) == want["fees"]

    bad = cli("pnl", "-since", "yesterday")
    refused = cli("pnl", "-group-by", "week")
    assert bad.returncode == 2 and "-since" in bad.stderr and bad.stdout == ""
    assert refused.returncode == 1 and refused.stderr.startswith("error: INVALID_ARGUMENT: group_by:")


def test_node_sdk_pnl_and_positions(node_sdk, traded):
    stack, fills = traded
    want = _expected(fills)
    script = (
        "const OMSClient = require('./oms-client');"
        f"const c = new OMSClient({json.dumps(stack.address)}, {{ token: {json.dumps(stack.token)} }});"
        "Promise.all([c.getPnl({ since: '24h', groupBy: 'symbol' }), c.getPositions({ symbol: 'BTCUSDT' }),"
        " c.getPnl({ groupBy: 'week' }).catch((e) => e.codeName + ' ' + e.details)])"
        ".then(([pnl, positions, refused]) => { console.log(JSON.stringify({ pnl, positions, refused })); c.close(); })"
        ".catch((e) => { console.error(e.codeName + ': ' + e.details); c.close(); process.exit(1); });"
    )
    out = subprocess.run(["node", "-e", script], cwd=node_sdk, env=client_env(), capture_output=True, text=True,
                         timeout=60)

    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    total = got["pnl"]["total"]
    assert (total["tradeCount"], D(total["volumeDecimal"]), D(total["feesDecimal"])) == (
        want["trades"], want["volume"], want["fees"])
    assert _close(D(total["realizedPnlDecimal"]), want["realized"]) and total["realizedPnl"] == pytest.approx(
        float(want["realized"]))
    assert [r["key"] for r in got["pnl"]["rows"]] == ["BTCUSDT"] and got["pnl"]["accountIds"] == [ACCOUNT]
    [position] = got["positions"]
    assert (position["source"], position["side"], D(position["sizeDecimal"]), position["venueSide"]) == (
        "ledger", "LONG", D("0.006"), "LONG")
    assert got["refused"].startswith("INVALID_ARGUMENT group_by:")


def test_the_clients_read_what_the_selector_reads(traded):
    """The SDK's report is the selector's (orders.selectors_pnl.pnl_report) for the same range, field by field
    (but the unrealized PnL, which moves with the price feed between the two reads)."""
    stack, fills = traded
    since = datetime.now(UTC) - timedelta(hours=2)
    with OMSClient(stack.address, token=stack.token) as client:
        report = client.get_pnl(since=since, until=since + timedelta(hours=3), group_by="symbol", account_id=ACCOUNT)
    direct = selectors_pnl.pnl_report(accounts=[stack.account], since=report["since"], until=report["until"],
                                      group_by="symbol")
    fields = ("key", "realized_pnl", "fees", "other_fees", "funding", "net_pnl", "volume", "trade_count")
    assert [{k: row[k] for k in fields} for row in [*report["rows"], report["total"]]] == [
        {k: getattr(row, k) for k in fields} for row in [*direct.rows, direct.total]]
    assert report["total"]["unrealized_pnl"] is not None and report["total"]["trade_count"] == len(fills)
