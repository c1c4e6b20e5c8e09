"""Reconciliation results in the admin: read-only, so the record of what was found stays as found."""
from django.contrib import admin

from infra.admin_base import ReadOnlyAdmin, ReadOnlyInline
from orders.models_reconcile import Drift, ReconciliationRun


class DriftInline(ReadOnlyInline):
    model = Drift
    fields = ("kind", "symbol", "reference", "order", "ledger", "venue", "fixed", "note")
    readonly_fields = fields
    show_change_link = True


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "account", "market", "trigger", "fix", "outcome", "drift_count", "fixed_count")
    list_filter = ("outcome", "trigger", "market", "account")
    list_select_related = ("account",)
    date_hierarchy = "started_at"
    inlines = [DriftInline]


@admin.register(Drift)
class DriftAdmin(ReadOnlyAdmin):
    list_display = ("id", "run", "kind", "symbol", "reference", "order", "fixed")
    list_filter = ("kind", "fixed", "run__account")
    list_select_related = ("run", "run__account")
    search_fields = ("reference", "symbol", "order__id")
    raw_id_fields = ("order", "run")
