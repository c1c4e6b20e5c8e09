"""Signal receivers that observe the system without changing it: metrics and log lines for every
order change, log context for Celery tasks. Connected once in `OmsProjectConfig.ready()`."""
from __future__ import annotations

import logging
from functools import lru_cache

from django.db import transaction

from infra import jsonlog, metrics

log = logging.getLogger("oms.orders")

_ANSWERED = {"NEW", "PARTIALLY_FILLED", "FILLED", "REJECTED", "CANCELLED", "EXPIRED"}


@lru_cache(maxsize=4096)
def _account_name(account_id: int) -> str:
    from accounts.models import Account

    return Account.objects.filter(pk=account_id).values_list("name", flat=True).first() or str(account_id)


def order_event_saved(sender, instance, created, **kwargs):
    """Every ledger change: count it, time the venue's first answer, log one JSON line (after commit)."""
    if not created:
        return
    event = instance
    order = event.order

    def observe():
        account = _account_name(order.account_id)
        metrics.ORDER_EVENTS.labels(to_status=event.to_status, source=event.source).inc()
        if event.from_status == "PENDING_NEW" and event.to_status in _ANSWERED and event.source == "worker":
            seconds = max((event.at - order.created_at).total_seconds(), 0.0)
            metrics.ORDER_PLACEMENT_SECONDS.labels(
                exchange=order.exchange, market=order.market, outcome=event.to_status.lower()).observe(seconds)
        log.info("order %s %s -> %s", event.kind, event.from_status or "-", event.to_status, extra={
            "order_id": order.id, "account": account, "symbol": order.symbol, "status": event.to_status,
            "event": event.kind, "source": event.source, "sequence": event.sequence,
        })

    transaction.on_commit(observe)


def task_started(sender=None, task_id=None, task=None, args=None, kwargs=None, **_):
    """Bind the order (and its account) a task works on, so each line the task logs names them."""
    order_id = (kwargs or {}).get("order_id") or (args[0] if args and isinstance(args[0], str) else None)
    fields = {"task": getattr(task, "name", None), "task_id": task_id}
    if order_id:
        from orders.models import Order

        account_id = Order.objects.filter(pk=order_id).values_list("account_id", flat=True).first()
        fields.update(order_id=order_id, account=_account_name(account_id) if account_id else None)
    jsonlog.bind(**fields)


def task_finished(**_):
    jsonlog.clear()



def worker_init(sender=None, **_):
    """Celery parent process: serve the metrics of its pool processes on OMS_METRICS_PORT (when set)."""
    metrics.start_exporter()


def worker_process_shutdown(pid=None, **_):
    if pid:
        metrics.mark_process_dead(pid)


def worker_ready(sender=None, **_):
    """A worker (re)started: settle what a previous crash may have left pending. Queued rather than run
    inline, so the worker starts consuming at once; recovery is safe to run any number of times."""
    from execution.tasks import recover_pending

    recover_pending.apply_async(queue="sync")
