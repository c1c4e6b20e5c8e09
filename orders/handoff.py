"""The hand-off port: how a committed placement or cancel reaches the workers. The producer end only: the
worker side (`execution.lane`) consumes it, and nothing here imports worker code.

An item on the order lane (a Redis list of "<action>:<order id>:<account>"; a group of orders is
"submit-group:<id>,<id>,…:<account>" or "cancel-group:…") goes first; when a step has to
wait and retry it continues as a Celery task, sent by name. Call `enqueue_*` from `transaction.on_commit`
only, so a worker never sees an order that rolled back. A hand-off that failed leaves the order as it was;
the poller finds it (`execution.venue_orders.HANDOFF_LOST_AFTER`).
"""
from __future__ import annotations

from celery import current_app as app  # the project's app (oms_project.celery sets it as the default in every thread)
from django.conf import settings

from accounts.models import Market
from orders.models import Status

SUBMIT, CANCEL, AMEND = "submit", "cancel", "amend"
SUBMIT_GROUP = "submit-group"  # a batch's USD-M placements of one account, sent in one venue request
CANCEL_GROUP = "cancel-group"  # a cancel-all's orders of one account, market and symbol
USDM_PLACE_GROUP, USDM_CANCEL_GROUP = 5, 10  # Binance USD-M batchOrders: at most 5 placements, 10 cancels a request
ORDERS_QUEUE = "orders"
# Task names predate the execution app; queued messages and stored schedules refer to them.
TASKS = {SUBMIT: "orders.tasks.order_submit", CANCEL: "orders.tasks.order_cancel", AMEND: "execution.tasks.order_amend"}


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


def enqueue_submits(orders) -> None:
    """New orders (loaded with their accounts) for the workers: a Binance USD-M account's in groups of up to
    USDM_PLACE_GROUP, one item each (the worker sends a group in one request; each order keeps its own claim, answer
    and look-up), every other order alone. An order already sent or settled is left out."""
    groups: dict[int, list] = {}
    for order in orders:
        if order.status != Status.PENDING_NEW or order.submitted_at is not None:
            continue
        if order.exchange == "binance" and order.market == Market.FUTURES:
            groups.setdefault(order.account_id, []).append(order)
        else:
            enqueue_submit(order)
    for group in groups.values():
        _push_groups(SUBMIT_GROUP, group, USDM_PLACE_GROUP, enqueue_submit)


def enqueue_cancels(orders) -> None:
    """Orders a cancel-all just made PENDING_CANCEL (loaded with their accounts): a Binance account's per market and
    symbol in one item each (USD-M: up to USDM_CANCEL_GROUP), which the worker cancels together; others alone."""
    groups: dict[tuple, list] = {}
    for order in orders:
        if order.exchange == "binance":
            groups.setdefault((order.account_id, order.market, order.symbol), []).append(order)
        else:
            enqueue_cancel(order)
    for (_, market, _), group in groups.items():
        _push_groups(CANCEL_GROUP, group, USDM_CANCEL_GROUP if market == Market.FUTURES else len(group), enqueue_cancel)


def _push_groups(action: str, orders: list, size: int, alone) -> None:
    for start in range(0, len(orders), size):
        chunk = orders[start:start + size]
        if len(chunk) == 1:
            alone(chunk[0])
        else:
            push(action, ",".join(order.id for order in chunk), chunk[0].account.name)


def enqueue_cancel(order) -> None:
    push(CANCEL, order.id, order.account.name)


def enqueue_amend(order) -> None:
    push(AMEND, order.id, order.account.name)


def retry(action: str, order_id: str, *, countdown: float) -> None:
    """Run the step again after `countdown` seconds, as a Celery task with its retries and backoff."""
    app.send_task(TASKS[action], args=[order_id], queue=ORDERS_QUEUE, countdown=countdown)
