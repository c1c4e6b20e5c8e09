"""Prometheus metrics. Import the metric objects from here; `/metrics` renders them.

Process model: gunicorn and Celery run several processes. With PROMETHEUS_MULTIPROC_DIR set (an
empty directory per host, wiped at start), every process writes its samples there and a scrape
of any process on that host aggregates them (prometheus_client's multiprocess mode). Without it
each process exposes only its own samples, which is what tests and single-process runs use.

Counts that live in the database (orders by status, unresolved drift) are not kept in process
memory: collectors the apps register (`register_scrape_collector`, e.g. orders.metrics) compute them on scrape.
"""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
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


_ledger_registry = CollectorRegistry(auto_describe=False)


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
