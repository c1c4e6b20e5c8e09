"""Reads over reconciliation results (metrics, admin, commands)."""
from __future__ import annotations

from django.db.models import Count

from accounts.models import Account, Market
from orders.models_reconcile import Drift, ReconciliationRun


def latest_runs() -> list[ReconciliationRun]:
    """The most recent finished run per (account, market), in one query: for each pair the top of the index
    recon_run_latest (a DISTINCT ON over every run sorts them all: seconds with a run every 5 minutes for months)."""
    finished = ReconciliationRun.objects.exclude(outcome=ReconciliationRun.Outcome.RUNNING).order_by("-started_at", "-id")
    pairs = [finished.filter(account_id=pk, market=market)[:1]
             for pk in Account.objects.order_by("pk").values_list("pk", flat=True) for market in Market.values]
    return list(pairs[0].union(*pairs[1:], all=True)) if pairs else []


def drift_unresolved_counts() -> dict[tuple[str, str], int]:
    """(account name, kind) -> differences of the latest runs that were not repaired."""
    run_ids = [r.id for r in latest_runs()]
    rows = (Drift.objects.filter(run_id__in=run_ids, fixed=False).order_by()
            .values("run__account__name", "kind").annotate(n=Count("id")))
    return {(r["run__account__name"], r["kind"]): r["n"] for r in rows}
