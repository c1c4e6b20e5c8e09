"""A snapshot file keeps orders, trades and balances across a restart; `manage.py run_venue` serves
the venue with the keys it is given."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import ccxt
import pytest

from exchanges.simulator.testing import ccxt_client, start_venue
from tests.waiting import wait_until

from .helpers import balance, hold_price

ROOT = Path(__file__).resolve().parents[3]


def test_restart_from_snapshot_keeps_orders_trades_and_balances(tmp_path):
    path = str(tmp_path / "venue.json")
    first = start_venue(seed=3, keys={"snap": "shot"}, snapshot_path=path)
    exchange = ccxt_client(first, "snap", "shot")
    hold_price(first, "BTCUSDT", 100000)
    resting = exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 99000, params={"clientOrderId": "keep-me"})
    exchange.create_order("BTC/USDT", "market", "buy", 0.01)
    before = (balance(exchange, "USDT"), balance(exchange, "BTC"))
    first.stop()

    second = start_venue(seed=3, keys={"snap": "shot"}, snapshot_path=path)
    try:
        again = ccxt_client(second, "snap", "shot")
        assert (balance(again, "USDT"), balance(again, "BTC")) == before
        assert again.fetch_order(None, "BTC/USDT", params={"clientOrderId": "keep-me"})["status"] == "open"
        assert len(again.fetch_my_trades("BTC/USDT")) == 1
        with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
            again.create_order("BTC/USDT", "limit", "buy", 0.01, 98000, params={"clientOrderId": "keep-me"})
        newer = again.create_order("BTC/USDT", "limit", "buy", 0.01, 98000)
        assert int(newer["id"]) > int(resting["id"])
        second.control.set_price("BTCUSDT", 97000)
        assert again.fetch_order(resting["id"], "BTC/USDT")["status"] == "closed"
    finally:
        second.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_venue_command_serves_configured_keys(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("# trading keys\nalpha:alpha-secret\n")
    port = free_port()
    env = {**os.environ, "OMS_VENUE_KEYS": "beta:beta-secret", "OMS_VENUE_CONTROL_TOKEN": "ctl"}
    proc = subprocess.Popen([sys.executable, "manage.py", "run_venue", "--port", str(port), "--keys", str(keys),
                             "--seed", "5"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        alpha, beta = ccxt_client(base, "alpha", "alpha-secret"), ccxt_client(base, "beta", "beta-secret")

        def serving():
            try:
                return alpha.fetch_balance()
            except ccxt.NetworkError:
                return None

        assert wait_until(serving, timeout=30)["USDT"]["free"] == 100000
        assert beta.fetch_balance({"type": "future"})["USDT"]["free"] == 100000
        with pytest.raises(ccxt.AuthenticationError):
            ccxt_client(base, "demo", "demo").fetch_balance()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "2 API key(s) configured" in out
    assert "ctl" not in out and "alpha-secret" not in out



def test_a_snapshot_does_not_revive_keys_that_are_no_longer_configured(tmp_path):
    path = str(tmp_path / "venue.json")
    first = start_venue(seed=3, snapshot_path=path)  # no keys: the loopback demo key
    ccxt_client(first, "demo", "demo").create_order("BTC/USDT", "market", "buy", 0.01)
    first.stop()

    second = start_venue(seed=3, keys={"real": "real-secret"}, snapshot_path=path)
    try:
        with pytest.raises(ccxt.AuthenticationError):
            ccxt_client(second, "demo", "demo").fetch_balance()
        assert ccxt_client(second, "real", "real-secret").fetch_balance()["BTC"]["free"] == 2
    finally:
        second.stop()
