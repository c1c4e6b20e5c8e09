"""The order lane: how a submit or cancel travels from the API tier to the venue in a few milliseconds.

A Redis list of "<action>:<order id>:<account>" items, read by a few threads that live in every Celery worker
consuming the `orders` queue (`LaneStep`, a worker bootstep). Compared with a Celery task per order it
saves the task envelope, the prefetch and the hand-off to the pool, and the venue connection in each lane
thread stays warm. The items carry no state: what to send is in the database, and sending it once is the
database's job (the submission claim), so an item popped twice or never is harmless. One lost with Redis or
with a worker killed after popping it is found by the poller (`venue_orders.HANDOFF_LOST_AFTER`).
Anything that has to wait (a rate-limit ban, a transient venue or database error) leaves the lane for the
Celery task of the same action, which retries with backoff.
"""
from __future__ import annotations

import logging
import random
import threading

import redis
from celery import bootsteps
from django.conf import settings

from infra.cpu_stages import stage
from orders.handoff import AMEND, CANCEL, CANCEL_GROUP, SUBMIT, SUBMIT_GROUP, lane_key, retry

log = logging.getLogger(__name__)

# A group item's worker step, and the task each of its orders continues as when the step fails as a whole.
GROUPS = {SUBMIT_GROUP: ("submit_group", SUBMIT), CANCEL_GROUP: ("cancel_group", CANCEL)}
POP_TIMEOUT_SECONDS = 1  # how long a lane thread blocks before it looks whether the worker is stopping



def parse(item: bytes) -> tuple[str, str, str]:
    """(action, order id, account name) of one lane item (order ids hold no colon; account names may). A group's
    "order id" is its ids, comma-joined."""
    action, order_id, account = (item.decode().split(":", 2) + ["", ""])[:3]
    return action, order_id, account


def handle(action: str, order_id: str, account: str = "") -> None:
    """Run one item as its Celery task would, minus the broker: waits and transient errors go to the task.
    The thread keeps its database connection between items without a health check (one round trip less
    per order); after an error, a connection that broke is dropped and the next item opens another."""
    from django.core.exceptions import ObjectDoesNotExist
    from django.db import close_old_connections

    from execution import tasks, venue_orders
    from infra import jsonlog

    if action in GROUPS:  # each order of the group settles (or retries) on its own inside
        step, alone = GROUPS[action]
        jsonlog.bind(order_id=order_id, account=account, task=f"lane.{action}")
        try:
            getattr(venue_orders, step)(order_id.split(","))
        except Exception:  # noqa: BLE001 - e.g. the database went away first: each order on its own
            close_old_connections()
            log.exception("lane %s %s failed; each order continues as its own %s task", action, order_id, alone)
            for one in order_id.split(","):
                retry(alone, one, countdown=1)
        finally:
            jsonlog.clear()
        return
    step = {SUBMIT: venue_orders.submit, CANCEL: venue_orders.cancel, AMEND: venue_orders.amend}.get(action)
    if step is None:
        log.warning("ignored a lane item with an unknown action %r", action)
        return
    jsonlog.bind(order_id=order_id, account=account, task=f"lane.{action}")
    try:
        with stage("lane"):
            step(order_id)
    except ObjectDoesNotExist as exc:  # the order is gone (a test database flushed, a manual delete)
        log.warning("lane %s %s: nothing to do: %s", action, order_id, exc)
    except venue_orders.RetryLater as exc:
        retry(action, order_id, countdown=exc.countdown * (1 + random.uniform(0, 0.2)))
    except Exception as exc:  # noqa: BLE001 - one bad item must not stop the lane; the poller looks at the order again
        close_old_connections()
        if not isinstance(exc, tasks.TRANSIENT):
            raise
        log.warning("lane %s %s: %s; retrying through the task queue", action, order_id, exc)
        retry(action, order_id, countdown=1)
    finally:
        jsonlog.clear()


class Lane:
    """`threads` threads popping the lane until `stop()`; each finishes the item it holds before it exits."""

    def __init__(self, threads: int):
        self.count = threads
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._run, name=f"oms-lane-{i}", daemon=True) for i in range(self.count)]
        for thread in self.threads:
            thread.start()

    def stop(self, timeout: float = 30) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)

    def _run(self) -> None:
        from django.db import connections

        from infra import pubsub

        backoff = 0.2
        try:
            while not self.stopping.is_set():
                try:
                    item = pubsub.client().blpop([lane_key()], timeout=POP_TIMEOUT_SECONDS)
                except redis.RedisError as exc:
                    log.warning("order lane: Redis unavailable (%s); retrying in %.1f s", exc.__class__.__name__, backoff)
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.2
                if item is None:
                    continue
                try:
                    handle(*parse(item[1]))
                except Exception:  # noqa: BLE001 - e.g. its retry could not be queued: the poller finds the order
                    log.exception("order lane: %r failed", item[1])
        finally:
            connections.close_all()


class LaneStep(bootsteps.StartStopStep):
    """Runs the lane inside a worker that consumes the `orders` queue (OMS_LANE_THREADS threads, 0 = off);
    a warm or cold shutdown lets each lane thread finish the item it holds."""

    requires = {"celery.worker.components:Pool"}

    def include_if(self, worker) -> bool:
        queues = worker.app.amqp.queues
        consumed = queues.consume_from if queues.consume_from is not None else queues
        return settings.OMS_LANE_THREADS > 0 and "orders" in consumed

    def create(self, worker) -> Lane:
        return Lane(settings.OMS_LANE_THREADS)
