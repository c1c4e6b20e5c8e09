"""Celery tasks: thin adapters over `execution.venue_orders`. They take ids, fetch, call one function.

Queues: `orders` (order_submit, order_cancel: small and latency-sensitive, prefetch 1) and `sync`
(everything else). Every task is idempotent, so all use acks_late with reject_on_worker_lost: a task
lost with its worker runs again, and a re-run never resends an order (see execution.venue_orders).
"""
from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError, Retry
from celery.signals import worker_ready
from django.core.exceptions import ObjectDoesNotExist
from django.db import InterfaceError, OperationalError

from accounts.models import Account
from accounts.selectors import accounts_to_sync
from exchanges import problems
from exchanges.errors import VENUE_TRANSIENT
from execution import sweeps, venue_orders
from execution.venue_orders import RetryLater
from orders import services
from venues.supported import config_problem

log = logging.getLogger(__name__)

TRANSIENT = (*VENUE_TRANSIENT, OperationalError, InterfaceError)
COMMON = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 20,
}


def _run(task, step, *args) -> None:
    """Run one execution step; RetryLater becomes a Celery retry after its countdown (plus jitter)."""
    try:
        step(*args)
    except ObjectDoesNotExist as exc:  # the order/account is gone (a test database flushed, a manual delete)
        log.warning("%s%s: nothing to do: %s", task.name, args, exc)
    except RetryLater as exc:
        countdown = exc.countdown * (1 + random.uniform(0, 0.2))
        try:
            raise task.retry(countdown=countdown, max_retries=COMMON["max_retries"])
        except MaxRetriesExceededError:
            # The periodic sync picks the order up again; nothing is lost by stopping here.
            log.warning("%s%s: giving up for now: %s", task.name, args, exc)


def _for_account(task, account_id: int, step) -> None:
    """An account-wide step (catalog, balances, positions) in a shared worker: an account the gateway cannot
    serve (an unknown exchange id or broken venue URL stored before the services checked them) is skipped, and
    it or any other failure is reported (exchanges.problems: /healthz, the admin) before Celery records the
    failure; a success clears the report. Other accounts' tasks are unaffected either way."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        log.warning("%s(%s): no such account, nothing to do", task.name, account_id)
        return
    problem = config_problem(account)
    if problem:
        problems.report(account, task.name, problem)
        return
    try:
        _run(task, step, account_id)
    except Retry:
        raise
    except Exception as exc:
        problems.report(account, task.name, f"{type(exc).__name__}: {exc}")
        raise
    problems.clear(account, task.name)


@shared_task(name="orders.tasks.order_submit", **COMMON)
def order_submit(self, order_id: str) -> None:
    _run(self, venue_orders.submit, order_id)


@shared_task(name="orders.tasks.order_cancel", **COMMON)
def order_cancel(self, order_id: str) -> None:
    _run(self, venue_orders.cancel, order_id)


@shared_task(name="execution.tasks.order_amend", **COMMON)
def order_amend(self, order_id: str) -> None:
    _run(self, venue_orders.amend, order_id)


@shared_task(name="orders.tasks.order_resolve", **COMMON)
def order_resolve(self, order_id: str) -> None:
    _run(self, venue_orders.resolve_unknown, order_id)


@shared_task(name="orders.tasks.order_sync", **COMMON)
def order_sync(self, order_id: str) -> None:
    _run(self, venue_orders.sync_order, order_id)


@shared_task(name="orders.tasks.orders_sync_due", bind=True, acks_late=True, reject_on_worker_lost=True)
def orders_sync_due(self) -> int:
    """Beat: every working order whose next look is due (the schedule follows its age)."""
    order_ids = services.order_sync_due_claim(limit=500, interval=venue_orders.sync_interval,
                                              handoff_grace=venue_orders.HANDOFF_LOST_AFTER)
    for order_id in order_ids:
        order_sync.delay(order_id)
    return len(order_ids)


@shared_task(name="orders.tasks.accounts_sweep_due", bind=True, acks_late=True, reject_on_worker_lost=True)
def accounts_sweep_due(self) -> int:
    """Beat: a sweep for every account and market with working orders whose next sweep is due (its pace
    follows whether its user-data stream is live, within the sync share of its weight limit)."""
    due = [(a, m) for a, m, symbols in sweeps.sweep_targets() if sweeps.sweep_due_claim(a, m, symbols)]
    for account_id, market in due:
        account_sweep.delay(account_id, market)
    return len(due)


@shared_task(name="orders.tasks.account_sweep", **COMMON)
def account_sweep(self, account_id: int, market: str) -> None:
    _run(self, sweeps.sweep, account_id, market)


@shared_task(name="orders.tasks.account_sync", **COMMON)
def account_sync(self, account_id: int) -> None:
    _for_account(self, account_id, venue_orders.account_sync)


@shared_task(name="orders.tasks.accounts_sync_all", bind=True, acks_late=True, reject_on_worker_lost=True)
def accounts_sync_all(self) -> None:
    """Beat: balances and positions of every enabled account with credentials, now and then."""
    for account_id in accounts_to_sync().values_list("pk", flat=True):
        account_sync.delay(account_id)


@shared_task(name="orders.tasks.account_funding_sync", **COMMON)
def account_funding_sync(self, account_id: int, source: str = "sync") -> None:
    """The account's USD-M funding payments the ledger lacks, recorded (idempotent: see execution.funding)."""
    from execution import funding

    _for_account(self, account_id, lambda pk: funding.sync(pk, source))


