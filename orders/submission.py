"""The hand-off to the workers: Celery tasks sent by name (the API tier never imports task code).

Call these from `transaction.on_commit` only, so a worker never sees an order that rolled back.
An order whose enqueue failed stays PENDING_NEW with no submitted_at; reconciliation picks it up.
"""
from __future__ import annotations

from oms_project.celery import app

ORDERS_QUEUE = "orders"
SUBMIT_TASK = "orders.tasks.order_submit"
CANCEL_TASK = "orders.tasks.order_cancel"


def enqueue_submit(order_id: str) -> None:
    app.send_task(SUBMIT_TASK, args=[order_id], queue=ORDERS_QUEUE)


def enqueue_cancel(order_id: str) -> None:
    app.send_task(CANCEL_TASK, args=[order_id], queue=ORDERS_QUEUE)
