"""Orders for operations staff: lists that answer the question first (numbers at the instrument's step and tick,
coloured statuses, how long a pending order has waited), any order found by any id, and each order's story
(orders/admin_story.py) with the actions that are safe now. Orders change only through orders.services; fills and
events are never edited here."""
from __future__ import annotations

from functools import cache

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from exchanges.increments import increments
from exchanges.models import Instrument
from infra.admin_base import (
    DateRangeFilter,
    ReadOnlyListAdmin,
    badge,
    duration_text,
    number_html,
    permission_check,
    report_each,
    utc_ms,
)
from infra.errors import ServiceError
from orders import admin_story, lifecycle, selectors, services, venue_requests
from orders.lifecycle import EventKind
from orders.models import OPEN_STATUSES, Fill, FundingPayment, IdempotencyKey, Order, OrderEvent, Status

STATUS_COLOURS = {
    Status.PENDING_NEW: "#9a6700", Status.PENDING_CANCEL: "#9a6700", Status.NEW: "#0969da",
    Status.PARTIALLY_FILLED: "#1b7c83", Status.FILLED: "#1a7f37", Status.CANCELLED: "#6e7781",
    Status.REJECTED: "#cf222e", Status.EXPIRED: "#6e7781",
}


def status_badge(status: str) -> str:
    return badge(status, STATUS_COLOURS.get(status, "#6e7781"))


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


class PendingFilter(admin.SimpleListFilter):
    """Orders the venue has not settled (PENDING_NEW, PENDING_CANCEL) for longer than N seconds (the overview links
    here with pending_over=10)."""

    title = "pending longer than"
    parameter_name = "pending_over"

    def lookups(self, request, model_admin):
        return [("10", "10 s"), ("60", "1 min"), ("600", "10 min")]

    def queryset(self, request, queryset):
        try:
            seconds = float(self.value()) if self.value() else None
        except ValueError:
            return queryset.none()
        return queryset if seconds is None else selectors.orders_pending_longer_than(seconds, orders=queryset)


class CatalogSymbolFilter(admin.SimpleListFilter):
    """Symbols from the instrument catalog (a DISTINCT over millions of orders would read them all)."""

    title = "symbol"
    parameter_name = "symbol"

    def lookups(self, request, model_admin):
        symbols = sorted(set(Instrument.objects.values_list("symbol", flat=True)))
        return [(s, s) for s in symbols]

    def has_output(self):
        return True  # a symbol in the URL filters even when the catalog does not hold it (yet)

    def queryset(self, request, queryset):
        return queryset.filter(symbol=self.value()) if self.value() else queryset


class ExactIdSearch:
    """Search by any id, exact and case-sensitive, so each term is one index look-up (the admin's "=field" is
    iexact: UPPER(...) over every row). `id_fields` are the row's own columns; `order_field` names the row's order,
    found by any of the order's ids (selectors.order_ids_matching)."""

    id_fields: tuple[str, ...] = ()
    order_field = ""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q()
        for field in self.id_fields:
            match |= Q(**{field: term})
        if self.order_field:
            match |= Q(**{f"{self.order_field}__in": selectors.order_ids_matching(term)})
        return queryset.filter(match), False


def _with_increments(changelist, key):
    """Give each row of the page its instrument's (step, tick): one catalog read per page."""
    found = increments()
    for row in changelist.result_list:
        row.oms_increments = found.get(key(row), (None, None))
    return changelist


def _step(row):
    return getattr(row, "oms_increments", (None, None))[0]


def _tick(row):
    return getattr(row, "oms_increments", (None, None))[1]


def short_time(moment, link: str = "") -> str:
    """12-07 19:16:06.123 in a list (the year and "UTC" in the tooltip), linked to `link` when given."""
    full = utc_ms(moment)
    if link:
        return format_html('<a class="oms-time" href="{}" title="{}">{}</a>', link, full, full[5:-4])
    return format_html('<span class="oms-time" title="{}">{}</span>', full, full[5:-4])


def change_link(model_name: str, pk) -> str:
    """The change page of a row, built from one reverse per process rather than a reverse (and a resolve of the
    page's filters) per row: Django's own link column spends more time on that than on the rest of the row."""
    return _change_base(model_name).replace("__pk__", quote(str(pk)))


