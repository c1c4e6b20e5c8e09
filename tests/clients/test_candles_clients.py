"""Candles through the three clients (GetCandles over gRPC): the Python SDK and CLI, the Go CLI's
`candles -symbol BTCUSDT -interval 1m -limit 100`, and the Node SDK's getCandles, each checked against the venue's
own klines."""
from __future__ import annotations

import io
import json
import subprocess
from datetime import datetime
from decimal import Decimal as D

import grpc
import pytest

from accounts import services as account_services
from clients.python.oms_client import OMSClient
from clients.python.oms_client import main as python_cli
from tests import factories
from tests.clients.conftest import client_env, parse_table

pytestmark = pytest.mark.e2e


@pytest.fixture
def chart_stack(account_on_venue, grpc_server_factory, venue):
    """A gRPC server requiring tokens, a viewer of account `main` on the venue, and a held BTCUSDT book (the
    candles stand still while the clients and the venue are compared)."""
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    viewer = factories.user_create(username="chart-viewer")
    account_services.member_add(account="main", user=viewer, role="viewer")
    return grpc_server_factory(require_auth=True), account_services.api_token_create(user=viewer)


def venue_klines(venue_view, symbol: str, interval: str, limit: int, **extra) -> list[list]:
    return venue_view.publicGetKlines({"symbol": symbol, "interval": interval, "limit": str(limit),
                                       **{k: str(v) for k, v in extra.items()}})


def test_python_sdk_and_cli(chart_stack, venue_view):
    address, token = chart_stack
    with OMSClient(address, token=token) as client:
        candles = client.get_candles("BTCUSDT", interval="1h", limit=24)
        since = client.get_candles("BTC/USDT", interval="1m", limit=5, since=candles[0]["open_time"])
        with pytest.raises(grpc.RpcError) as refused:
            client.get_candles("BTCUSDT", interval="7m")
    with OMSClient(address) as anonymous, pytest.raises(grpc.RpcError) as unauthenticated:
        anonymous.get_candles("BTCUSDT")
    assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED

    raw = venue_klines(venue_view, "BTCUSDT", "1h", 24)
    assert [c["open_time_ms"] for c in candles] == [k[0] for k in raw]
    assert [(c["open_decimal"], c["close_decimal"], c["volume_decimal"]) for c in candles[:-1]] == \
        [(D(k[1]), D(k[4]), D(k[5])) for k in raw[:-1]]
    assert candles[-1]["close_decimal"] == D(raw[-1][4])  # the open candle: the last trade (the book is held)
    assert [c["open_time_ms"] for c in since] == [candles[0]["open_time_ms"] + k * 60_000 for k in range(5)]
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "interval" in refused.value.details()

    out = io.StringIO()
    assert python_cli(["--server", address, "--token", token, "--json", "candles", "--symbol", "ETHUSDT",
                       "--interval", "1d", "--limit", "3"], out=out) == 0
    printed = json.loads(out.getvalue())
    assert [row["open_time_ms"] for row in printed] == [k[0] for k in venue_klines(venue_view, "ETHUSDT", "1d", 3)]


def test_go_cli_candles(go_client, chart_stack, venue_view):
    address, token = chart_stack
    out = subprocess.run([str(go_client), "-server", address, "candles", "-symbol", "BTCUSDT", "-interval", "1m",
                          "-limit", "100"], env=client_env(OMS_TOKEN=token), capture_output=True, text=True, timeout=60)

    assert out.returncode == 0, out.stderr
    rows = parse_table(out.stdout)
    assert len(rows) == 100
    # the venue's candles of the same windows (a minute may have turned since the CLI asked)
    first_open = datetime.fromisoformat(rows[0]["OPEN TIME"].replace("Z", "+00:00"))
    raw = venue_klines(venue_view, "BTCUSDT", "1m", 100, startTime=int(first_open.timestamp() * 1000))
    assert [(D(r["OPEN"]), D(r["HIGH"]), D(r["LOW"]), D(r["VOLUME"])) for r in rows[:-1]] == \
        [(D(k[1]), D(k[2]), D(k[3]), D(k[5])) for k in raw[:-1]]
    assert rows[-1]["OPEN TIME"].endswith("Z") and D(rows[-1]["CLOSE"]) > 0

    bad = subprocess.run([str(go_client), "-server", address, "candles", "-symbol", "BTCUSDT", "-limit", "5000"],
                         env=client_env(OMS_TOKEN=token), capture_output=True, text=True, timeout=60)
    missing = subprocess.run([str(go_client), "-server", address, "candles"], env=client_env(OMS_TOKEN=token),
                             capture_output=True, text=True, timeout=60)
    unknown = subprocess.run([str(go_client), "-server", address, "candles", "-symbol", "DOGEUSDT"],
                             env=client_env(OMS_TOKEN=token), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "-limit" in bad.stderr
    assert missing.returncode == 2 and "-symbol is required" in missing.stderr
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: NOT_FOUND") and "DOGEUSDT" in unknown.stderr


def test_node_sdk_get_candles(node_sdk, chart_stack, venue_view):
    address, token = chart_stack
    script = (
        "const OMSClient = require('./oms-client');"
        f"const c = new OMSClient({json.dumps(address)}, {{ token: {json.dumps(token)} }});"
        "c.getCandles({ symbol: 'SOLUSDT', interval: '4h', limit: 6, market: 'futures' })"
        ".then((rows) => { console.log(JSON.stringify(rows.map((r) => [r.openTimeMs, r.openDecimal, r.volumeDecimal,"
        " r.openTime.toISOString()]))); c.close(); })"
        ".catch((e) => { console.error(e.codeName + ': ' + e.details); c.close(); process.exit(1); });"
    )
    out = subprocess.run(["node", "-e", script], cwd=node_sdk, env=client_env(), capture_output=True, text=True,
                         timeout=60)

    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    raw = venue_view.fapiPublicGetKlines({"symbol": "SOLUSDT", "interval": "4h", "limit": "6"})
    assert [r[0] for r in rows] == [k[0] for k in raw]
    assert [(D(r[1]), D(r[2])) for r in rows[:-1]] == [(D(k[1]), D(k[5])) for k in raw[:-1]]
    assert rows[0][3].endswith("Z")
