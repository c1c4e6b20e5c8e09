"""Reads over reconciliation results (metrics, admin, commands)."""
from __future__ import annotations

from django.db.models import Count

from orders.models_reconcile import Drift, ReconciliationRun


def latest_runs():
    """The most recent finished run per (account, market)."""
    return (ReconciliationRun.objects.exclude(outcome=ReconciliationRun.Outcome.RUNNING)
            .order_by("account_id", "market", "-started_at").distinct("account_id", "market"))


def drift_unresolved_counts() -> dict[tuple[str, str], int]:
    """(account name, kind) -> differences of the latest runs that were not repaired."""
    run_ids = [r.id for r in latest_runs().only("id")]
    rows = (Drift.objects.filter(run_id__in=run_ids, fixed=False).order_by()
            .values("run__account__name", "kind").annotate(n=Count("id")))
    return {(r["run__account__name"], r["kind"]): r["n"] for r in rows}
