"""The bounded wait for the venue's answer, the one rule for every adapter: PlaceOrder/CancelOrder (gRPC) and
POST /orders, /orders/{id}/cancel (REST) answer with the order once its published update shows it left the
pending status, or as the ledger has it when OMS_PLACE_WAIT_SECONDS (capped by the caller's own deadline) is
over. A timeout answers the pending state, never an error that invites a blind retry.

Where the answer is heard from is the adapter's to give: a process with a hub (the gRPC server) shares its one
subscription (`orders.grpc.hub.Hub.watch_order`); one without (the web tier) listens on the account's channel
for the one request (`ChannelWatch`)."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from django.conf import settings

from infra import pubsub
from orders import lifecycle
from orders.models import Order, Status
from orders.publish import order_payload
from orders.selectors import order_get

Answered = Callable[[dict], bool]  # over the JSON shape of orders.publish's order


class Watch(Protocol):
    order: dict | None  # the published order that answered (orders.publish's shape), once answered

    def wait(self, timeout: float) -> bool: ...


class AnswerSource(Protocol):
    def watch_order(self, order_id: str, done: Answered) -> AbstractContextManager[Watch]: ...


def _budget(order: Order, pending: str, deadline_seconds: float | None) -> float:
    """Seconds to wait: none when the order is not pending (already answered) or the caller has no time left."""
    if order.status != pending:
        return 0
    budget = settings.OMS_PLACE_WAIT_SECONDS
    return budget if deadline_seconds is None else min(budget, deadline_seconds)


def _wait(order: Order, pending: str, source: AnswerSource | None, budget: float) -> dict | None:
    """The published order that moved `order` out of `pending`, or None when the wait is over without one."""
    version = order.version
    passing = {pending}
    if pending == Status.PENDING_NEW and lifecycle.settles_on_arrival(order_type=order.order_type,
                                                                      time_in_force=order.time_in_force):
        passing |= {Status.NEW, Status.PARTIALLY_FILLED}

    def answered(update: dict) -> bool:
        return int(update.get("version") or 0) > version and update.get("status") not in passing

    with (source or ChannelSource(order.account.name)).watch_order(order.id, answered) as watch:
        return watch.order if watch.wait(budget) else None


def order_answered(order: Order, *, pending: str, source: AnswerSource | None = None,
                   deadline_seconds: float | None = None) -> Order:
    """`order` (as the caller's service returned it) once the venue's answer moved it out of `pending`, or as the
    ledger has it when the wait is over; at once when it is not pending or there is no time to wait.
    `deadline_seconds`: what is left of the caller's own deadline (gRPC), which the wait never outlasts."""
    budget = _budget(order, pending, deadline_seconds)
    if budget <= 0:
        return order
    _wait(order, pending, source, budget)
    return order_get(order.pk)


def orders_answered(orders: list[Order], *, pending: str, source: AnswerSource | None = None,
                    deadline_seconds: float | None = None) -> list[Order]:
    """A batch's orders, each as `order_answered` gives it, within one wait for the whole batch: the single call's
    OMS_PLACE_WAIT_SECONDS (capped by the caller's deadline) is shared, not granted per order."""
    budget = settings.OMS_PLACE_WAIT_SECONDS if deadline_seconds is None else min(settings.OMS_PLACE_WAIT_SECONDS,
                                                                                  deadline_seconds)
    ends = time.monotonic() + budget
    return [order_answered(order, pending=pending, source=source, deadline_seconds=ends - time.monotonic())
            for order in orders]


def order_answer(order: Order, *, pending: str, source: AnswerSource | None = None,
                 deadline_seconds: float | None = None) -> dict:
    """order_answered in orders.publish's JSON shape (`order_payload`), for an adapter that renders that shape: the
    answer exactly as it was published, without reading the ledger again; the ledger's state when none came."""
    budget = _budget(order, pending, deadline_seconds)
    if budget <= 0:
        return order_payload(order)
    answer = _wait(order, pending, source, budget)
    return answer if answer is not None else order_payload(order_get(order.pk))


def _amend_wait(order: Order, source: AnswerSource | None, deadline_seconds: float | None) -> dict | None:
    """The published order once the venue's word on its amend (AMENDED or AMEND_REFUSED) left no amend pending, or
    None when the wait is over without it (or there was nothing to wait for)."""
    budget = settings.OMS_PLACE_WAIT_SECONDS if deadline_seconds is None else min(settings.OMS_PLACE_WAIT_SECONDS,
                                                                                  deadline_seconds)
    if budget <= 0 or order.amend_request is None:
        return None
    version = order.version

    def answered(update: dict) -> bool:
        return int(update.get("version") or 0) > version and not update.get("amend_pending")

    with (source or ChannelSource(order.account.name)).watch_order(order.id, answered) as watch:
        return watch.order if watch.wait(budget) else None


def amend_answer(order: Order, *, source: AnswerSource | None = None, deadline_seconds: float | None = None) -> dict:
    """An amended order (as `services.order_amend` returned it) in orders.publish's JSON shape, once the venue's word
    on the amend was published, or as the ledger has it when the wait is over."""
    answer = _amend_wait(order, source, deadline_seconds)
    return answer if answer is not None else order_payload(order_get(order.pk))


def amend_answered(order: Order, *, source: AnswerSource | None = None) -> Order:
    """amend_answer as the ledger's order (an adapter that renders the model)."""
    _amend_wait(order, source, None)
    return order_get(order.pk)


class ChannelSource:
    """One request's own subscription to the account's order channel (a process without a hub)."""

    def __init__(self, account_name: str):
        self.account_name = account_name

    def watch_order(self, order_id: str, done: Answered) -> ChannelWatch:
        return ChannelWatch(self.account_name, order_id, done)


class ChannelWatch:
    def __init__(self, account_name: str, order_id: str, done: Answered):
        self.account_name, self.order_id, self.done = account_name, order_id, done
        self.subscription = pubsub.client().pubsub(ignore_subscribe_messages=True)
        self.answered = threading.Event()
        self.order: dict | None = None

    def __enter__(self) -> ChannelWatch:
        self.subscription.subscribe(pubsub.order_channel(self.account_name))
        current = order_payload(order_get(self.order_id))
        if self.done(current):  # the answer may have landed before we listened
            self.order = current
            self.answered.set()
        return self

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.answered.is_set() and (left := deadline - time.monotonic()) > 0:
            message = self.subscription.get_message(timeout=min(left, 1.0))
            if message:
                update = json.loads(message["data"])["order"]
                if update.get("order_id") == self.order_id and self.done(update):
                    self.order = update
                    self.answered.set()
        return self.answered.is_set()

    def __exit__(self, *exc) -> None:
        self.subscription.close()
