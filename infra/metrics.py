"""Prometheus metrics. Import the metric objects from here; `/metrics` renders them.

Process model: gunicorn and Celery run several processes. With PROMETHEUS_MULTIPROC_DIR set (an
empty directory per host, wiped at start), every process writes its samples there and a scrape
of any process on that host aggregates them (prometheus_client's multiprocess mode). Without it
each process exposes only its own samples, which is what tests and single-process runs use.

Counts that live in the database (orders by status, unresolved drift) are not kept in process
memory: `LedgerCollector` computes them on scrape with a couple of indexed aggregate queries.
"""
from __future__ import annotations

import os
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# --- orders -----------------------------------------------------------------------------------
ORDER_EVENTS = Counter(
    "oms_order_events", "Order state changes recorded in the ledger", ["to_status", "source"],
)
ORDER_PLACEMENT_SECONDS = Histogram(
    "oms_order_placement_seconds", "Time from an order's creation to the venue's first answer (ack, fill or reject)",
    ["exchange", "market", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# --- venues -----------------------------------------------------------------------------------
VENUE_ERRORS = Counter("oms_venue_errors", "Errors returned by venues, by ccxt error class", ["exchange", "error"])

# --- reconciliation and recovery --------------------------------------------------------------
DRIFT_FOUND = Counter("oms_drift_found", "Differences between ledger and venue found by reconciliation", ["kind"])
DRIFT_FIXED = Counter("oms_drift_fixed", "Differences repaired by applying the venue's truth", ["kind"])
RECONCILE_RUNS = Counter("oms_reconcile_runs", "Reconciliation runs by outcome", ["outcome"])
RECOVERY_RESOLVED = Counter("oms_recovery_resolved", "Pending orders resolved by recovery", ["outcome"])

# --- gRPC -------------------------------------------------------------------------------------
GRPC_HANDLED = Counter("oms_grpc_server_handled", "RPCs completed, by method and status code", ["method", "code"])
GRPC_SECONDS = Histogram(
    "oms_grpc_server_handling_seconds", "RPC handling time (streams: until the stream ends)", ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300),
)
# Live streams (StreamOrders/StreamPrices subscribers) summed over the processes of a host.
STREAM_SUBSCRIBERS = Gauge(
    "oms_stream_subscribers", "Open server streams (subscribers)", ["method"], multiprocess_mode="livesum",
)


def venue_error(exchange: str, exc: BaseException) -> None:
    """Count one venue error by its ccxt class name (NetworkError, InsufficientFunds, ...)."""
    VENUE_ERRORS.labels(exchange=exchange, error=type(exc).__name__).inc()


class LedgerCollector(Collector):
    """Gauges read from PostgreSQL on scrape.

    oms_orders_open: every working order, by account and status (a few rows, indexed by status).
    oms_orders_recent: orders created in the last 24 h by account and status (bounded by the window).
    oms_drift_unresolved: differences of the latest reconciliation run per account not yet repaired.
    """

    RECENT = timedelta(hours=24)

    def collect(self):
        from django.db.models import Count
        from django.utils import timezone

        from orders.models import OPEN_STATUSES, Order

        open_orders = GaugeMetricFamily("oms_orders_open", "Working orders in the ledger", labels=["account", "status"])
        for row in (Order.objects.filter(status__in=OPEN_STATUSES).order_by()
                    .values("account__name", "status").annotate(n=Count("id"))):
            open_orders.add_metric([row["account__name"], row["status"]], row["n"])
        yield open_orders

        recent = GaugeMetricFamily("oms_orders_recent", "Orders created in the last 24 hours, by current status",
                                   labels=["account", "status"])
        for row in (Order.objects.filter(created_at__gte=timezone.now() - self.RECENT).order_by()
                    .values("account__name", "status").annotate(n=Count("id"))):
            recent.add_metric([row["account__name"], row["status"]], row["n"])
        yield recent

        from orders.selectors_reconcile import drift_unresolved_counts

        drift = GaugeMetricFamily("oms_drift_unresolved", "Unrepaired differences found by the latest reconciliation",
                                  labels=["account", "kind"])
        for (account, kind), n in drift_unresolved_counts().items():
            drift.add_metric([account, kind], n)
        yield drift


_ledger_registry = CollectorRegistry(auto_describe=False)
_ledger_registry.register(LedgerCollector())


def register_scrape_collector(collector: Collector) -> None:
    """A collector computed on scrape from shared state (an app's `ready()` adds its own), rendered beside
    the ledger gauges."""
    _ledger_registry.register(collector)


def process_registry() -> CollectorRegistry:
    """This host's process metrics: aggregated over PROMETHEUS_MULTIPROC_DIR when set, else this process."""
    if not MULTIPROCESS:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def render(*, include_ledger: bool = True) -> bytes:
    """The text exposition: process metrics, then the ledger gauges (distinct names, so they concatenate)."""
    out = generate_latest(process_registry())
    if include_ledger:
        out += generate_latest(_ledger_registry)
    return out


def mark_process_dead(pid: int) -> None:
    """gunicorn `child_exit` / Celery child shutdown: drop a dead process's live gauges."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def start_exporter() -> int | None:
    """Serve this host's process metrics on OMS_METRICS_PORT (processes without the web tier: the gRPC
    server, Celery workers, marketdata). Returns the port, or None when the variable is unset."""
    port = os.environ.get("OMS_METRICS_PORT")
    if not port:
        return None
    from prometheus_client import start_http_server

    server, _ = start_http_server(int(port), addr=os.environ.get("OMS_METRICS_ADDR", "0.0.0.0"), registry=process_registry())
    return server.server_port


def reset_multiprocess_dir(path: str | None = None) -> None:
    """At the start of a process tree (gunicorn master, `manage.py up`): drop samples of a previous run."""
    path = path or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
