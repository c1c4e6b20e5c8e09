"""The hand-off port: how a committed placement or cancel reaches the workers. The producer end only: the
worker side (`execution.lane`) consumes it, and nothing here imports worker code.

An item on the order lane (a Redis list of "<action>:<order id>:<account>") goes first; when a step has to
wait and retry it continues as a Celery task, sent by name. Call `enqueue_*` from `transaction.on_commit`
only, so a worker never sees an order that rolled back. A hand-off that failed leaves the order as it was;
the poller finds it (`execution.venue_orders.HANDOFF_LOST_AFTER`).
"""
from __future__ import annotations

from celery import current_app as app  # the project's app (oms_project.celery sets it as the default in every thread)
from django.conf import settings

SUBMIT, CANCEL = "submit", "cancel"
ORDERS_QUEUE = "orders"
# Task names predate the execution app; queued messages and stored schedules refer to them.
TASKS = {SUBMIT: "orders.tasks.order_submit", CANCEL: "orders.tasks.order_cancel"}


def lane_key() -> str:
    return f"{settings.OMS_PUBSUB_PREFIX}:lane:orders"


def push(action: str, order_id: str, account: str) -> None:
    """The account's name travels along only for the log lines of the thread that takes the item."""
    from infra import pubsub
    from infra.cpu_stages import stage

    with stage("handoff"):
        pubsub.client().rpush(lane_key(), f"{action}:{order_id}:{account}")


def enqueue_submit(order) -> None:
    """`order` with its account loaded."""
    push(SUBMIT, order.id, order.account.name)


def enqueue_cancel(order) -> None:
    push(CANCEL, order.id, order.account.name)


def retry(action: str, order_id: str, *, countdown: float) -> None:
    """Run the step again after `countdown` seconds, as a Celery task with its retries and backoff."""
    app.send_task(TASKS[action], args=[order_id], queue=ORDERS_QUEUE, countdown=countdown)
