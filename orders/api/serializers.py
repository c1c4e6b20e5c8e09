"""Input serializers (shape only; the services own the rules) and output serializers."""
from __future__ import annotations

import functools
from datetime import UTC, datetime

from django.conf import settings
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from accounts.models import Account, Balance, Market
from exchanges.models import Instrument
from orders.api.fields import Money, TimeOrDuration
from orders.api.schema import ErrorDetailSerializer
from orders.models import Fill, FundingPayment, Order, OrderEvent, OrderType, Side, TimeInForce

# ---- input ----------------------------------------------------------------------------------------


class OrderPlaceInput(serializers.Serializer):
    account = serializers.SlugField(max_length=64, help_text="account name, e.g. main")
    symbol = serializers.CharField(max_length=64, help_text="exchange-native (BTCUSDT); BTC/USDT is accepted")
    side = serializers.ChoiceField(choices=Side.choices)
    quantity = Money()
    order_type = serializers.ChoiceField(choices=OrderType.choices, default=OrderType.LIMIT)
    price = Money(required=False, allow_null=True,
                  help_text="required for LIMIT, STOP_LIMIT and TAKE_PROFIT_LIMIT orders")
    stop_price = Money(required=False, allow_null=True, default=None,
                       help_text="required for STOP_MARKET, STOP_LIMIT, TAKE_PROFIT_MARKET and TAKE_PROFIT_LIMIT "
                                 "(spot): the last price that triggers the order")
    market = serializers.ChoiceField(choices=Market.choices, default=Market.SPOT)
    exchange = serializers.CharField(max_length=32, required=False, allow_blank=True, default="",
                                     help_text="defaults to the account's exchange")
    client_order_id = serializers.CharField(max_length=64, required=False, allow_null=True, default=None,
                                            help_text="your id; placing it again returns the existing order")
    time_in_force = serializers.ChoiceField(choices=TimeInForce.choices, required=False, allow_blank=True, default="")
    reduce_only = serializers.BooleanField(default=False)
    post_only = serializers.BooleanField(default=False)
    leverage = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=125)


class OrderCancelAllInput(serializers.Serializer):
    account = serializers.SlugField(max_length=64, required=False, allow_blank=True, default="")
    symbol = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if not attrs["account"] and not attrs["symbol"]:
            raise serializers.ValidationError({"account": "Give an account, a symbol, or both."})
        return attrs


class OrderAmendInput(serializers.Serializer):
    price = Money(required=False, allow_null=True, default=None, help_text="the new limit price (USD-M only)")
    quantity = Money(required=False, allow_null=True, default=None,
                     help_text="the new quantity, above what already filled (spot: a decrease only)")


class OrderAmendResultSerializer(serializers.Serializer):
    order = serializers.SerializerMethodField()
    amend_pending = serializers.BooleanField(help_text="no venue answer within the wait: the order's events tell the "
                                                       "outcome later (AMENDED or AMEND_REFUSED)")

    def get_order(self, value) -> dict:
        return OrderSerializer(value["order"]).data


class OrderBatchInput(serializers.Serializer):
    """The body of POST /orders/batch/ as documented; each order is read on its own (views.OrderViewSet.batch)."""
    orders = OrderPlaceInput(many=True, help_text="1 to 50 orders, each as POST /orders/ takes it")


class OrderCancelBatchInput(serializers.Serializer):
    order_ids = serializers.ListField(child=serializers.CharField(allow_blank=True), allow_empty=True,
                                      help_text="1 to 50 order ids")


# ---- output ---------------------------------------------------------------------------------------


class OrderSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.name")
    quantity = Money()
    price = Money(allow_null=True)
    stop_price = Money(allow_null=True)
    filled_quantity = Money()
    remaining_quantity = Money()
    average_price = Money(allow_null=True)
    cumulative_quote = Money()
    cumulative_fee = Money()

    class Meta:
        model = Order
        fields = ["id", "client_order_id", "exchange_order_id", "account", "exchange", "market", "symbol", "side",
                  "order_type", "time_in_force", "reduce_only", "post_only", "leverage", "quantity", "price",
                  "stop_price", "triggered_at", "filled_quantity", "remaining_quantity", "average_price", "cumulative_quote", "cumulative_fee",
                  "fee_asset", "status", "reason", "version", "created_at", "updated_at", "submitted_at"]
        read_only_fields = fields


