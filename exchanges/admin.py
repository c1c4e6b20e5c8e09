"""The instrument catalog, read-only: it is filled from the venues by `sync_markets`."""
from __future__ import annotations

from django.contrib import admin

from accounts.models import Account
from exchanges.models import Instrument
from oms_project.admin_base import ReadOnlyAdmin, permission_check, report_each
from orders import venue_requests


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdmin):
    list_display = ["symbol", "exchange", "market", "ccxt_symbol", "tick_size", "step_size", "min_quantity",
                    "min_notional", "active", "last_sync"]
    list_filter = ["exchange", "market", "active", "quote"]
    search_fields = ["symbol", "ccxt_symbol", "base"]
    actions = ["sync_now"]
    has_sync_permission = permission_check("exchanges.change_instrument")

    @admin.display(description="last sync", ordering="updated_at")
    def last_sync(self, row):
        return row.updated_at

    @admin.action(description="Sync these venues' instrument catalogs now", permissions=["sync"])
    def sync_now(self, request, queryset):
        exchanges = set(queryset.values_list("exchange", flat=True))
        # One enabled account per venue: the catalog is read with its connection settings.
        accounts = {a.exchange: a for a in Account.objects.filter(exchange__in=exchanges, enabled=True)}
        report_each(self, request, sorted(exchanges), str, lambda ex: (
            venue_requests.markets_sync_request(accounts[ex].pk) or f"sync queued via account {accounts[ex].name}"
            if ex in accounts else "no enabled account on this venue to read it with"))
