"""Reconciliation results in the admin: read-only, so the record of what was found stays as found. A run every few
minutes per account and market makes these tables big: the lists never count them whole (infra.admin_base)."""
from django.contrib import admin
from django.utils.html import format_html

from infra.admin_base import DateRangeFilter, ReadOnlyInline, ReadOnlyListAdmin
from orders.admin import change_link, short_time
from orders.models_reconcile import Drift, ReconciliationRun


class DriftInline(ReadOnlyInline):
    model = Drift
    fields = ("kind", "symbol", "reference", "order", "ledger", "venue", "fixed", "note")
    readonly_fields = fields
    show_change_link = True


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyListAdmin):
    list_display = ("started", "account", "market", "trigger", "fix", "outcome", "drift_count", "fixed_count")
    list_display_links = None  # the time is the link (change_link: no reverse per row)
    # A UTC date range rather than Django's date hierarchy, whose year/month links come from a DISTINCT over every run.
    list_filter = ("outcome", "trigger", "market", "account", ("started_at", DateRangeFilter))
    list_select_related = ("account",)
    ordering = ("-started_at", "-id")  # index recon_run_time
    inlines = [DriftInline]

    @admin.display(description="started (UTC)", ordering="started_at")
    def started(self, run: ReconciliationRun) -> str:
        return short_time(run.started_at, change_link("reconciliationrun", run.pk))


@admin.register(Drift)
class DriftAdmin(ReadOnlyListAdmin):
    list_display = ("drift_id", "run", "kind", "symbol", "reference", "order", "fixed")
    list_display_links = None  # the id is the link (change_link)
    list_filter = ("kind", "fixed", "run__account")
    list_select_related = ("run", "run__account", "order")
    search_fields = ("reference", "symbol", "order__id")
    raw_id_fields = ("order", "run")
    ordering = ("-run_id", "id")  # the latest run's first, from the run_id index (not sorted by the runs' time)

    @admin.display(description="id", ordering="id")
    def drift_id(self, drift: Drift) -> str:
        return format_html('<a href="{}">{}</a>', change_link("drift", drift.pk), drift.pk)