@shared_task(name="orders.tasks.accounts_funding_sync_all", bind=True, acks_late=True, reject_on_worker_lost=True)
def accounts_funding_sync_all(self) -> None:
    """Beat: funding payments of every enabled Binance account with credentials (the stream's safety net)."""
    for account_id in accounts_to_sync(exchange="binance").values_list("pk", flat=True):
        account_funding_sync.delay(account_id)


@shared_task(name="orders.tasks.markets_sync", **COMMON)
def markets_sync(self, account_id: int) -> None:
    from exchanges.markets import sync_markets

    _for_account(self, account_id, lambda pk: sync_markets(Account.objects.get(pk=pk)))


@shared_task(name="orders.tasks.markets_sync_all", bind=True, acks_late=True, reject_on_worker_lost=True)
def markets_sync_all(self) -> None:
    """Beat (hourly) and worker start: the catalog of every venue endpoint, then every account's balances."""
    from exchanges.marketdata import venues

    for account in venues():
        markets_sync.delay(account.pk)


@worker_ready.connect
def _on_worker_ready(sender=None, **_kwargs) -> None:
    """A starting worker makes the env-configured testnet account current and syncs what trading needs
    at once (markets, balances, positions), so the first order never waits for the hourly beat."""
    from execution.startup import startup_sync, testnet_account_from_env

    try:
        testnet_account_from_env()
    except Exception:  # noqa: BLE001 - the other accounts' start-up sync goes on
        log.exception("the testnet account from the environment was not applied")
    startup_sync()


@shared_task(name="orders.tasks.account_startup_sync", **COMMON)
def account_startup_sync(self, account_id: int) -> None:
    """Markets first (orders need them), then balances and positions."""
    from exchanges.markets import sync_markets

    def step(pk: int) -> None:
        sync_markets(Account.objects.get(pk=pk))
        venue_orders.account_sync(pk)

    _for_account(self, account_id, step)


# ------------------------------------------------------------------ operations: recovery, light reconciliation

MAX_RECOVERY_ROUNDS = 10


@shared_task(name="oms_project.tasks.recover_pending", bind=True, acks_late=True, reject_on_worker_lost=True)
def recover_pending(self, attempt: int = 1) -> dict:
    """Settle PENDING_NEW/PENDING_CANCEL orders; orders still waiting out recvWindow + grace get another
    round once their wait is over (bounded; beat sweeps again anyway)."""
    from execution.recovery import recover

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
    from execution.reconcile import reconcile
    from orders.models_reconcile import ReconciliationRun

    runs = reconcile(trigger=ReconciliationRun.Trigger.SCHEDULE, trades=False)
    return {f"{run.account_id}:{run.market}": run.outcome for run in runs}
