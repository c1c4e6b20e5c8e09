"""Query filters (django-filter). Names match the gRPC ListOrders request where both exist."""
from __future__ import annotations

from datetime import UTC

import django_filters as df
from django import forms
from django.db.models import Subquery

from accounts.models import Account, Balance, Market, Position
from exchanges.models import Instrument
from orders.models import OPEN_STATUSES, Fill, Order, Side, Status
from orders.symbols import symbol_normalize


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


class OrderFilter(df.FilterSet):
    account = df.CharFilter(method="filter_account", help_text="account name")
    exchange = df.CharFilter()
    market = df.ChoiceFilter(choices=Market.choices)
    symbol = df.CharFilter(method="filter_symbol", help_text="BTCUSDT or BTC/USDT, any case")
    status = df.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", help_text="a status, or OPEN")
    side = df.ChoiceFilter(choices=Side.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["account", "exchange", "market", "symbol", "status", "side", "created_after", "created_before"]

    def filter_account(self, queryset, name, value):
        # `account_id = (SELECT id ... WHERE name = ...)`, evaluated once, not a join on the name: only then does
        # PostgreSQL read the (account, status, created_at) index in order and stop after the page.
        return queryset.filter(account_id=Subquery(Account.objects.filter(name=value).values("pk")[:1]))

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES) if value == "OPEN" else queryset.filter(status=value)

    def filter_symbol(self, queryset, name, value):
        # Normalized as gRPC does, then matched exactly: the (account, symbol, created_at) index serves it,
        # where a case-insensitive match read every order of the account.
        return queryset.filter(symbol=symbol_normalize(value))


class SymbolFilter(df.CharFilter):
    """A symbol in any spelling (BTCUSDT, btcusdt, BTC/USDT, BTC/USDT:USDT), normalized as every other entry point
    normalizes it (orders.symbols), then matched exactly against the stored native symbol."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "BTCUSDT or BTC/USDT, any case")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return super().filter(qs, symbol_normalize(value) if value else value)


class FillFilter(df.FilterSet):
    account = df.CharFilter(field_name="account__name")
    market = df.ChoiceFilter(choices=Market.choices)
    symbol = SymbolFilter()
    order = df.CharFilter(field_name="order_id")
    executed_after = UtcDateTimeFilter(field_name="executed_at", lookup_expr="gte")
    executed_before = UtcDateTimeFilter(field_name="executed_at", lookup_expr="lt")

    class Meta:
        model = Fill
        fields = ["account", "market", "symbol", "order", "executed_after", "executed_before"]


class BalanceFilter(df.FilterSet):
    account = df.CharFilter(field_name="account__name")
    market = df.ChoiceFilter(choices=Market.choices)
    asset = df.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Balance
        fields = ["account", "market", "asset"]


class PositionFilter(df.FilterSet):
    account = df.CharFilter(field_name="account__name")
    exchange = df.CharFilter(field_name="account__exchange")
    symbol = SymbolFilter()

    class Meta:
        model = Position
        fields = ["account", "exchange", "symbol"]


class InstrumentFilter(df.FilterSet):
    exchange = df.CharFilter()
    market = df.ChoiceFilter(choices=Market.choices)
    symbol = SymbolFilter()
    base = df.CharFilter(lookup_expr="iexact")
    quote = df.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Instrument
        fields = ["exchange", "market", "symbol", "base", "quote", "active"]
