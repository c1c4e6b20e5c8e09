"""The stack a benchmark run measures, on its own ports and its own database.

    database_prepare()        # before django.setup(): a fresh database, this run's env
    with Stack() as stack:    # venue, Celery worker, gRPC server as child processes; the account `main`
        stack.set_venue_latency(20)

Every process is a real one started the way an operator starts it (`manage.py run_venue`,
`celery -A oms_project worker`, `manage.py grpcserve`), so what is measured is what runs in production,
only on loopback. Logs go to var/bench/<process>.log.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = BASE_DIR / "var" / "bench"
ACCOUNT = "main"
VENUE_KEY = "bench-key"
# Both sides run unthrottled: the venue's own limits are switched off and the OMS's shared limiter gets
# these, so throughput compares the two paths rather than two copies of Binance's 100 orders / 10 s.
GENEROUS = (("weight", 60, 1e9), ("orders", 10, 1e9), ("orders", 86400, 1e9))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ------------------------------------------------------------------------------------------- database

def _bench_db_url() -> tuple[str, str]:
    """(maintenance URL, bench database URL): the bench database lives beside DATABASE_URL's (or the embedded
    server's) database under its own name, so the data it seeds never mixes with anyone's."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        from infra import embedded

        url = embedded.postgres_url()
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    return parts._replace(path="/postgres").geturl(), parts._replace(path=f"/{name}_bench").geturl()


def database_prepare() -> str:
    """Create this run's database afresh and point the environment (ours and the children's) at it.
    Must run before django.setup()."""
    import psycopg

    admin_url, url = _bench_db_url()
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("OMS_DEV", "1")
    os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
    # Our own pub/sub channels and limiter keys: a run never hears (or throttles) another stack on the same Redis.
    os.environ["OMS_PUBSUB_PREFIX"] = f"{os.environ.get('OMS_PUBSUB_PREFIX', 'oms')}_bench"
    return url


def database_drop() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    url = urlsplit(os.environ["DATABASE_URL"])  # this run's database (database_prepare)
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.path.lstrip("/")}" WITH (FORCE)')


# ------------------------------------------------------------------------------------------- processes

