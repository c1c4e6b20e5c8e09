"""Crash recovery: settle every order left PENDING_NEW or PENDING_CANCEL, by asking the venue.

Runs when a worker starts (a previous one may have died between sending an order and hearing the
answer), every half minute from beat, and on demand (`manage.py recover`). Each order is looked up
by its client order id (the OMS order id) through `execution.venue_orders`, which owns the rules:

- PENDING_NEW, sent: found → the venue's state and trades are recorded; not found → REJECTED as never
  received, but only once recvWindow + grace has passed since the send (before that the request may
  still arrive, so the order is left "waiting"). Nothing is ever sent again.
- PENDING_NEW, never sent (its hand-off to the workers was lost): submitted now; the submission claim
  guarantees one send even if the original task turns up later.
- PENDING_CANCEL: looked up first; a closed order takes the venue's state, one still working gets its
  cancel request again (cancelling twice is harmless; placing twice is not).
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from exchanges.errors import venue_reason
from execution import venue_orders
from execution.venue_orders import RetryLater
from infra import metrics
from infra.jsonlog import log_context
from orders.lifecycle import PENDING_STATUSES
from orders.models import Order, Status

log = logging.getLogger(__name__)

PENDING = PENDING_STATUSES


@dataclass
class Recovered:
    order_id: str
    account: str
    symbol: str
    before: str
    after: str
    outcome: str  # resolved | waiting | submitted | cancel_sent | unresolved | error
    detail: str = ""
    retry_in: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def pending_orders(*, account: str = "", min_age_seconds: float | None = None):
    """PENDING_NEW/PENDING_CANCEL orders older than `min_age_seconds` (younger ones are still in a worker's hands)."""
    if min_age_seconds is None:
        min_age_seconds = settings.OMS_RECOVERY_MIN_AGE_SECONDS
    qs = Order.objects.filter(status__in=PENDING, updated_at__lte=timezone.now() - timedelta(seconds=min_age_seconds))
    if account:
        qs = qs.filter(account__name=account)
    return qs.select_related("account").order_by("created_at")


def recover_order(order: Order) -> Recovered:
    before, was_sent = order.status, order.submitted_at is not None
    outcome, detail, retry_in = "", "", 0.0
    with log_context(order_id=order.id, account=order.account.name):
        try:
            venue_orders.sync_order(order.id)
            order.refresh_from_db()
            if order.status == Status.PENDING_CANCEL:
                venue_orders.cancel(order.id)
                order.refresh_from_db()
        except RetryLater as exc:
            outcome, detail, retry_in = "waiting", str(exc), exc.countdown
        except Exception as exc:  # noqa: BLE001 - one order's trouble must not stop the others; reported per order
            log.warning("recovery of %s failed: %s", order.id, venue_reason(exc))
            outcome, detail = "error", f"{type(exc).__name__}: {venue_reason(exc)}"
        order.refresh_from_db()
        if order.status not in PENDING:
            outcome = "resolved"
        elif not outcome:
            outcome = "submitted" if before == Status.PENDING_NEW and not was_sent else "cancel_sent" \
                if before == Status.PENDING_CANCEL else "unresolved"
        metrics.RECOVERY_RESOLVED.labels(outcome=outcome).inc()
        log.info("recovery %s: %s -> %s", outcome, before, order.status, extra={"detail": detail} if detail else None)
    return Recovered(order.id, order.account.name, order.symbol, before, order.status, outcome, detail, retry_in)


def recover(*, account: str = "", min_age_seconds: float | None = None, wait_seconds: float = 0.0,
            progress=None) -> list[Recovered]:
    """One pass over the pending orders; with `wait_seconds`, orders still waiting out recvWindow + grace
    are looked at again until they settle or the time is up. `progress(done, total)` is told as it goes."""
    deadline = time.monotonic() + wait_seconds
    results: dict[str, Recovered] = {}
    todo = list(pending_orders(account=account, min_age_seconds=min_age_seconds))
    total = len(todo)
    while todo:
        for order in todo:
            results[order.id] = recover_order(order)
            if progress:
                progress(sum(r.outcome != "waiting" for r in results.values()), total)
        waiting = [r for r in results.values() if r.outcome == "waiting"]
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(min(max(min(r.retry_in for r in waiting), 0.05), max(deadline - time.monotonic(), 0.05)))
        todo = list(Order.objects.filter(pk__in=[r.order_id for r in waiting], status__in=PENDING).select_related("account"))
        for r in waiting:
            if r.order_id not in {o.id for o in todo}:
                results[r.order_id] = _settled_meanwhile(r)
    return list(results.values())


def _settled_meanwhile(r: Recovered) -> Recovered:
    """Someone else (the worker's own retry) settled it between two passes."""
    status = Order.objects.filter(pk=r.order_id).values_list("status", flat=True).first() or r.after
    return Recovered(r.order_id, r.account, r.symbol, r.before, status, "resolved", "settled by the worker")
