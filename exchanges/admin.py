"""The instrument catalog, read-only: it is filled from the venues by `sync_markets`."""
from __future__ import annotations

from django.contrib import admin

from accounts.selectors import venue_accounts
from exchanges.models import Instrument
from infra.admin_base import ReadOnlyListAdmin, number_html, permission_check, report_each, utc_s
from orders import venue_requests


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyListAdmin):
    list_display = ["symbol", "exchange", "market", "ccxt_symbol", "tick", "step", "min_qty", "min_notional_col",
                    "active", "last_sync"]
    csv_fields = ["exchange", "market", "symbol", "ccxt_symbol", "base", "quote", "tick_size", "step_size",
                  "min_quantity", "min_notional", "contract_size", "active", "updated_at"]
    list_filter = ["exchange", "market", "active", "quote"]
    search_fields = ["symbol", "ccxt_symbol", "base"]
    actions = ["sync_now"]
    has_sync_permission = permission_check("exchanges.change_instrument")

    @admin.display(description="tick", ordering="tick_size")
    def tick(self, row):
        return number_html(row.tick_size)

    @admin.display(description="step", ordering="step_size")
    def step(self, row):
        return number_html(row.step_size)

    @admin.display(description="min quantity", ordering="min_quantity")
    def min_qty(self, row):
        return number_html(row.min_quantity, row.step_size)

    @admin.display(description="min notional", ordering="min_notional")
    def min_notional_col(self, row):
        return number_html(row.min_notional)

    @admin.display(description="last sync (UTC)", ordering="updated_at")
    def last_sync(self, row):
        return utc_s(row.updated_at)

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
