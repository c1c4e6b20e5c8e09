"""The books computed from fills in the admin, read-only: they are written by the fold alone (and rebuilt by
`manage.py portfolio_rebuild`). Adjustments stay as booked, with why and against which numbers: a wrong one is
corrected by another, never edited away."""
from django.contrib import admin

from infra.admin_base import DateRangeFilter, ReadOnlyListAdmin
from orders.models_portfolio import FillPnl, PortfolioAdjustment, PortfolioHolding, PortfolioPosition


@admin.register(PortfolioPosition)
class PortfolioPositionAdmin(ReadOnlyListAdmin):
    list_display = ["account", "symbol", "amount", "entry_price", "realized_pnl", "fees", "funding", "updated_at"]
    list_filter = ["account"]
    search_fields = ["=symbol"]
    list_select_related = ["account"]
    csv_fields = ["account__name", "symbol", "amount", "entry_price", "realized_pnl", "fees", "other_fees", "funding",
                  "updated_at"]


@admin.register(PortfolioHolding)
class PortfolioHoldingAdmin(ReadOnlyListAdmin):
    list_display = ["account", "asset", "quantity", "average_cost", "quote_asset", "realized_pnl", "fees", "updated_at"]
    list_filter = ["account"]
    search_fields = ["=asset"]
    list_select_related = ["account"]
    csv_fields = ["account__name", "asset", "quantity", "average_cost", "quote_asset", "realized_pnl", "fees",
                  "other_fees", "updated_at"]


@admin.register(FillPnl)
class FillPnlAdmin(ReadOnlyListAdmin):
    list_display = ["executed_at", "account", "market", "symbol", "realized_pnl", "fee", "other_fee", "other_fee_asset",
                    "notional", "fill"]
    list_filter = ["account", "market", ("executed_at", DateRangeFilter)]
    search_fields = ["=symbol"]
    list_select_related = ["account"]
    raw_id_fields = ["fill"]
    csv_fields = ["fill_id", "account__name", "market", "symbol", "executed_at", "realized_pnl", "fee", "other_fee",
                  "other_fee_asset", "notional"]


@admin.register(PortfolioAdjustment)
class PortfolioAdjustmentAdmin(ReadOnlyListAdmin):
    list_display = ["at", "account", "market", "symbol", "asset", "field", "ledger_value", "venue_value", "delta",
                    "price", "source", "reason"]
    list_filter = ["account", "market", "field", ("at", DateRangeFilter)]
    search_fields = ["=symbol", "=asset"]
    list_select_related = ["account"]
    csv_fields = ["account__name", "market", "symbol", "asset", "field", "ledger_value", "venue_value", "delta",
                  "price", "reason", "source", "at"]