# The order list renders `values()` rows instead of model instances: DRF's per-field attribute lookup cost
# more than the query itself at 100 orders a page. Same fields, same renderers, so the same JSON and schema.
ORDER_ROW_LOOKUPS = {"account": "account__name"}


def order_row_columns() -> list[str]:
    """The `values()` columns order_rows reads (remaining_quantity is derived, as the model's property is)."""
    return [ORDER_ROW_LOOKUPS.get(name, name) for name in OrderSerializer.Meta.fields if name != "remaining_quantity"]


def _utc_iso(value: datetime) -> str:
    """DateTimeField's rendering when the time zone is UTC, without its per-value time-zone lookup."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@functools.cache
def _order_renderers() -> tuple:
    fields = OrderSerializer().fields
    utc = settings.TIME_ZONE == "UTC" and api_settings.DATETIME_FORMAT == ISO_8601
    return tuple((name, _utc_iso if utc and isinstance(fields[name], serializers.DateTimeField)
                  else fields[name].to_representation) for name in OrderSerializer.Meta.fields)


def order_rows(rows) -> list[dict]:
    """What OrderSerializer(many=True) renders for these orders, from rows of `values(*order_row_columns())`."""
    renderers = _order_renderers()
    out = []
    for row in rows:
        row["remaining_quantity"] = row["quantity"] - row["filled_quantity"]
        for name, lookup in ORDER_ROW_LOOKUPS.items():
            row[name] = row[lookup]
        # As Serializer.to_representation: None stays None, every other value goes through its field.
        out.append({name: None if row[name] is None else render(row[name]) for name, render in renderers})
    return out


class FillSerializer(serializers.ModelSerializer):
    order_id = serializers.CharField()
    account = serializers.CharField(source="account.name")
    symbol = serializers.CharField(source="order.symbol")
    side = serializers.CharField(source="order.side")
    price = Money()
    quantity = Money()
    fee = Money()

    class Meta:
        model = Fill
        fields = ["id", "order_id", "account", "market", "symbol", "side", "trade_id", "price", "quantity", "fee",
                  "fee_asset", "is_maker", "executed_at"]
        read_only_fields = fields


class FundingPaymentSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.name")
    amount = Money()

    class Meta:
        model = FundingPayment
        fields = ["id", "account", "symbol", "asset", "amount", "paid_at", "venue_id", "source"]
        read_only_fields = fields


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["id", "sequence", "kind", "from_status", "to_status", "source", "payload", "at"]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    fills = FillSerializer(many=True)
    events = OrderEventSerializer(many=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "fills", "events"]
        read_only_fields = fields


class CancelAllResultSerializer(serializers.Serializer):
    orders = OrderSerializer(many=True, help_text="the orders now pending cancel")


class BatchItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="the order's position in the request, from 0")
    status = serializers.IntegerField(help_text="the HTTP status the single call would have answered (201/200, or "
                                                "400, 404, 409...)")
    order = OrderSerializer(required=False, help_text="when placed or cancelled")
    error = ErrorDetailSerializer(required=False, help_text="when refused: the single call's error")


class BatchResultSerializer(serializers.Serializer):
    results = BatchItemSerializer(many=True, help_text="one per order, in the request's order")
    accepted = serializers.IntegerField()
    refused = serializers.IntegerField()


class BalanceSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.name")
    free = Money()
    locked = Money()
    total = Money()

    class Meta:
        model = Balance
        fields = ["account", "market", "asset", "free", "locked", "total", "updated_at"]
        read_only_fields = fields


class PortfolioQuerySerializer(serializers.Serializer):
    account = serializers.CharField(required=False, default="", allow_blank=True, max_length=64,
                                    help_text="account name (default: every account you may see); one you may not "
                                              "see is 404")
    exchange = serializers.CharField(required=False, default="", allow_blank=True, max_length=32)


class PositionQuerySerializer(PortfolioQuerySerializer):
    symbol = serializers.CharField(required=False, default="", allow_blank=True, max_length=64,
                                   help_text="BTCUSDT or BTC/USDT, any case")


class PnlQuerySerializer(PortfolioQuerySerializer):
    since = TimeOrDuration(required=False, default=None, help_text="ISO 8601 (UTC without an offset) or a duration "
                           "back from now (24h, 7d); default: the start of today, UTC")
    until = TimeOrDuration(required=False, default=None, help_text="as since; default: now")
    group_by = serializers.CharField(required=False, default="", allow_blank=True, max_length=16,
                                     help_text="day (UTC days) or symbol; default: the total only")


def _other_fees() -> serializers.DictField:
    return serializers.DictField(child=Money(), help_text="fees charged in any other asset, as charged: asset -> amount")


class PositionSerializer(serializers.Serializer):
    """orders.selectors_portfolio.PositionRow: the ledger's figures beside the venue's."""

    account = serializers.CharField()
    exchange = serializers.CharField()
    market = serializers.CharField()
    symbol = serializers.CharField()
    source = serializers.CharField(help_text="ledger: side..pnl_percentage computed from the ledger's fills; venue: "
                                             "the venue's figures (a position the ledger does not hold)")
    side = serializers.CharField()
    size = Money()
    entry_price = Money()
    mark_price = Money(allow_null=True, help_text="the venue's mark; else the latest traded price")
    notional = Money(allow_null=True, help_text="size × mark price")
    unrealized_pnl = Money(allow_null=True)
    pnl_percentage = Money(allow_null=True, help_text="unrealized PnL as % of the initial margin, else of the entry "
                                                      "notional; null when neither is known")
    leverage = serializers.IntegerField(help_text="the venue's")
    margin = Money(help_text="the venue's")
    liquidation_price = Money(allow_null=True, help_text="the venue's")
    realized_pnl = Money(help_text="quote, before fees and funding")
    fees = Money(help_text="quote; fees in base or quote at the fill's price")
    other_fees = _other_fees()
    funding = Money(help_text="quote, received positive")
    venue_side = serializers.CharField(allow_null=True, help_text="the venue's last report; null when it has none")
    venue_size = Money(allow_null=True)
    venue_entry_price = Money(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class HoldingSerializer(serializers.Serializer):
    """orders.selectors_pnl.Holding: a spot asset held, at its average cost."""

    account = serializers.CharField()
    exchange = serializers.CharField()
    asset = serializers.CharField()
    quantity = Money()
    average_cost = Money(help_text="in quote_asset")
    quote_asset = serializers.CharField()
    realized_pnl = Money()
    fees = Money()
    other_fees = _other_fees()
    last_price = Money(allow_null=True)
    unrealized_pnl = Money(allow_null=True)
    pnl_percentage = Money(allow_null=True)


class PositionPageSerializer(serializers.Serializer):
    """One page: every open position and holding of the accounts asked about (next and previous are always null;
    they stay so that readers of the paginated list go on working)."""

    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = PositionSerializer(many=True)
    holdings = HoldingSerializer(many=True)


class PnlRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="'' for the total, YYYY-MM-DD for a UTC day, the symbol for a symbol")
    realized_pnl = Money(help_text="quote, before fees and funding")
    fees = Money()
    other_fees = _other_fees()
    funding = Money(help_text="received positive")
    net_pnl = Money(help_text="realized - fees + funding")
    unrealized_pnl = Money(help_text="the open positions' now (the total and per-symbol rows; 0 per day)")
    volume = Money(help_text="quote notional traded")
    trade_count = serializers.IntegerField()


class PnlSerializer(serializers.Serializer):
    """orders.selectors_portfolio.PnlRead."""

    accounts = serializers.ListField(child=serializers.CharField(), help_text="the accounts summed")
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    group_by = serializers.CharField()
    rows = PnlRowSerializer(many=True, source="report.rows")
    total = PnlRowSerializer(source="report.total")


class AccountSerializer(serializers.ModelSerializer):
    role = serializers.CharField(allow_null=True, help_text="the caller's role (viewer, trader); null for staff")
    credentials_set = serializers.BooleanField()

    class Meta:
        model = Account
        fields = ["name", "exchange", "sandbox", "enabled", "disabled_reason", "role", "credentials_set", "created_at"]
        read_only_fields = fields


class InstrumentSerializer(serializers.ModelSerializer):
    tick_size = Money()
    step_size = Money()
    min_quantity = Money()
    min_notional = Money()
    contract_size = Money()

    class Meta:
        model = Instrument
        fields = ["exchange", "market", "symbol", "ccxt_symbol", "base", "quote", "tick_size", "step_size",
                  "min_quantity", "min_notional", "contract_size", "active", "updated_at"]
        read_only_fields = fields


class PriceSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    market = serializers.CharField()
    symbol = serializers.CharField()
    bid_price = Money(allow_null=True)
    bid_quantity = Money(allow_null=True)
    ask_price = Money(allow_null=True)
    ask_quantity = Money(allow_null=True)
    last_price = Money(allow_null=True)
    timestamp_ms = serializers.IntegerField(default=0)


class CandleQuerySerializer(serializers.Serializer):
    exchange = serializers.CharField(required=False, default="binance", help_text="ccxt exchange id")
    market = serializers.CharField(required=False, default="spot", help_text="spot or futures")
    symbol = serializers.CharField(help_text="BTCUSDT (BTC/USDT, btcusdt accepted)")
    interval = serializers.CharField(required=False, default="1m",
                                     help_text="1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M")
    since = serializers.IntegerField(required=False, min_value=0, max_value=2**53,
                                     help_text="first open time wanted, ms since 1970 (UTC); default: the latest")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, help_text="default 500")


class CandleSerializer(serializers.Serializer):
    open_time = serializers.IntegerField(help_text="ms since 1970, UTC")
    close_time = serializers.IntegerField(help_text="ms since 1970, UTC (the window's last millisecond)")
    open = Money()
    high = Money()
    low = Money()
    close = Money()
    volume = Money(help_text="in the base asset")


class AmountSerializer(serializers.Serializer):
    asset = serializers.CharField()
    amount = Money()


class SymbolNotionalSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    notional = Money()


class AccountPnlSerializer(serializers.Serializer):
    account = serializers.CharField(source="account_name")
    unrealized_pnl = Money()


class SummarySerializer(serializers.Serializer):
    open_orders = serializers.IntegerField()
    filled_notional_today = SymbolNotionalSerializer(many=True, help_text="Σ price × quantity of today's fills (UTC)")
    fees_today = AmountSerializer(many=True)
    balance_exposure = AmountSerializer(many=True, help_text="free + locked per asset over the caller's accounts")
    position_exposure = SymbolNotionalSerializer(many=True, help_text="signed size × mark price per symbol")
    unrealized_pnl = AccountPnlSerializer(many=True)


class TradingStateInput(serializers.Serializer):
    account = serializers.SlugField(max_length=64, required=False, allow_blank=True, default="",
                                    help_text="the account to set; empty: the global state")
    state = serializers.CharField(max_length=16, help_text="ACTIVE, REDUCING or HALTED")
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                   help_text="why; required for REDUCING and HALTED")


class TradingStateSerializer(serializers.Serializer):
    account = serializers.CharField(help_text="empty for the global state")
    state = serializers.CharField(help_text="ACTIVE, REDUCING or HALTED: this account's own (or the global) setting")
    reason = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True, help_text="when it last changed; null: never set")
    effective_state = serializers.CharField(source="effective.state",
                                            help_text="what governs new orders: the stricter of the account's own "
                                                      "state and the global one")
    effective_scope = serializers.CharField(source="effective.scope", help_text="account or global: whose it is")
