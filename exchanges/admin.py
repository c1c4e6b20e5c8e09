"""The instrument catalog, read-only: it is filled from the venues by `sync_markets`."""
from __future__ import annotations

from django.contrib import admin

from accounts.selectors import venue_accounts
from exchanges.models import Instrument
from infra.admin_base import ReadOnlyAdmin, permission_check, report_each
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
        # The account the price feed and the hourly catalog sync read each venue with (the first endpoint of each).
        accounts: dict = {}
        for account in venue_accounts(exchanges=exchanges):
            accounts.setdefault(account.exchange, account)
        report_each(self, request, sorted(exchanges), str, lambda ex: (
            venue_requests.markets_sync_request(accounts[ex].pk) or f"sync queued via account {accounts[ex].name}"
            if ex in accounts else "no enabled account on this venue to read it with"))