class Child:
    """One child process in its own session (so it and anything it forks stop together), logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None = None):
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, cwd=BASE_DIR, env={**os.environ, **(env or {})}, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check(self) -> None:
        if not self.alive():
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; its log ends:\n{tail}")

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()


def manage(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


class Stack:
    """Venue, Celery worker and gRPC server for one run, and the account `main` trading on the venue."""

    def __init__(self, *, worker_concurrency: int = 8, grpc_workers: int = 64, max_streams: int = 32):
        self.worker_concurrency = worker_concurrency
        self.grpc_workers = grpc_workers
        self.max_streams = max_streams
        self.children: list[Child] = []
        self.venue_secret = secrets.token_urlsafe(16)
        self.control_token = secrets.token_urlsafe(16)
        self.grpc_address = ""
        self.grpc: Child | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        from exchanges.simulator.control import VenueControl

        port = free_port()
        self._spawn("venue", manage("run_venue", "--host", "127.0.0.1", "--port", str(port),
                                    "--control-token", self.control_token),
                    env={"OMS_VENUE_KEYS": f"{VENUE_KEY}:{self.venue_secret}"})
        wait_for(lambda: self._alive_and(lambda: _port_open(port)), 60, "the venue to listen")
        self.venue_url = f"http://127.0.0.1:{port}"
        self.control = VenueControl(self.venue_url, self.control_token)
        # The scenarios leave hundreds of orders resting per symbol: past Binance's 200 (MAX_NUM_ORDERS) too.
        self.control.set_limits(enabled=False, reset=True, max_num_orders=1_000_000)
        self.control.fund(VENUE_KEY, "spot", "USDT", 10**9)
        self.control.fund(VENUE_KEY, "spot", "BTC", 10**4)
        # The worker starts before the account exists, so its start-up sync stores no venue limits over ours.
        self._start_worker()
        self.account = self._account_create()
        self.start_grpc()

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        # Every process keeps its CPU per stage of the hot path (infra.cpu_stages) for bench.cpu to read.
        child = Child(name, argv, {"OMS_CPU_STAGES": "1", **(env or {})})
        self.children.append(child)
        return child

    def _alive_and(self, condition) -> bool:
        for child in self.children:
            child.check()
        return condition()

    def _start_worker(self) -> None:
        from oms_project.celery import app

        with app.connection_for_write() as conn:  # nothing left over from an earlier run
            for queue in ("orders", "sync"):
                conn.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
                conn.default_channel.queue_purge(queue)
        node = f"bench-{os.getpid()}@{socket.gethostname()}"
        self.worker = self._spawn("worker", [
            sys.executable, "-m", "celery", "-A", "oms_project", "worker", "-Q", "orders,sync", "-n", node,
            "-P", "threads", "-c", str(self.worker_concurrency), "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-l", "WARNING"])
        wait_for(lambda: self._alive_and(lambda: app.control.ping([node], timeout=0.5)), 90, "the Celery worker")

    def start_grpc(self, *, workers: int | None = None, max_streams: int | None = None) -> str:
        """(Re)start the gRPC server; order streams hold a worker thread each (price streams run on its event
        loop), and the stream limit is kept below the workers, so fan-out runs ask for many."""
        from clients.python.oms_client import OMSClient

        if self.grpc is not None:
            self.grpc.stop()
            self.children.remove(self.grpc)
        port = free_port()
        self.grpc = self._spawn("grpc", manage("grpcserve", "--addr", f"127.0.0.1:{port}", "--workers",
                                               str(workers or self.grpc_workers)),
                                env={"OMS_GRPC_REQUIRE_AUTH": "off",
                                     "OMS_GRPC_MAX_STREAMS": str(max_streams or self.max_streams),
                                     "OMS_GRPC_MAX_PRICE_STREAMS": str(max_streams or self.max_streams),
                                     "OMS_GRPC_MAX_CONCURRENT_RPCS": str((max_streams or self.max_streams) + 256)})
        self.grpc_address = f"127.0.0.1:{port}"
        wait_for(lambda: self._alive_and(lambda: _port_open(port)), 60, "the gRPC server to listen")
        with OMSClient(self.grpc_address, timeout=5) as client:
            wait_for(lambda: client.get_balance(exchange="binance", market="spot") is not None, 30, "gRPC to answer")
        return self.grpc_address

    @contextlib.contextmanager
    def beat(self):
        """Celery beat as `manage.py up` runs it, for the scenarios that need the production schedule of
        background sync (sweeps, balance syncs); stopped afterwards, so the other scenarios run without it."""
        child = self._spawn("beat", [sys.executable, "-m", "celery", "-A", "oms_project", "beat", "-l", "WARNING"])
        try:
            time.sleep(2)
            child.check()
            yield child
        finally:
            child.stop()
            self.children.remove(child)

    def start_web(self) -> str:
        """The REST API as `manage.py up` serves it (gunicorn, gthread), plain HTTP on loopback."""
        port = free_port()
        self._spawn("web", [sys.executable, "-m", "gunicorn", "oms_project.wsgi:application", "--bind",
                            f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "gthread", "--threads", "8",
                            "--no-control-socket", "--chdir", str(BASE_DIR)],
                    env={"OMS_SECURE_SSL_REDIRECT": "0"})
        wait_for(lambda: self._alive_and(lambda: _port_open(port)), 60, "the web server to listen")
        self.web_url = f"http://127.0.0.1:{port}"
        return self.web_url

    def _account_create(self):
        from accounts import services as account_services
        from accounts.models import Account
        from exchanges import ratelimit
        from exchanges.markets import sync_markets
        from execution import venue_orders

        account = account_services.account_create(name=ACCOUNT, exchange="binance", base_url=self.venue_url)
        account_services.credential_set(account=ACCOUNT, api_key=VENUE_KEY, secret=self.venue_secret)
        sync_markets(account)
        generous = tuple(ratelimit.Limit(kind, window, cap) for kind, window, cap in GENEROUS)
        for market in ("spot", "futures"):
            ratelimit.store_published_limits(account.pk, market, generous)
        venue_orders.account_sync(account.pk)
        return Account.objects.get(pk=account.pk)

    # -- knobs -----------------------------------------------------------------------------------------
    def set_venue_latency(self, latency_ms: float) -> None:
        """Latency the venue adds to every request (the OMS's and the baseline's alike)."""
        self.control.set_faults(latency_ms=float(latency_ms))

    def raw_client(self):
        """A plain ccxt.binance on the same venue key: the baseline every scenario compares against."""
        from exchanges.simulator.testing import ccxt_client

        exchange = ccxt_client(self.venue_url, VENUE_KEY, self.venue_secret)
        exchange.load_markets()
        return exchange
