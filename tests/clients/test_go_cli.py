"""The Go CLI (bin/oms-client) end to end: every command of the client guide against a real gRPC server
backed by the local venue, its output checked against the ledger."""
from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest

from accounts.models import Market
from orders import selectors
from orders.grpc.server import OMSGrpcServer
from orders.models import Fill, Order, OrderEvent, Status
from tests.clients.conftest import (
    ACCOUNT,
    FUTURES_RESTING_BUY_PRICE,
    RESTING_BUY_PRICE,
    Running,
    client_env,
    parse_fields,
    parse_table,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def run_cli(go_client, *args: str, token: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    env = client_env(OMS_TOKEN=token) if token else client_env()
    return subprocess.run([str(go_client), *args], env=env, capture_output=True, text=True, timeout=timeout)


def ok(out: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert out.returncode == 0, f"exit {out.returncode}\nstdout: {out.stdout}\nstderr: {out.stderr}"
    assert out.stderr == ""
    return out


def one_line_error(out: subprocess.CompletedProcess, code: int, prefix: str) -> str:
    """A failure is one line on stderr, a non-zero exit, nothing on stdout, and never a Go panic."""
    assert out.returncode == code, f"exit {out.returncode}\nstdout: {out.stdout}\nstderr: {out.stderr}"
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(prefix), lines[0]
    assert "goroutine" not in out.stderr and "panic" not in out.stderr
    return lines[0]


def order_in_ledger(order_id: str, *statuses: str) -> Order:
    return wait_until(lambda: Order.objects.filter(id=order_id, status__in=statuses).first(), timeout=20,
                      what=f"order {order_id} in {statuses}")


def test_orders_place_get_list_cancel(go_client, trading_stack):
    """The guide's order commands: limit, market and futures placement, get-order, list-orders, cancel."""
    stack = trading_stack

    def cli(*args):  # the global flags go before the command here and after it in the next test
        return ok(run_cli(go_client, "-server", stack.address, "-token", stack.token, *args))

    placed = parse_table(cli("place", "-symbol", "BTCUSDT", "-side", "BUY", "-quantity", "0.001",
                             "-price", RESTING_BUY_PRICE, "-account", ACCOUNT).stdout)
    assert len(placed) == 1 and placed[0]["STATUS"] == "NEW", placed
    limit = Order.objects.get(id=placed[0]["ORDER ID"])
    assert (limit.status, limit.side, limit.order_type, limit.market) == (Status.NEW, "BUY", "LIMIT", Market.SPOT)
    assert (limit.quantity, limit.price) == (Decimal("0.001"), Decimal(RESTING_BUY_PRICE))
    assert limit.exchange_order_id and placed[0]["EXCHANGE ORDER ID"] == limit.exchange_order_id

    market_row = parse_table(cli("place", "-symbol", "ETHUSDT", "-side", "SELL", "-type", "MARKET", "-quantity", "0.1").stdout)[0]
    market = order_in_ledger(market_row["ORDER ID"], Status.FILLED)
    assert (market.order_type, market.side, market.filled_quantity) == ("MARKET", "SELL", Decimal("0.1"))
    assert sum(f.quantity for f in Fill.objects.filter(order=market)) == Decimal("0.1")

    futures_row = parse_table(cli("place", "-symbol", "BTCUSDT", "-side", "BUY", "-quantity", "0.01",
                                  "-price", FUTURES_RESTING_BUY_PRICE, "-market", "futures", "-leverage", "10").stdout)[0]
    futures = order_in_ledger(futures_row["ORDER ID"], Status.NEW)
    assert (futures.market, futures.leverage, futures.quantity) == (Market.FUTURES, 10, Decimal("0.01"))
    assert futures_row["MARKET"] == "futures"

    fields = parse_fields(cli("get-order", "-id", limit.id).stdout)
    assert fields["order id"] == limit.id
    assert (fields["symbol"], fields["side"], fields["type"], fields["status"]) == ("BTCUSDT", "BUY", "LIMIT", "NEW")
    assert (Decimal(fields["quantity"]), Decimal(fields["price"])) == (limit.quantity, limit.price)
    assert (fields["account"], fields["market"], fields["exchange order id"]) == (ACCOUNT, "spot", limit.exchange_order_id)

    listed = parse_table(cli("list-orders").stdout)
    assert {r["ORDER ID"] for r in listed} == set(Order.objects.values_list("id", flat=True))
    assert [r["ORDER ID"] for r in listed] == [o.id for o in selectors.order_list()], "newest first, as the ledger"
    assert {r["ORDER ID"]: r["STATUS"] for r in listed}[market.id] == "FILLED"

    open_btc = parse_table(cli("list-orders", "-status", "OPEN", "-symbol", "BTCUSDT").stdout)
    assert {r["ORDER ID"] for r in open_btc} == {limit.id, futures.id}
    assert set(selectors.order_list(status="OPEN", symbol="BTCUSDT").values_list("id", flat=True)) == {limit.id, futures.id}

    cancelled = parse_table(cli("cancel", "-id", limit.id).stdout)[0]
    assert cancelled["ORDER ID"] == limit.id and cancelled["STATUS"] in ("PENDING_CANCEL", "CANCELLED")
    order_in_ledger(limit.id, Status.CANCELLED)
    assert OrderEvent.objects.filter(order_id=limit.id, to_status=Status.CANCELLED).count() == 1
    assert parse_fields(cli("get-order", "-id", limit.id).stdout)["status"] == "CANCELLED"
    assert parse_table(cli("list-orders", "-status", "CANCELLED").stdout)[0]["ORDER ID"] == limit.id


def test_balance_and_positions_match_the_ledger(go_client, trading_stack):
    """`balance` (spot and futures) and `positions` after a futures fill, with global flags after the command."""
    stack = trading_stack

    def cli(*args):
        return ok(run_cli(go_client, *args, "-server", stack.address, token=stack.token))  # token from OMS_TOKEN

    row = parse_table(cli("place", "-symbol", "BTCUSDT", "-side", "BUY", "-type", "MARKET", "-quantity", "0.01",
                          "-market", "futures", "-leverage", "10").stdout)[0]
    order_in_ledger(row["ORDER ID"], Status.FILLED)
    position = wait_until(lambda: next((p for p in stack.open_positions() if p.size == Decimal("0.01")), None),
                          timeout=20, what="the futures position in the ledger")

    for market in ("spot", "futures"):
        out = cli("balance", "-exchange", "binance", "-market", market)
        rows = parse_table(out.stdout.split("\n", 1)[1])  # after the "account main, spot" line
        ledger = stack.balances(market)
        assert ledger, f"the ledger holds {market} balances"
        assert {r["ASSET"] for r in rows} == set(ledger)
        for r in rows:
            b = ledger[r["ASSET"]]
            assert (Decimal(r["FREE"]), Decimal(r["LOCKED"])) == (b.free, b.locked), r
            assert Decimal(r["TOTAL"]) == pytest.approx(b.free + b.locked)

    rows = parse_table(cli("positions", "-exchange", "binance").stdout)
    assert [(r["SYMBOL"], r["SIDE"], Decimal(r["SIZE"]), int(r["LEVERAGE"])) for r in rows] == [
        (position.symbol, position.side, position.size, position.leverage)]
    assert (position.symbol, position.side) == ("BTCUSDT", "LONG")
    assert Decimal(rows[0]["ENTRY"]) == pytest.approx(position.entry_price)


def test_stream_orders_and_prices(go_client, trading_stack):
    """`stream-orders` shows a new order's updates as the ledger records them; `stream-prices` shows the
    guide's three symbols by default; Ctrl-C stops a stream cleanly."""
    stack = trading_stack
    since = OrderEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    stream = Running([str(go_client), "stream-orders", "-server", stack.address, "-since", str(since)],
                     client_env(OMS_TOKEN=stack.token))
    try:
        placed = parse_table(ok(run_cli(go_client, "-server", stack.address, "place", "-symbol", "BTCUSDT", "-side", "BUY",
                                        "-quantity", "0.001", "-price", RESTING_BUY_PRICE, token=stack.token)).stdout)[0]
        order = order_in_ledger(placed["ORDER ID"], Status.NEW)
        stream.wait_line("the NEW order on the stream", lambda line: order.id in line and line.endswith(" NEW"))
        assert stream.interrupt() == 0
    finally:
        stream.kill()
    assert stream.err == []
    rows = [r for r in parse_table("\n".join(stream.out)) if r["ORDER ID"] == order.id]
    events = list(OrderEvent.objects.filter(order=order).order_by("id"))
    assert [int(r["SEQUENCE"]) for r in rows] == [e.id for e in events], "each ledger event once, in order"
    assert [r["STATUS"] for r in rows] == [e.to_status for e in events]
    assert all(Decimal(r["QUANTITY"]) == Decimal("0.001") for r in rows)

    prices = ok(run_cli(go_client, "stream-prices", "-count", "9", "-server", stack.address, token=stack.token))
    rows = parse_table(prices.stdout)
    assert len(rows) == 9
    assert {r["SYMBOL"] for r in rows} <= {"BTCUSDT", "ETHUSDT", "XRPUSDT"}
    assert all(Decimal(r["LAST"]) > 0 and r["EXCHANGE"] == "binance" for r in rows)

    prices = Running([str(go_client), "-server", stack.address, "stream-prices", "-symbols", "ETHUSDT"], client_env(OMS_TOKEN=stack.token))
    try:
        prices.wait_line("an ETHUSDT price", lambda line: "ETHUSDT" in line)
        assert prices.interrupt() == 0
    finally:
        prices.kill()
    assert prices.err == []
    assert {r["SYMBOL"] for r in parse_table("\n".join(prices.out))} == {"ETHUSDT"}


def test_stream_orders_reconnects_and_misses_nothing(go_client, trading_stack):
    """The server goes away mid-stream and comes back on the same port: the CLI reconnects with backoff and
    resumes after the last update it printed, so the order placed meanwhile is shown once."""
    stack = trading_stack
    first = OMSGrpcServer("127.0.0.1:0", workers=4, require_auth=True)
    first.start()
    port = first.port
    servers = [first]
    since = OrderEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    stream = Running([str(go_client), "-server", f"127.0.0.1:{port}", "stream-orders", "-since", str(since)],
                     client_env(OMS_TOKEN=stack.token))

    def place() -> str:
        out = ok(run_cli(go_client, "-server", stack.address, "place", "-symbol", "BTCUSDT", "-side", "BUY",
                         "-quantity", "0.001", "-price", RESTING_BUY_PRICE, token=stack.token))
        return parse_table(out.stdout)[0]["ORDER ID"]

    try:
        before = place()
        stream.wait_line("the first order", lambda line: before in line and line.endswith(" NEW"))
        first.stop(grace=0)
        stream.wait_line("a reconnect notice", lambda line: line.startswith("stream-orders: UNAVAILABLE"), stderr=True)
        during = place()
        order_in_ledger(during, Status.NEW)
        second = OMSGrpcServer(f"127.0.0.1:{port}", workers=4, require_auth=True)
        second.start()
        servers.append(second)
        stream.wait_line("the reconnect", lambda line: line == "stream-orders: reconnected", stderr=True, timeout=30)
        stream.wait_line("the order placed while the server was away", lambda line: during in line and line.endswith(" NEW"))
        assert stream.interrupt() == 0
    finally:
        stream.kill()
        for server in servers[1:]:
            server.stop(grace=0)
    rows = parse_table("\n".join(stream.out))
    for order_id in (before, during):
        mine = [r for r in rows if r["ORDER ID"] == order_id]
        assert [int(r["SEQUENCE"]) for r in mine] == list(
            OrderEvent.objects.filter(order_id=order_id).order_by("id").values_list("id", flat=True)), f"{order_id} once each"
    assert all("reconnecting in" in line or line == "stream-orders: reconnected" for line in stream.err), stream.err


def test_refusals_are_one_line_and_change_nothing(go_client, trading_stack):
    """Bad input, an unknown order and a bad token: the gRPC code and details on one line, exit 1, no order."""
    stack = trading_stack
    orders_before = Order.objects.count()

    bad_quantity = run_cli(go_client, "-server", stack.address, "place", "-symbol", "BTCUSDT", "-side", "BUY",
                           "-quantity", "0", "-price", RESTING_BUY_PRICE, token=stack.token)
    assert "quantity" in one_line_error(bad_quantity, 1, "error: INVALID_ARGUMENT: ")

    bad_side = run_cli(go_client, "-server", stack.address, "place", "-symbol", "BTCUSDT", "-side", "HOLD",
                       "-quantity", "1", "-price", RESTING_BUY_PRICE, token=stack.token)
    assert "side" in one_line_error(bad_side, 1, "error: INVALID_ARGUMENT: ")

    one_line_error(run_cli(go_client, "-server", stack.address, "get-order", "-id", "0" * 32, token=stack.token),
                   1, "error: NOT_FOUND: ")
    one_line_error(run_cli(go_client, "-server", stack.address, "-token", "not-a-token", "list-orders"), 1, "error: UNAUTHENTICATED: ")
    one_line_error(run_cli(go_client, "-server", stack.address, "balance"), 1, "error: UNAUTHENTICATED: ")
    one_line_error(run_cli(go_client, "-server", stack.address, "stream-orders"), 1, "error: UNAUTHENTICATED: ")
    assert Order.objects.count() == orders_before


def test_tls_with_the_servers_ca(go_client, trading_stack, tls_server, tls_files):
    """-ca trusts the server's certificate; plaintext, or TLS without trusting it, fails on one line."""
    cert, _ = tls_files
    out = ok(run_cli(go_client, "-server", tls_server, "-ca", str(cert), "place", "-symbol", "BTCUSDT", "-side", "BUY",
                     "-quantity", "0.001", "-price", RESTING_BUY_PRICE, token=trading_stack.token))
    order_in_ledger(parse_table(out.stdout)[0]["ORDER ID"], Status.NEW)
    orders = Order.objects.count()
    one_line_error(run_cli(go_client, "-server", tls_server, "-timeout", "5s", "list-orders", token=trading_stack.token),
                   1, "error: UNAVAILABLE: ")
    untrusted = one_line_error(run_cli(go_client, "-server", tls_server, "-tls", "-timeout", "5s", "place", "-symbol", "BTCUSDT",
                                       "-side", "BUY", "-quantity", "0.001", "-price", RESTING_BUY_PRICE, token=trading_stack.token),
                               1, "error: UNAVAILABLE: ")
    assert "certificate" in untrusted
    assert Order.objects.count() == orders


@pytest.mark.parametrize("args, message", [
    ([], "missing command"),
    (["trade"], 'unknown command "trade"'),
    (["-bogus", "list-orders"], "flag provided but not defined: -bogus"),
    (["list-orders", "-bogus"], "flag provided but not defined: -bogus"),
    (["place", "-symbol", "BTCUSDT", "-quantity", "1"], "place: -side is required"),
    (["place", "-symbol", "BTCUSDT", "-side", "BUY", "-quantity", "lots"], 'invalid value "lots" for flag -quantity'),
    (["cancel"], "cancel: -id is required"),
    (["get-order", "-id", "x", "extra"], 'unexpected argument "extra"'),
    (["-timeout", "soon", "list-orders"], 'invalid value "soon" for flag -timeout'),
    (["-ca", "/nonexistent.pem", "list-orders"], "-ca: open /nonexistent.pem"),
])
def test_bad_usage_is_one_line(go_client, args, message):
    line = one_line_error(run_cli(go_client, *args), 2, "oms-client: ")
    assert message in line


@pytest.mark.parametrize("command", [["list-orders"], ["stream-orders"], ["stream-prices"],
                                     ["place", "-symbol", "BTCUSDT", "-side", "BUY", "-quantity", "1", "-price", "1"]])
def test_server_down_is_one_line(go_client, free_port, command):
    line = one_line_error(run_cli(go_client, "-server", f"127.0.0.1:{free_port}", "-timeout", "5s", *command),
                          1, "error: UNAVAILABLE: ")
    assert "connection refused" in line


def test_help_lists_every_command(go_client):
    out = ok(run_cli(go_client, "-h"))
    for command in ("place", "cancel", "get-order", "list-orders", "balance", "positions", "stream-prices", "stream-orders",
                    "candles", "place-batch", "cancel-all"):
        assert f"\n  {command} " in out.stdout
