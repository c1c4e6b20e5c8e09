"""Reconciliation results in the admin: read-only, so the record of what was found stays as found. A run every few
minutes per account and market makes these tables big: the lists never count them whole (infra.admin_base)."""
from django.contrib import admin

from infra.admin_base import DateRangeFilter, ReadOnlyInline, ReadOnlyListAdmin
from orders.models_reconcile import Drift, ReconciliationRun


class DriftInline(ReadOnlyInline):
    model = Drift
    fields = ("kind", "symbol", "reference", "order", "ledger", "venue", "fixed", "note")
    readonly_fields = fields
    show_change_link = True


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyListAdmin):
    list_display = ("started_at", "account", "market", "trigger", "fix", "outcome", "drift_count", "fixed_count")
    list_display_links = ("started_at",)
    # A UTC date range rather than Django's date hierarchy, whose year/month links come from a DISTINCT over every run.
    list_filter = ("outcome", "trigger", "market", "account", ("started_at", DateRangeFilter))
    list_select_related = ("account",)
    ordering = ("-started_at", "-id")  # index recon_run_time
    inlines = [DriftInline]


@admin.register(Drift)
class DriftAdmin(ReadOnlyListAdmin):
    list_display = ("id", "run", "kind", "symbol", "reference", "order", "fixed")
    list_display_links = ("id",)
    list_filter = ("kind", "fixed", "run__account")
    list_select_related = ("run", "run__account", "order")
    search_fields = ("reference", "symbol", "order__id")
    raw_id_fields = ("order", "run")
    ordering = ("-run_id", "id")  # the latest run's first, from the run_id index (not sorted by the runs' time)

