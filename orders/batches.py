"""Batches of placements and cancels: each order through the single-order service on its own, so one refused order
never sinks the others and every refusal is the one a single placement or cancel would give.

The placed orders reach the workers together once the batch is done: a USD-M account's in groups of five, which
the worker sends as one Binance `batchOrders` request (each order still claimed, answered and, when the answer is
lost, looked up on its own), the others one by one.

A batch is checked whole only for its size (1..MAX_BATCH_ORDERS): a batch outside it is refused before anything is
written. Past that, each item runs in its own transaction (`services.order_place` / `order_cancel`); a failure that
is not a refusal (the database went away) stops the batch and reaches the caller as the single call's would, and
what was placed before it stays placed: a retry with the same client order ids returns those orders.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from infra.errors import InvalidInput, ServiceError, echo
from orders import handoff, services
from orders.models import Order

MAX_BATCH_ORDERS = 50


@dataclass(frozen=True)
class ItemResult:
    """One item of a batch: the order it placed or cancelled, or the refusal a single call would have raised."""

    index: int
    order: Order | None = None
    error: ServiceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def batch_size_check(items: Sequence, *, field: str) -> None:
    if not items:
        raise InvalidInput(f"must hold 1 to {MAX_BATCH_ORDERS} orders, got none", field=field)
    if len(items) > MAX_BATCH_ORDERS:
        raise InvalidInput(f"must hold at most {MAX_BATCH_ORDERS} orders, got {len(items)}; split it into batches "
                           f"of {MAX_BATCH_ORDERS}", field=field)


def _each(items: Sequence, run: Callable[[int, object], Order]) -> list[ItemResult]:
    results = []
    for index, item in enumerate(items):
        try:
            results.append(ItemResult(index, order=run(index, item)))
        except ServiceError as exc:
            results.append(ItemResult(index, error=exc))
    return results


def orders_place_batch(*, orders: Sequence[Mapping | ServiceError], user=None, source: str = "api") -> list[ItemResult]:
    """Place each order (the keyword arguments of `services.order_place`) on its own, in the batch's order.

    An adapter that could not read an item hands its refusal in the item's place. A client order id used by an
    earlier item of the same batch is refused for the later one (one order per intent: two items under one id are
    a mistake, not a retry); across batches a repeated id returns the order already placed, as for one order."""
    batch_size_check(orders, field="orders")
    first_with: dict[str, int] = {}

    def place(index: int, item) -> Order:
        if isinstance(item, ServiceError):
            raise item
        client_order_id = item.get("client_order_id")
        if client_order_id:
            first = first_with.setdefault(client_order_id, index)
            if first != index:
                raise InvalidInput(f"client_order_id {echo(client_order_id)} is already used by order {first} of this "
                                   "batch; each order needs its own", field="client_order_id")
        order = services.order_place(**item, user=user, source=source, hand_off=False)
        placed.append(order)
        return order

    placed: list[Order] = []
    try:
        return _each(orders, place)
    finally:  # what committed is handed off even when a later order failed outright
        transaction.on_commit(partial(handoff.enqueue_submits, placed), robust=True)


def orders_cancel_batch(*, order_ids: Sequence[str], user=None, source: str = "api") -> list[ItemResult]:
    """Cancel each order by id on its own (`services.order_cancel`): PENDING_CANCEL (or already so), else the
    refusal a single cancel gives (not found, no longer cancellable)."""
    batch_size_check(order_ids, field="order_ids")

    def cancel(index: int, order_id) -> Order:
        order_id = str(order_id or "").strip()
        if not order_id:
            raise InvalidInput("is required", field="order_id")
        return services.order_cancel(order_id=order_id, user=user, source=source)

    return _each(order_ids, cancel)
