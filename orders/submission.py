"""The hand-off to the workers: the order lane first (`orders.lane`), Celery tasks (sent by name: the API
tier never imports task code) when a step has to wait and retry.

`enqueue_*` take the Order with its account loaded. Call them from `transaction.on_commit` only, so a worker never sees an order that rolled back.
A hand-off that failed leaves the order as it was; the poller finds it (`execution.HANDOFF_LOST_AFTER`).
"""
from __future__ import annotations

from oms_project.celery import app
from orders import lane

ORDERS_QUEUE = "orders"
TASKS = {lane.SUBMIT: "orders.tasks.order_submit", lane.CANCEL: "orders.tasks.order_cancel"}


def enqueue_submit(order) -> None:
    lane.push(lane.SUBMIT, order.id, order.account.name)


def enqueue_cancel(order) -> None:
    lane.push(lane.CANCEL, order.id, order.account.name)


def retry(action: str, order_id: str, *, countdown: float) -> None:
    """Run the step again after `countdown` seconds, as a Celery task with its retries and backoff."""
    app.send_task(TASKS[action], args=[order_id], queue=ORDERS_QUEUE, countdown=countdown)
