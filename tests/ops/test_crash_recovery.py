"""A worker process dies while orders are in flight: the venue accepted them (or never got one), the
ledger never heard back. A new worker starts, recovery looks each order up by client order id and
settles it: no order is sent twice, none is left pending. Real worker processes, venue, ccxt, Redis."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from oms_project.celery import app
from orders import execution, services
from orders.execution import NEVER_RECEIVED
from orders.models import Order, Status
from tests.fixtures.worker import _purge_queues
from tests.ops.venue_audit import posts_of
from tests.subprocess_env import database_url
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
D = Decimal




class WorkerProcess:
    """`celery worker` as its own process (own session), on the test database."""

    def __init__(self, tmp_path: Path):
        self.name = f"crash-{uuid.uuid4().hex[:8]}@localhost"
        self.log = tmp_path / f"{self.name}.log"
        env = {**os.environ, "DATABASE_URL": database_url(), "OMS_RECV_WINDOW_MS": "1000",
               "OMS_UNKNOWN_GRACE_SECONDS": "0.2", "OMS_VENUE_TIMEOUT_SECONDS": "60", "OMS_RECOVERY_MIN_AGE_SECONDS": "0"}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "oms_project", "worker", "-Q", "orders,sync", "-P", "threads",
                 "-c", "4", "-n", self.name, "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "--loglevel", "INFO"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.ready, timeout=60, interval=0.3, what=f"worker {self.name} ready (log {self.log})")

    def ready(self) -> bool:
        assert self.proc.poll() is None, self.log.read_text()[-3000:]
        return bool(app.control.ping(destination=[self.name], timeout=0.3))

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgements, like a crash or an OOM kill."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(tmp_path, transactional_db):
    started: list[WorkerProcess] = []
    _purge_queues()

    def start() -> WorkerProcess:
        worker = WorkerProcess(tmp_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    _purge_queues()


def test_orders_in_flight_when_the_worker_dies_are_settled_by_recovery(venue, account_on_venue, workers):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    # The venue takes the first order request and never answers (connection held, then dropped); the next
    # three it processes, then holds the answer: the worker dies before hearing anything.
    venue.control.set_faults(endpoints=["POST /api/v3/order"], drop_request_count=1, drop_response_count=3,
                             drop_hold_ms=120_000)
    first = workers()
    orders = [services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.01"), price=price)
              for price in (D("99000"), D("98000"), D("101000"), D("97000"))]
    ids = [o.id for o in orders]
    wait_until(lambda: all(posts_of(venue, i) for i in ids), timeout=30, what="every order request reached the venue")
    outcomes = {i: posts_of(venue, i)[0]["outcome"] for i in ids}
    never_received = [i for i, outcome in outcomes.items() if outcome == "fault:drop_request"]
    accepted = [i for i, outcome in outcomes.items() if outcome == "fault:drop_response"]
    assert len(never_received) == 1 and len(accepted) == 3, outcomes
    pending = Order.objects.filter(pk__in=ids, status=Status.PENDING_NEW, submitted_at__isnull=False)
    assert pending.count() == 4  # sent, unanswered

    first.kill()
    venue.control.clear_faults()
    assert Order.objects.filter(pk__in=ids, status=Status.PENDING_NEW).count() == 4  # nobody heard back

    workers()  # on start it queues recovery
    wait_until(lambda: not Order.objects.filter(pk__in=ids, status__in=(Status.PENDING_NEW, Status.PENDING_CANCEL)).exists(),
               timeout=45, interval=0.2, what="no order left pending")

    venue_open = {o["clientOrderId"]: o for o in
                  execution.gateway_for(account_on_venue).fetch_open_orders("spot")}
    for order in Order.objects.filter(pk__in=ids):
        assert len(posts_of(venue, order.id)) == 1, f"{order.id} was sent more than once"
        if order.id in never_received:
            assert order.status == Status.REJECTED and order.reason == NEVER_RECEIVED
            assert order.id not in venue_open and not order.exchange_order_id
        elif order.price == D("101000"):  # crossed the market: filled on arrival
            assert order.status == Status.FILLED and order.filled_quantity == D("0.01")
            assert order.fills.exists() and order.exchange_order_id
        else:
            assert order.status == Status.NEW
            assert order.exchange_order_id == venue_open[order.id]["id"]
    assert {o.id for o in Order.objects.filter(pk__in=ids, status=Status.NEW)} == set(venue_open) & set(ids)
