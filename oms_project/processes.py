"""The processes `manage.py up` runs and supervises. Each process is one `Child` in `CHILDREN`;
a new process type appends its own entry here.

A child gets the parent's environment plus DATABASE_URL/REDIS_URL (so it uses the same servers,
embedded or not) and whatever its `env(ctx)` adds. `listens` is an "host:port" the supervisor waits
for before saying "ready" (empty: the child has no port, it only has to stay alive).
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
MANAGE = str(BASE_DIR / "manage.py")


@dataclass(frozen=True)
class UpContext:
    """What `up` prepared for its children."""

    var_dir: Path
    venue_api_key: str
    venue_secret: str
    more_venue_keys: tuple[tuple[str, str], ...] = ()  # the other demo accounts' (key, secret)

    def venue_keys_env(self) -> str:
        """OMS_VENUE_KEYS for the venue: every demo account's key pair."""
        return ",".join(f"{k}:{s}" for k, s in ((self.venue_api_key, self.venue_secret), *self.more_venue_keys))


@dataclass(frozen=True)
class Child:
    name: str
    argv: Callable[[UpContext], list[str]]
    listens: Callable[[], str] = lambda: ""
    describe: Callable[[], str] = lambda: ""
    env: Callable[[UpContext], dict[str, str]] = lambda ctx: {}
    enabled: Callable[[], bool] = lambda: True


def host_port(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def manage(*args: str) -> list[str]:
    return [sys.executable, MANAGE, *args]


def _web_argv(ctx: UpContext) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "oms_project.wsgi:application", "--bind", settings.OMS_HTTP_ADDR,
            "--workers", "2", "--worker-class", "gthread", "--threads", "8", "--graceful-timeout", "5",
            "--access-logfile", "-", "--no-control-socket", "--chdir", str(BASE_DIR)]


def _events_argv(ctx: UpContext) -> list[str]:
    # Event streams on one event loop (orders/api/stream.py); uvicorn's own access log stays off (a line per stream),
    # and so does its X-Forwarded-For handling: OMS_TRUSTED_PROXIES decides whom to believe (orders/api/throttling.py).
    host, port = host_port(settings.OMS_EVENTS_ADDR)
    return [sys.executable, "-m", "uvicorn", "oms_project.asgi:application", "--host", host, "--port", str(port),
            "--lifespan", "off", "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "5",
            "--app-dir", str(BASE_DIR)]


def _venue_argv(ctx: UpContext) -> list[str]:
    host, port = host_port(settings.OMS_VENUE_ADDR)
    # other traders' takers partially fill resting orders now and then, as on a real venue (about 6 a minute per symbol)
    return manage("run_venue", "--host", host, "--port", str(port), "--snapshot", str(ctx.var_dir / "venue.json"),
                  "--trickle-rate", "6", "--trickle-fraction", "0.25")


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "--workdir", str(BASE_DIR), "-A", "oms_project", *args]


WORKER_NODENAME = "worker@%h"  # Celery expands %h to this host's name


def _worker_argv(ctx: UpContext) -> list[str]:
    # Both queues; prefetch 1 so a slow sync never holds an order submission behind it.
    return _celery("worker", "-Q", "orders,sync", "--concurrency", str(settings.OMS_WORKER_CONCURRENCY),
                   "--prefetch-multiplier", "1", "--loglevel", "INFO", "--hostname", WORKER_NODENAME,
                   "--without-gossip", "--without-mingle")


def _beat_argv(ctx: UpContext) -> list[str]:
    return _celery("beat", "--loglevel", "INFO")


CHILDREN: list[Child] = [
    Child(
        name="web",
        argv=_web_argv,
        listens=lambda: settings.OMS_HTTP_ADDR,
        describe=lambda: f"admin http://{settings.OMS_HTTP_ADDR}/admin/",
        # The web tier redirects event streams to the events process rather than hold a thread for each.
        env=lambda ctx: {"OMS_EVENTS_URL": settings.OMS_EVENTS_URL or f"http://{settings.OMS_EVENTS_ADDR}"},
    ),
    Child(
        name="events",
        argv=_events_argv,
        listens=lambda: settings.OMS_EVENTS_ADDR,
        describe=lambda: f"server-sent events http://{settings.OMS_EVENTS_ADDR}/api/v1/stream/orders/ (no thread per stream)",
    ),
    Child(
        name="venue",
        argv=_venue_argv,
        listens=lambda: settings.OMS_VENUE_ADDR,
        describe=lambda: f"local Binance-compatible venue http://{settings.OMS_VENUE_ADDR}",
        env=lambda ctx: {"OMS_VENUE_KEYS": ctx.venue_keys_env()},
        enabled=lambda: (BASE_DIR / "exchanges" / "management" / "commands" / "run_venue.py").exists(),
    ),
    Child(
        name="grpc",
        argv=lambda ctx: manage("grpcserve", "--addr", settings.OMS_GRPC_ADDR),
        listens=lambda: settings.OMS_GRPC_ADDR,
        describe=lambda: f"gRPC oms.OrderService {settings.OMS_GRPC_ADDR} (python clients/python/oms_client.py list)",
    ),
    Child(
        name="worker",
        argv=_worker_argv,
        describe=lambda: f"celery worker, queues orders+sync, concurrency {settings.OMS_WORKER_CONCURRENCY}",
    ),
    Child(name="beat", argv=_beat_argv, describe=lambda: "celery beat: order polling, balance and catalog sync"),
    Child(name="marketdata", argv=lambda ctx: manage("run_marketdata"),
          describe=lambda: "prices of every enabled venue on Redis"),
]
