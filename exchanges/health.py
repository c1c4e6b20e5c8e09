"""Health of the parts the OMS cannot work without, for `/healthz` and the gRPC health service.

Database and Redis are required: without either the process is NOT serving. Venues are reported
but do not make a process unhealthy (a venue outage must not get API replicas restarted); they turn
the status "degraded". Venue probes hit each enabled account's venue once, with a short timeout,
and are cached for a few seconds so frequent probes do not load the venue.
"""
from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import requests
from django.db import connection

from exchanges import venue_health
from infra import pubsub

VENUE_TIMEOUT = 2.0
VENUE_CACHE_SECONDS = 10.0

# Public, unauthenticated endpoints that answer when a venue's API is up (ccxt exchange id -> path).
_PING_PATHS = {"binance": "/api/v3/ping", "binanceusdm": "/fapi/v1/ping"}
_DEFAULT_HOSTS = {"binance": "https://api.binance.com", "binanceusdm": "https://fapi.binance.com"}

_venue_cache: dict[str, tuple[float, dict]] = {}
_venue_lock = threading.Lock()


def check_database() -> dict:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # any driver/connection failure means "down"; report its class only
        return {"ok": False, "error": type(exc).__name__}


def check_redis() -> dict:
    try:
        pubsub.client().ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _venue_root(exchange: str, sandbox: bool, base_url: str) -> str | None:
    if base_url:
        parts = urlsplit(base_url)
        return f"{parts.scheme}://{parts.netloc}"
    if sandbox:
        return None  # testnet hosts differ per venue; reported as unchecked rather than guessed
    return _DEFAULT_HOSTS.get(exchange)


def venue_of(account) -> str | None:
    """The venue root check_venues() reports the account's venue under (None: not probed)."""
    return _venue_root(account.exchange, account.sandbox, account.base_url)


def _probe(root: str, exchange: str) -> dict:
    url = root + _PING_PATHS.get(exchange, "/")
    started = time.monotonic()
    try:
        resp = requests.get(url, timeout=VENUE_TIMEOUT)
        ok = resp.status_code < 500
        out = {"ok": ok, "status": resp.status_code}
    except requests.RequestException as exc:
        out = {"ok": False, "error": type(exc).__name__}
    out["seconds"] = round(time.monotonic() - started, 4)
    venue_health.probed(root, out)  # for the admin's overview, which shows the latest probe without making one
    return out


def check_venues() -> dict[str, dict]:
    """venue root URL -> probe result, for the venues of enabled accounts."""
    from accounts.selectors import venue_accounts
    from venues.supported import config_problem

    roots: dict[str, str] = {}
    for account in venue_accounts():
        if config_problem(account):
            continue  # no venue to probe: reported under "accounts"
        root = _venue_root(account.exchange, account.sandbox, account.base_url)
        exchange = account.exchange
        if root:
            roots.setdefault(root, exchange)
    out = {}
    now = time.monotonic()
    for root, exchange in roots.items():
        with _venue_lock:
            cached = _venue_cache.get(root)
        if cached and now - cached[0] < VENUE_CACHE_SECONDS:
            out[root] = cached[1]
            continue
        result = _probe(root, exchange)
        with _venue_lock:
            _venue_cache[root] = (time.monotonic(), result)
        out[root] = result
    return out


def check_accounts() -> dict[str, list[dict]]:
    """Accounts the shared processes skip and why (exchanges.problems): name -> [{"where", "error", …}]."""
    from exchanges import problems

    return problems.current()


def health_report() -> dict:
    """{"status": "ok"|"degraded"|"down", "database", "redis", "venues", "accounts"}; "down" when a required part
    fails, "degraded" when a venue is unreachable or an account is skipped (see exchanges.problems)."""
    report = {"database": check_database(), "redis": check_redis(), "venues": {}, "accounts": {}}
    if report["database"]["ok"]:
        report["venues"] = check_venues()
        report["accounts"] = check_accounts()
    if not (report["database"]["ok"] and report["redis"]["ok"]):
        report["status"] = "down"
    elif not all(v["ok"] for v in report["venues"].values()) or report["accounts"]:
        report["status"] = "degraded"
    else:
        report["status"] = "ok"
    return report


def up_or_down() -> dict:
    """What anyone may know: {"status": "up"|"down"} (database and Redis); nothing about venues or accounts."""
    return {"status": "up" if is_serving() else "down"}


def is_serving() -> bool:
    """For the gRPC health service: database and Redis reachable (venues do not count)."""
    return check_database()["ok"] and check_redis()["ok"]


class GrpcHealthUpdater:
    """Keeps a gRPC `HealthServicer` in step with `is_serving()`: every `interval` seconds, in a daemon
    thread, each listed service (and "" for the whole server) becomes SERVING or NOT_SERVING, so load
    balancers stop sending calls to a process that lost its database or Redis."""

    def __init__(self, servicer, services=("",), interval: float = 5.0):
        self.servicer = servicer
        self.services = tuple(services)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check_once(self) -> bool:
        from grpc_health.v1 import health_pb2

        serving = is_serving()
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in self.services:
            self.servicer.set(name, status)
        return serving

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.check_once()
        finally:
            connection.close()

    def start(self) -> GrpcHealthUpdater:
        self.check_once()
        self._thread = threading.Thread(target=self._run, name="grpc-health", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
