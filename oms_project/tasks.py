"""Periodic operations tasks (queue `sync`): crash recovery and light reconciliation. Thin adapters over
`orders.recovery` and `orders.reconcile`; both are safe to run any number of times."""
from __future__ import annotations

from celery import shared_task

MAX_RECOVERY_ROUNDS = 10


@shared_task(name="oms_project.tasks.recover_pending", bind=True, acks_late=True, reject_on_worker_lost=True)
def recover_pending(self, attempt: int = 1) -> dict:
    """Settle PENDING_NEW/PENDING_CANCEL orders; orders still waiting out recvWindow + grace get another
    round once their wait is over (bounded; beat sweeps again anyway)."""
    from orders.recovery import recover

    results = recover()
    waiting = [r.retry_in for r in results if r.outcome == "waiting"]
    if waiting and attempt < MAX_RECOVERY_ROUNDS:
        recover_pending.apply_async(kwargs={"attempt": attempt + 1}, countdown=max(min(waiting), 0.1), queue="sync")
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    return outcomes


@shared_task(name="oms_project.tasks.reconcile_light", acks_late=True, reject_on_worker_lost=True)
def reconcile_light() -> dict:
    """Report-only comparison of open orders, balances and positions of every enabled account."""
    from orders.models_reconcile import ReconciliationRun
    from orders.reconcile import reconcile

    runs = reconcile(trigger=ReconciliationRun.Trigger.SCHEDULE, trades=False)
    return {f"{run.account_id}:{run.market}": run.outcome for run in runs}
