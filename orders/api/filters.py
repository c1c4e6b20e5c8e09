"""Query filters (django-filter). Names match the gRPC ListOrders request where both exist."""
from __future__ import annotations

from datetime import UTC

import django_filters as df
from django import forms

from accounts.models import Balance, Market
from accounts.selectors import account_get
from exchanges.models import Instrument
from infra.errors import ServiceError
from orders.models import Fill, FundingPayment, Order, Side, Status
from orders.selectors import order_filter
from venues.symbols import symbol_normalize


class UtcDateTimeField(df.fields.IsoDateTimeField):
    """ISO 8601 with any offset, compared in UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:
            raise forms.ValidationError("The date and time is out of range.", code="invalid") from None


class UtcDateTimeFilter(df.IsoDateTimeFilter):
    field_class = UtcDateTimeField


STATUS_CHOICES = [("OPEN", "every working status"), *Status.choices]


def as_query_parameter(exc: ServiceError) -> ServiceError:
    """The selectors name the account `account_id` (gRPC's field); here the query parameter is `account`."""
    if exc.field == "account_id":
        exc.field = "account"
    return exc


class AccountFilter(df.CharFilter):
    """An account by name, read as every list reads it (accounts.selectors.account_get): one the caller may not
    see is a 404 naming `account`, exactly as a missing one and as gRPC answers, never an empty page."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "account name")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        try:
            account = account_get(value, self.parent.request.user)
        except ServiceError as exc:
            raise as_query_parameter(exc) from None
        return qs.filter(**{self.field_name: account})


class OrderFilter(df.FilterSet):
    """The filters gRPC ListOrders has (account, exchange, market, symbol, status) are applied by the one selector
    (orders.selectors.order_filter); side and the creation range are REST's own."""

    account = df.CharFilter(help_text="account name; one you may not see is 404")
    exchange = df.CharFilter()
    market = df.ChoiceFilter(choices=Market.choices)
    symbol = df.CharFilter(help_text="BTCUSDT or BTC/USDT, any case")
    status = df.ChoiceFilter(choices=STATUS_CHOICES, help_text="a status, or OPEN")
    side = df.ChoiceFilter(choices=Side.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    SELECTOR_FILTERS = ("account", "exchange", "market", "symbol", "status")

    class Meta:
        model = Order
        fields = ["account", "exchange", "market", "symbol", "status", "side", "created_after", "created_before"]

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        try:
            queryset = order_filter(queryset, user=self.request.user,
                                    **{name: data.get(name) or "" for name in self.SELECTOR_FILTERS})
        except ServiceError as exc:
            raise as_query_parameter(exc) from None
        for name, value in data.items():
            if name not in self.SELECTOR_FILTERS:
                queryset = self.filters[name].filter(queryset, value)
        return queryset


class SymbolFilter(df.CharFilter):
    """A symbol in any spelling (BTCUSDT, btcusdt, BTC/USDT, BTC/USDT:USDT), normalized as every other entry point
    normalizes it (venues.symbols), then matched exactly against the stored native symbol."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "BTCUSDT or BTC/USDT, any case")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return super().filter(qs, symbol_normalize(value) if value else value)


class FillFilter(df.FilterSet):
    account = AccountFilter()
    market = df.ChoiceFilter(choices=Market.choices)
    symbol = SymbolFilter()
    order = df.CharFilter(field_name="order_id")
    executed_after = UtcDateTimeFilter(field_name="executed_at", lookup_expr="gte")
    executed_before = UtcDateTimeFilter(field_name="executed_at", lookup_expr="lt")

    class Meta:
        model = Fill
        fields = ["account", "market", "symbol", "order", "executed_after", "executed_before"]


class FundingFilter(df.FilterSet):
    account = AccountFilter()
    symbol = SymbolFilter()
    paid_after = UtcDateTimeFilter(field_name="paid_at", lookup_expr="gte")
    paid_before = UtcDateTimeFilter(field_name="paid_at", lookup_expr="lt")

    class Meta:
        model = FundingPayment
        fields = ["account", "symbol", "paid_after", "paid_before"]


class BalanceFilter(df.FilterSet):
    account = AccountFilter()
    market = df.ChoiceFilter(choices=Market.choices)
    asset = df.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Balance
        fields = ["account", "market", "asset"]


class InstrumentFilter(df.FilterSet):
    exchange = df.CharFilter()
    market = df.ChoiceFilter(choices=Market.choices)
    symbol = SymbolFilter()
    base = df.CharFilter(lookup_expr="iexact")
    quote = df.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Instrument
        fields = ["exchange", "market", "symbol", "base", "quote", "active"]
