"""Orders for operations staff: find any order by any id, read its timeline, cancel or resync it.
Orders change only through orders.services; fills and events are never edited here."""
from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.timesince import timesince

from infra.admin_base import ReadOnlyAdmin, ReadOnlyInline, permission_check, report_each
from orders import services, venue_requests
from orders.models import OPEN_STATUSES, Fill, FundingPayment, IdempotencyKey, Order, OrderEvent


class OpenFilter(admin.SimpleListFilter):
    title = "working"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open (still working)"), ("no", "Terminal")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "no":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = "timeline (order events)"
    fields = ["sequence", "at", "kind", "from_status", "to_status", "source", "payload"]
    readonly_fields = fields
    ordering = ["sequence"]


class FillInline(ReadOnlyInline):
    model = Fill
    fields = ["trade_id", "executed_at", "quantity", "price", "fee", "fee_asset", "is_maker"]
    readonly_fields = fields
    ordering = ["executed_at", "id"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "symbol", "side", "order_type", "quantity", "filled_quantity", "price", "status", "age"]
    list_filter = [OpenFilter, "status", "account", "exchange", "market", "side", "order_type", "created_at"]
    search_fields = ["=id", "=client_order_id", "=exchange_order_id"]
    search_help_text = "An order id, client order id or exchange order id (exact)."
    list_select_related = ["account"]
    date_hierarchy = "created_at"
    inlines = [OrderEventInline, FillInline]
    actions = ["cancel_selected", "resync_selected"]
    fieldsets = [
        (None, {"fields": ["id", "account", "status", "reason", "version"]}),
        ("Order", {"fields": ["exchange", "market", "symbol", "side", "order_type", "time_in_force", "quantity", "price",
                              "reduce_only", "post_only", "leverage"]}),
        ("Execution", {"fields": ["filled_quantity", "average_price", "cumulative_quote", "cumulative_fee", "fee_asset"]}),
        ("Ids and times", {"fields": ["client_order_id", "exchange_order_id", "created_by", "created_at", "updated_at",
                                     "submitted_at", "next_sync_at"]}),
    ]
    readonly_fields = [f for _, opts in fieldsets for f in opts["fields"]]

    # Actions act on the venue, so they need the change permission; viewers only look.
    has_cancel_permission = permission_check("orders.change_order")
    has_resync_permission = permission_check("orders.change_order")

    @admin.display(description="age", ordering="created_at")
    def age(self, order: Order) -> str:
        return timesince(order.created_at, timezone.now())

    @admin.action(description="Cancel selected orders on the venue", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        reason = f"cancelled by {request.user.get_username()} in the admin"

        def cancel(order: Order) -> str:
            before = order.status
            after = services.order_cancel(order_id=order.pk, source="admin", reason=reason).status
            return f"{before} → {after}" if after != before else f"already {after}, nothing to do"

        report_each(self, request, queryset.order_by("created_at"), lambda o: f"Order {o.pk}", cancel)

    @admin.action(description="Resync selected orders from the venue", permissions=["resync"])
    def resync_selected(self, request, queryset):
        def resync(order: Order) -> str:
            venue_requests.order_sync_request(order.pk)
            return f"venue lookup queued (now {order.status})"

        report_each(self, request, queryset.order_by("created_at"), lambda o: f"Order {o.pk}", resync)


@admin.register(Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = ["trade_id", "order", "account", "market", "quantity", "price", "fee", "fee_asset", "is_maker", "executed_at"]
    list_filter = ["account", "market", "is_maker", "executed_at"]
    search_fields = ["=trade_id", "=order__id", "=order__client_order_id", "=order__exchange_order_id"]
    list_select_related = ["account", "order"]
    date_hierarchy = "executed_at"


@admin.register(FundingPayment)
class FundingPaymentAdmin(ReadOnlyAdmin):
    """USD-M funding paid (negative) or received, as the venue booked it; recorded by the workers, never edited."""

    list_display = ["paid_at", "account", "symbol", "amount", "asset", "venue_id", "source"]
    list_filter = ["account", "symbol", "source", "paid_at"]
    search_fields = ["=venue_id", "=symbol"]
    list_select_related = ["account"]
    date_hierarchy = "paid_at"


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "sequence", "kind", "from_status", "to_status", "source", "at"]
    list_filter = ["kind", "to_status", "source", "at"]
    search_fields = ["=order__id", "=order__client_order_id", "=order__exchange_order_id"]
    list_select_related = ["order"]
    date_hierarchy = "at"


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "order", "created_at"]
    search_fields = ["=key", "=order__id"]
    list_select_related = ["user", "order"]
