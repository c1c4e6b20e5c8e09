"""Reconciliation results in the admin: read-only, so the record of what was found stays as found."""
from django.contrib import admin

from orders.models_reconcile import Drift, ReconciliationRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DriftInline(admin.TabularInline):
    model = Drift
    fields = ("kind", "symbol", "reference", "order", "ledger", "venue", "fixed", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


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
