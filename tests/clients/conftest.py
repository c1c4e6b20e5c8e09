"""The stack the Go CLI and the Node SDK are tested against: the local venue, a Celery worker, the price
feed and a gRPC server requiring tokens, with one trader's account on the venue. The clients run as
subprocesses; the tests check what they print against the ledger."""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts import services as account_services
from accounts.models import Account, Balance, Position
from exchanges import marketdata
from tests.tls import self_signed_certificate
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
GO_CLIENT = ROOT / "bin" / "oms-client"
NODE_SDK = ROOT / "clients" / "javascript"
BUILD_LOCK = ROOT / "build" / "clients.lock"
ACCOUNT = "main"  # the account of the venue_account fixture
RESTING_BUY_PRICE = "100000"  # BTCUSDT starts near 115000 on the venue: a BUY here rests as NEW
FUTURES_RESTING_BUY_PRICE = "111000"  # USD-M BTCUSDT starts near 115020; its price band is 5% either side


def _make(target: str) -> None:
    """Build through the Makefile (as `make test` does first), so a run of pytest alone never
    tests a stale build or silently skips a client whose toolchain is missing. One build at a time in this
    checkout: xdist workers each build (a no-op after the first), and must not rewrite the generated Go
    sources while another one compiles them."""
    if shutil.which("make") is None:
        pytest.fail("`make` is needed to build the clients")
    BUILD_LOCK.parent.mkdir(exist_ok=True)
    with open(BUILD_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        out = subprocess.run(["make", "-s", target], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        pytest.fail(f"make {target} failed:\n{out.stdout}\n{out.stderr}")


@pytest.fixture(scope="session")
def go_client() -> Path:
    _make("go-client")
    return GO_CLIENT


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    _make("node-deps")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the Node SDK needs Node.js >= 18")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0])
    if major < 18:
        pytest.fail(f"Node.js >= 18 is needed for `node --test`, found {major}")
    return NODE_SDK


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    address: str
    token: str
    account: Account

    def balances(self, market: str) -> dict[str, Balance]:
        return {b.asset: b for b in Balance.objects.filter(account=self.account, market=market)}

    def open_positions(self) -> list[Position]:
        return list(Position.objects.filter(account=self.account).exclude(side=Position.Side.FLAT).order_by("symbol"))


def _feed_prices(stop: threading.Event) -> None:
    try:
        marketdata.run(interval=0.2, stop=stop)
    finally:
        connection.close()


@pytest.fixture
def trading_stack(venue_account, grpc_server_factory) -> Stack:
    """`venue_account` (account `main` on the venue, a real worker, markets and balances synced) plus a
    trader holding a token for it, the price feed, and a gRPC server that requires tokens."""
    trader = get_user_model().objects.create_user(username="client-trader")
    account_services.member_add(account=venue_account.name, user=trader)
    token = account_services.api_token_create(user=trader, name="clients")
    stop = threading.Event()
    feed = threading.Thread(target=_feed_prices, args=(stop,), name="price-feed", daemon=True)
    feed.start()
    address = grpc_server_factory(require_auth=True)
    yield Stack(address=address, token=token, account=venue_account)
    stop.set()
    feed.join(timeout=10)


def client_env(**extra: str) -> dict[str, str]:
    """A clean environment for a client process: no OMS_TOKEN unless given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
    env.update(extra)
    return env


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of a table the CLI printed: a header line, then rows; columns apart by 2+ spaces."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = _columns(lines[0])
    rows = []
    for line in lines[1:]:
        cells = _columns(line)
        if len(cells) == len(header):
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def _columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def parse_fields(text: str) -> dict[str, str]:
    """`key:  value` lines (get-order)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


class Running:
    """A client process whose output lines are collected as they come, for long-running streams."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path = ROOT):
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_line(self, what: str, match, *, stderr: bool = False, timeout: float = 20.0) -> str:
        lines = self.err if stderr else self.out
        return wait_until(lambda: next((line for line in list(lines) if match(line)), None), timeout=timeout,
                          what=f"{what} (stdout {self.out!r}, stderr {self.err!r})")

    def interrupt(self, timeout: float = 10.0) -> int:
        """Ctrl-C, then the exit status once the process and its output are done."""
        self.proc.send_signal(signal.SIGINT)
        return self.finish(timeout)

    def finish(self, timeout: float = 30.0) -> int:
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def tls_files(tmp_path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files (the CA a client is told to trust)."""
    return self_signed_certificate(tmp_path)


@pytest.fixture
def tls_server(trading_stack, tls_files, grpc_server_factory, settings) -> str:
    """A second gRPC server of the stack, speaking TLS with the `tls_files` certificate."""
    settings.OMS_GRPC_TLS_CERT, settings.OMS_GRPC_TLS_KEY = (str(p) for p in tls_files)
    address = grpc_server_factory(require_auth=True)
    assert address.server.tls
    return address