@cache
def _change_base(model_name: str) -> str:
    return reverse(f"admin:orders_{model_name}_change", args=["__pk__"])


def _pending_age(order: Order) -> str:
    since = selectors.pending_since(order)
    if since is None:
        return ""
    seconds = (timezone.now() - since).total_seconds()
    css = "oms-bad" if seconds > selectors.PENDING_ALERT_SECONDS else "oms-warn"
    return format_html('<span class="{}">{}</span>', css, duration_text(seconds))


@admin.register(Order)
class OrderAdmin(ReadOnlyListAdmin):
    list_display = ["created", "account_name", "symbol", "side", "type_col", "quantity_col", "price_col", "stop_col",
                    "filled_col", "average_col", "status_col", "pending_col"]
    list_display_links = None  # the time is the link (short_time): see change_link
    list_filter = [OpenFilter, PendingFilter, "status", "account", CatalogSymbolFilter, "market", "side", "order_type",
                   ("created_at", DateRangeFilter)]
    search_fields = ["id"]  # shows the search box; get_search_results does the searching
    search_help_text = "An order id, client order id or exchange order id (exact)."
    list_select_related = ["account"]
    actions = ["cancel_selected", "resync_selected"]
    change_form_template = "admin/orders/order/story.html"
    csv_fields = ["id", "client_order_id", "exchange_order_id", "account__name", "exchange", "market", "symbol", "side",
                  "order_type", "time_in_force", "quantity", "price", "stop_price", "triggered_at", "filled_quantity",
                  "average_price",
                  "cumulative_quote", "cumulative_fee", "fee_asset", "status", "reason", "created_at", "updated_at",
                  "submitted_at"]
    fieldsets = [
        (None, {"fields": ["id", "account", "status_col", "reason", "version"]}),
        ("Order", {"fields": ["exchange", "market", "symbol", "side", "order_type", "time_in_force", "quantity_col",
                              "price_col", "stop_col", "reduce_only", "post_only", "leverage"]}),
        ("Execution", {"fields": ["filled_col", "average_col", "quote_col", "fee_col"]}),
        ("Ids and times (UTC)", {"fields": ["client_order_id", "exchange_order_id", "created_by", "created_ms",
                                            "updated_ms", "submitted_ms", "next_sync_ms"]}),
    ]
    readonly_fields = [f for _, opts in fieldsets for f in opts["fields"]]

    # Actions act on the venue, so they need the change permission; viewers only look.
    has_cancel_permission = permission_check("orders.change_order")
    has_resync_permission = permission_check("orders.change_order")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (queryset.filter(selectors.order_any_id(term)) if term else queryset), False

    def get_changelist_instance(self, request):
        return _with_increments(super().get_changelist_instance(request), lambda o: (o.exchange, o.market, o.symbol))

    def get_object(self, request, object_id, from_field=None):
        order = super().get_object(request, object_id, from_field)
        if order is not None:
            order.oms_increments = increments().get((order.exchange, order.market, order.symbol), (None, None))
        return order

    # ---- columns ----

    @admin.display(description="time (UTC)", ordering="created_at")
    def created(self, order: Order) -> str:
        return short_time(order.created_at, change_link("order", order.pk))

    @admin.display(description="account", ordering="account__name")
    def account_name(self, order: Order) -> str:
        return order.account.name

    @admin.display(description="type", ordering="order_type")
    def type_col(self, order: Order) -> str:
        return order.order_type

    @admin.display(description="quantity", ordering="quantity")
    def quantity_col(self, order: Order) -> str:
        return number_html(order.quantity, _step(order))

    @admin.display(description="price", ordering="price")
    def price_col(self, order: Order) -> str:
        return number_html(order.price, _tick(order)) if order.price is not None else "market"

    @admin.display(description="stop price", ordering="stop_price")
    def stop_col(self, order: Order) -> str:
        """A conditional order's trigger, and whether the venue has fired it yet."""
        if order.stop_price is None:
            return "-"
        state = "triggered" if order.triggered_at is not None else "armed"
        return format_html("{} <small>{}</small>", number_html(order.stop_price, _tick(order)), state)

    @admin.display(description="filled", ordering="filled_quantity")
    def filled_col(self, order: Order) -> str:
        return number_html(order.filled_quantity, _step(order))

    @admin.display(description="avg price")
    def average_col(self, order: Order) -> str:
        return number_html(order.average_price, _tick(order)) if order.average_price is not None else "-"

    @admin.display(description="status", ordering="status")
    def status_col(self, order: Order) -> str:
        return status_badge(order.status)

    @admin.display(description="pending for")
    def pending_col(self, order: Order) -> str:
        return _pending_age(order)

    @admin.display(description="quote (cumulative)")
    def quote_col(self, order: Order) -> str:
        return number_html(order.cumulative_quote)

    @admin.display(description="fee (cumulative)")
    def fee_col(self, order: Order) -> str:
        return format_html("{} {}", number_html(order.cumulative_fee), order.fee_asset)

    @admin.display(description="created")
    def created_ms(self, order: Order) -> str:
        return utc_ms(order.created_at)

    @admin.display(description="updated")
    def updated_ms(self, order: Order) -> str:
        return utc_ms(order.updated_at)

    @admin.display(description="submitted to the venue")
    def submitted_ms(self, order: Order) -> str:
        return utc_ms(order.submitted_at)

    @admin.display(description="next look by the poller")
    def next_sync_ms(self, order: Order) -> str:
        return utc_ms(order.next_sync_at)

    # ---- the story page ----

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["subtitle"] = admin_story.headline(obj)
            context["title"] = f"Order {obj.pk}"
            context["story"] = admin_story.story(obj)
            context["may_act"] = self.has_cancel_permission(request)
            context["may_cancel"] = context["may_act"] and obj.status in lifecycle.CANCELLABLE_STATUSES
            context["status_badge"] = status_badge(obj.status)
            context["lookup_url"] = reverse("admin:orders_order_lookup", args=[obj.pk])
            context["cancel_url"] = reverse("admin:orders_order_cancel", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path("<path:object_id>/lookup/", self.admin_site.admin_view(self.lookup_view), name="orders_order_lookup"),
            path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view), name="orders_order_cancel"),
            *super().get_urls(),
        ]

    def _act(self, request, object_id, do) -> HttpResponseRedirect:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=object_id)
        try:
            self.message_user(request, do(order), messages.SUCCESS)
        except ServiceError as exc:
            self.message_user(request, f"Refused: {exc.message}", messages.WARNING)
        except Exception as exc:  # noqa: BLE001 - e.g. the broker is unreachable: say so on the page
            self.message_user(request, f"Failed: {exc.__class__.__name__}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def lookup_view(self, request, object_id):
        def lookup(order: Order) -> str:
            venue_requests.order_sync_request(order.pk)
            return f"A worker looks order {order.pk} up on the venue now (it is {order.status}); reload to see its answer."
        return self._act(request, object_id, lookup)

    def cancel_view(self, request, object_id):
        def cancel(order: Order) -> str:
            reason = f"cancelled by {request.user.get_username()} in the admin"
            after = services.order_cancel(order_id=order.pk, source="admin", reason=reason).status
            return f"Order {order.pk}: {order.status} → {after}"
        return self._act(request, object_id, cancel)

    # ---- actions on the list ----

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


def _order_link(order_id: str) -> str:
    return format_html('<a href="{}">{}…</a>', change_link("order", order_id), order_id[:12])


@admin.register(Fill)
class FillAdmin(ExactIdSearch, ReadOnlyListAdmin):
    list_display = ["executed", "account_name", "symbol", "side", "quantity_col", "price_col", "fee_col", "is_maker",
                    "order_col", "trade_id"]
    list_display_links = None  # the time is the link
    list_filter = ["account", "market", CatalogSymbolFilter, "is_maker", ("executed_at", DateRangeFilter)]
    search_fields = ["trade_id"]
    id_fields, order_field = ("trade_id",), "order_id"
    search_help_text = "A venue trade id, or an order id, client order id or exchange order id (exact)."
    list_select_related = ["account", "order"]
    ordering = ["-executed_at", "-id"]  # the latest first (index fill_time), like every other list
    csv_fields = ["trade_id", "order__id", "account__name", "market", "symbol", "order__side", "quantity", "price",
                  "fee", "fee_asset", "is_maker", "executed_at"]

    def get_changelist_instance(self, request):
        return _with_increments(super().get_changelist_instance(request), lambda f: (f.account.exchange, f.market, f.symbol))

    @admin.display(description="executed (UTC)", ordering="executed_at")
    def executed(self, fill: Fill) -> str:
        return short_time(fill.executed_at, change_link("fill", fill.pk))

    @admin.display(description="account", ordering="account__name")
    def account_name(self, fill: Fill) -> str:
        return fill.account.name

    @admin.display(description="side")
    def side(self, fill: Fill) -> str:
        return fill.order.side

    @admin.display(description="quantity", ordering="quantity")
    def quantity_col(self, fill: Fill) -> str:
        return number_html(fill.quantity, _step(fill))

    @admin.display(description="price", ordering="price")
    def price_col(self, fill: Fill) -> str:
        return number_html(fill.price, _tick(fill))

    @admin.display(description="fee")
    def fee_col(self, fill: Fill) -> str:
        return format_html("{} {}", number_html(fill.fee), fill.fee_asset)

    @admin.display(description="order")
    def order_col(self, fill: Fill) -> str:
        return _order_link(fill.order_id)


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(k, k) for k in vars(EventKind) if k.isupper()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class ToStatusFilter(admin.SimpleListFilter):
    title = "to status"
    parameter_name = "to_status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(to_status=self.value()) if self.value() else queryset


@admin.register(FundingPayment)
class FundingPaymentAdmin(ReadOnlyListAdmin):
    """USD-M funding paid (negative) or received, as the venue booked it; recorded by the workers, never edited."""

    list_display = ["paid", "account", "symbol", "amount_col", "asset", "venue_id", "source"]
    list_display_links = None  # the time is the link
    list_filter = ["account", "symbol", "source", ("paid_at", DateRangeFilter)]
    search_fields = ["=venue_id", "=symbol"]
    list_select_related = ["account"]
    csv_fields = ["venue_id", "account__name", "symbol", "amount", "asset", "paid_at", "source"]

    @admin.display(description="paid (UTC)", ordering="paid_at")
    def paid(self, payment: FundingPayment) -> str:
        return short_time(payment.paid_at, change_link("fundingpayment", payment.pk))

    @admin.display(description="amount", ordering="amount")
    def amount_col(self, payment: FundingPayment) -> str:
        return number_html(payment.amount)


@admin.register(OrderEvent)
class OrderEventAdmin(ExactIdSearch, ReadOnlyListAdmin):
    list_display = ["at_ms", "order_col", "sequence", "kind", "from_to", "source", "summary"]
    list_display_links = None  # the time is the link
    list_filter = [KindFilter, ToStatusFilter, "source", ("at", DateRangeFilter)]
    search_fields = ["order__id"]
    order_field = "order_id"
    ordering = ["-at", "-id"]  # the latest first, read from an index with each filter (event_kind, …)
    search_help_text = "An order id, client order id or exchange order id (exact)."
    csv_fields = ["id", "order__id", "sequence", "kind", "from_status", "to_status", "source", "at", "payload"]

    @admin.display(description="at (UTC)", ordering="at")
    def at_ms(self, event: OrderEvent) -> str:
        return short_time(event.at, change_link("orderevent", event.pk))

    @admin.display(description="order")
    def order_col(self, event: OrderEvent) -> str:
        return _order_link(event.order_id)

    @admin.display(description="from → to")
    def from_to(self, event: OrderEvent) -> str:
        return f"{event.from_status or '·'} → {event.to_status}"

    @admin.display(description="payload")
    def summary(self, event: OrderEvent) -> str:
        return admin_story.payload_summary(event.payload)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyListAdmin):
    list_display = ["key", "user", "order", "created_at"]
    search_fields = ["=key", "=order__id"]
    list_select_related = ["user", "order"]
