from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Order(_message.Message):
    __slots__ = ("order_id", "exchange_order_id", "symbol", "side", "order_type", "quantity", "price", "filled_quantity", "status", "exchange", "market", "account_id", "created_at", "updated_at", "client_order_id", "time_in_force", "reduce_only", "post_only", "leverage", "average_price", "cumulative_fee", "fee_asset", "reason", "version", "created_at_ms", "updated_at_ms", "quantity_decimal", "price_decimal", "filled_quantity_decimal", "average_price_decimal", "stop_price", "stop_price_decimal", "triggered_at_ms")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    REDUCE_ONLY_FIELD_NUMBER: _ClassVar[int]
    POST_ONLY_FIELD_NUMBER: _ClassVar[int]
    LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_FEE_FIELD_NUMBER: _ClassVar[int]
    FEE_ASSET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUANTITY_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    exchange_order_id: str
    symbol: str
    side: str
    order_type: str
    quantity: float
    price: float
    filled_quantity: float
    status: str
    exchange: str
    market: str
    account_id: str
    created_at: int
    updated_at: int
    client_order_id: str
    time_in_force: str
    reduce_only: bool
    post_only: bool
    leverage: int
    average_price: float
    cumulative_fee: float
    fee_asset: str
    reason: str
    version: int
    created_at_ms: int
    updated_at_ms: int
    quantity_decimal: str
    price_decimal: str
    filled_quantity_decimal: str
    average_price_decimal: str
    stop_price: float
    stop_price_decimal: str
    triggered_at_ms: int
    def __init__(self, order_id: _Optional[str] = ..., exchange_order_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[str] = ..., order_type: _Optional[str] = ..., quantity: _Optional[float] = ..., price: _Optional[float] = ..., filled_quantity: _Optional[float] = ..., status: _Optional[str] = ..., exchange: _Optional[str] = ..., market: _Optional[str] = ..., account_id: _Optional[str] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., client_order_id: _Optional[str] = ..., time_in_force: _Optional[str] = ..., reduce_only: _Optional[bool] = ..., post_only: _Optional[bool] = ..., leverage: _Optional[int] = ..., average_price: _Optional[float] = ..., cumulative_fee: _Optional[float] = ..., fee_asset: _Optional[str] = ..., reason: _Optional[str] = ..., version: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., quantity_decimal: _Optional[str] = ..., price_decimal: _Optional[str] = ..., filled_quantity_decimal: _Optional[str] = ..., average_price_decimal: _Optional[str] = ..., stop_price: _Optional[float] = ..., stop_price_decimal: _Optional[str] = ..., triggered_at_ms: _Optional[int] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("symbol", "side", "order_type", "quantity", "price", "exchange", "market", "account_id", "leverage", "client_order_id", "time_in_force", "reduce_only", "post_only", "quantity_decimal", "price_decimal", "stop_price", "stop_price_decimal")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    REDUCE_ONLY_FIELD_NUMBER: _ClassVar[int]
    POST_ONLY_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    side: str
    order_type: str
    quantity: float
    price: float
    exchange: str
    market: str
    account_id: str
    leverage: int
    client_order_id: str
    time_in_force: str
    reduce_only: bool
    post_only: bool
    quantity_decimal: str
    price_decimal: str
    stop_price: float
    stop_price_decimal: str
    def __init__(self, symbol: _Optional[str] = ..., side: _Optional[str] = ..., order_type: _Optional[str] = ..., quantity: _Optional[float] = ..., price: _Optional[float] = ..., exchange: _Optional[str] = ..., market: _Optional[str] = ..., account_id: _Optional[str] = ..., leverage: _Optional[int] = ..., client_order_id: _Optional[str] = ..., time_in_force: _Optional[str] = ..., reduce_only: _Optional[bool] = ..., post_only: _Optional[bool] = ..., quantity_decimal: _Optional[str] = ..., price_decimal: _Optional[str] = ..., stop_price: _Optional[float] = ..., stop_price_decimal: _Optional[str] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order_id", "exchange_order_id", "status", "created_at", "order", "reason", "created_at_ms")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    exchange_order_id: str
    status: str
    created_at: int
    order: Order
    reason: str
    created_at_ms: int
    def __init__(self, order_id: _Optional[str] = ..., exchange_order_id: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[int] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., reason: _Optional[str] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order_id", "status", "cancelled_at", "order", "cancelled_at_ms")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    status: str
    cancelled_at: int
    order: Order
    cancelled_at_ms: int
    def __init__(self, order_id: _Optional[str] = ..., status: _Optional[str] = ..., cancelled_at: _Optional[int] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., cancelled_at_ms: _Optional[int] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("status", "symbol", "exchange", "account_id", "limit", "page_token", "market")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    status: str
    symbol: str
    exchange: str
    account_id: str
    limit: int
    page_token: str
    market: str
    def __init__(self, status: _Optional[str] = ..., symbol: _Optional[str] = ..., exchange: _Optional[str] = ..., account_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ..., market: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("asset", "free", "locked", "total", "free_decimal", "locked_decimal", "updated_at_ms")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    FREE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    LOCKED_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    asset: str
    free: float
    locked: float
    total: float
    free_decimal: str
    locked_decimal: str
    updated_at_ms: int
    def __init__(self, asset: _Optional[str] = ..., free: _Optional[float] = ..., locked: _Optional[float] = ..., total: _Optional[float] = ..., free_decimal: _Optional[str] = ..., locked_decimal: _Optional[str] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class GetBalanceRequest(_message.Message):
    __slots__ = ("exchange", "market", "account_id")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    market: str
    account_id: str
    def __init__(self, exchange: _Optional[str] = ..., market: _Optional[str] = ..., account_id: _Optional[str] = ...) -> None: ...

class GetBalanceResponse(_message.Message):
    __slots__ = ("balances", "account_id", "market")
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    balances: _containers.RepeatedCompositeFieldContainer[Balance]
    account_id: str
    market: str
    def __init__(self, balances: _Optional[_Iterable[_Union[Balance, _Mapping]]] = ..., account_id: _Optional[str] = ..., market: _Optional[str] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("symbol", "side", "size", "entry_price", "mark_price", "unrealized_pnl", "pnl_percentage", "leverage", "margin", "liquidation_price", "account_id", "updated_at_ms", "source", "realized_pnl", "fees", "funding", "other_fees", "venue_side", "venue_size", "venue_entry_price", "market", "exchange", "size_decimal", "entry_price_decimal", "mark_price_decimal", "unrealized_pnl_decimal", "pnl_percentage_decimal", "realized_pnl_decimal", "fees_decimal", "funding_decimal", "venue_size_decimal", "venue_entry_price_decimal")
    class OtherFeesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARK_PRICE_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    PNL_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    MARGIN_FIELD_NUMBER: _ClassVar[int]
    LIQUIDATION_PRICE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    FUNDING_FIELD_NUMBER: _ClassVar[int]
    OTHER_FEES_FIELD_NUMBER: _ClassVar[int]
    VENUE_SIDE_FIELD_NUMBER: _ClassVar[int]
    VENUE_SIZE_FIELD_NUMBER: _ClassVar[int]
    VENUE_ENTRY_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SIZE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    ENTRY_PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    MARK_PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    PNL_PERCENTAGE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    FEES_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    FUNDING_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    VENUE_SIZE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    VENUE_ENTRY_PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    side: str
    size: float
    entry_price: float
    mark_price: float
    unrealized_pnl: float
    pnl_percentage: float
    leverage: int
    margin: float
    liquidation_price: float
    account_id: str
    updated_at_ms: int
    source: str
    realized_pnl: float
    fees: float
    funding: float
    other_fees: _containers.ScalarMap[str, str]
    venue_side: str
    venue_size: float
    venue_entry_price: float
    market: str
    exchange: str
    size_decimal: str
    entry_price_decimal: str
    mark_price_decimal: str
    unrealized_pnl_decimal: str
    pnl_percentage_decimal: str
    realized_pnl_decimal: str
    fees_decimal: str
    funding_decimal: str
    venue_size_decimal: str
    venue_entry_price_decimal: str
    def __init__(self, symbol: _Optional[str] = ..., side: _Optional[str] = ..., size: _Optional[float] = ..., entry_price: _Optional[float] = ..., mark_price: _Optional[float] = ..., unrealized_pnl: _Optional[float] = ..., pnl_percentage: _Optional[float] = ..., leverage: _Optional[int] = ..., margin: _Optional[float] = ..., liquidation_price: _Optional[float] = ..., account_id: _Optional[str] = ..., updated_at_ms: _Optional[int] = ..., source: _Optional[str] = ..., realized_pnl: _Optional[float] = ..., fees: _Optional[float] = ..., funding: _Optional[float] = ..., other_fees: _Optional[_Mapping[str, str]] = ..., venue_side: _Optional[str] = ..., venue_size: _Optional[float] = ..., venue_entry_price: _Optional[float] = ..., market: _Optional[str] = ..., exchange: _Optional[str] = ..., size_decimal: _Optional[str] = ..., entry_price_decimal: _Optional[str] = ..., mark_price_decimal: _Optional[str] = ..., unrealized_pnl_decimal: _Optional[str] = ..., pnl_percentage_decimal: _Optional[str] = ..., realized_pnl_decimal: _Optional[str] = ..., fees_decimal: _Optional[str] = ..., funding_decimal: _Optional[str] = ..., venue_size_decimal: _Optional[str] = ..., venue_entry_price_decimal: _Optional[str] = ...) -> None: ...

class GetPositionsRequest(_message.Message):
    __slots__ = ("exchange", "account_id", "symbol")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    account_id: str
    symbol: str
    def __init__(self, exchange: _Optional[str] = ..., account_id: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class GetPositionsResponse(_message.Message):
    __slots__ = ("positions", "holdings")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    HOLDINGS_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[Position]
    holdings: _containers.RepeatedCompositeFieldContainer[Holding]
    def __init__(self, positions: _Optional[_Iterable[_Union[Position, _Mapping]]] = ..., holdings: _Optional[_Iterable[_Union[Holding, _Mapping]]] = ...) -> None: ...

class Holding(_message.Message):
    __slots__ = ("account_id", "exchange", "asset", "quote_asset", "quantity", "average_cost", "realized_pnl", "fees", "last_price", "unrealized_pnl", "pnl_percentage", "other_fees", "quantity_decimal", "average_cost_decimal", "realized_pnl_decimal", "fees_decimal", "last_price_decimal", "unrealized_pnl_decimal", "pnl_percentage_decimal")
    class OtherFeesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ASSET_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_COST_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    LAST_PRICE_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    PNL_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    OTHER_FEES_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_COST_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    FEES_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    LAST_PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    PNL_PERCENTAGE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    exchange: str
    asset: str
    quote_asset: str
    quantity: float
    average_cost: float
    realized_pnl: float
    fees: float
    last_price: float
    unrealized_pnl: float
    pnl_percentage: float
    other_fees: _containers.ScalarMap[str, str]
    quantity_decimal: str
    average_cost_decimal: str
    realized_pnl_decimal: str
    fees_decimal: str
    last_price_decimal: str
    unrealized_pnl_decimal: str
    pnl_percentage_decimal: str
    def __init__(self, account_id: _Optional[str] = ..., exchange: _Optional[str] = ..., asset: _Optional[str] = ..., quote_asset: _Optional[str] = ..., quantity: _Optional[float] = ..., average_cost: _Optional[float] = ..., realized_pnl: _Optional[float] = ..., fees: _Optional[float] = ..., last_price: _Optional[float] = ..., unrealized_pnl: _Optional[float] = ..., pnl_percentage: _Optional[float] = ..., other_fees: _Optional[_Mapping[str, str]] = ..., quantity_decimal: _Optional[str] = ..., average_cost_decimal: _Optional[str] = ..., realized_pnl_decimal: _Optional[str] = ..., fees_decimal: _Optional[str] = ..., last_price_decimal: _Optional[str] = ..., unrealized_pnl_decimal: _Optional[str] = ..., pnl_percentage_decimal: _Optional[str] = ...) -> None: ...

class StreamPricesRequest(_message.Message):
    __slots__ = ("symbols", "exchange", "market")
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    exchange: str
    market: str
    def __init__(self, symbols: _Optional[_Iterable[str]] = ..., exchange: _Optional[str] = ..., market: _Optional[str] = ...) -> None: ...

class PriceUpdate(_message.Message):
    __slots__ = ("exchange", "symbol", "bid_price", "bid_quantity", "ask_price", "ask_quantity", "last_price", "timestamp", "market", "timestamp_ms")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ASK_PRICE_FIELD_NUMBER: _ClassVar[int]
    ASK_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LAST_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    symbol: str
    bid_price: float
    bid_quantity: float
    ask_price: float
    ask_quantity: float
    last_price: float
    timestamp: int
    market: str
    timestamp_ms: int
    def __init__(self, exchange: _Optional[str] = ..., symbol: _Optional[str] = ..., bid_price: _Optional[float] = ..., bid_quantity: _Optional[float] = ..., ask_price: _Optional[float] = ..., ask_quantity: _Optional[float] = ..., last_price: _Optional[float] = ..., timestamp: _Optional[int] = ..., market: _Optional[str] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...

class StreamOrdersRequest(_message.Message):
    __slots__ = ("account_id", "since_sequence")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    since_sequence: int
    def __init__(self, account_id: _Optional[str] = ..., since_sequence: _Optional[int] = ...) -> None: ...

class OrderUpdate(_message.Message):
    __slots__ = ("order", "update_type", "sequence", "event_kind", "at_ms")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_KIND_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    order: Order
    update_type: str
    sequence: int
    event_kind: str
    at_ms: int
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., update_type: _Optional[str] = ..., sequence: _Optional[int] = ..., event_kind: _Optional[str] = ..., at_ms: _Optional[int] = ...) -> None: ...

class GetCandlesRequest(_message.Message):
    __slots__ = ("exchange", "market", "symbol", "interval", "since_ms", "limit")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    market: str
    symbol: str
    interval: str
    since_ms: int
    limit: int
    def __init__(self, exchange: _Optional[str] = ..., market: _Optional[str] = ..., symbol: _Optional[str] = ..., interval: _Optional[str] = ..., since_ms: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class Candle(_message.Message):
    __slots__ = ("open_time_ms", "close_time_ms", "open", "high", "low", "close", "volume", "open_decimal", "high_decimal", "low_decimal", "close_decimal", "volume_decimal")
    OPEN_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    OPEN_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    HIGH_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    LOW_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    CLOSE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    open_time_ms: int
    close_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    open_decimal: str
    high_decimal: str
    low_decimal: str
    close_decimal: str
    volume_decimal: str
    def __init__(self, open_time_ms: _Optional[int] = ..., close_time_ms: _Optional[int] = ..., open: _Optional[float] = ..., high: _Optional[float] = ..., low: _Optional[float] = ..., close: _Optional[float] = ..., volume: _Optional[float] = ..., open_decimal: _Optional[str] = ..., high_decimal: _Optional[str] = ..., low_decimal: _Optional[str] = ..., close_decimal: _Optional[str] = ..., volume_decimal: _Optional[str] = ...) -> None: ...

class GetCandlesResponse(_message.Message):
    __slots__ = ("candles",)
    CANDLES_FIELD_NUMBER: _ClassVar[int]
    candles: _containers.RepeatedCompositeFieldContainer[Candle]
    def __init__(self, candles: _Optional[_Iterable[_Union[Candle, _Mapping]]] = ...) -> None: ...

class GetPnLRequest(_message.Message):
    __slots__ = ("exchange", "account_id", "since_ms", "until_ms", "group_by")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    account_id: str
    since_ms: int
    until_ms: int
    group_by: str
    def __init__(self, exchange: _Optional[str] = ..., account_id: _Optional[str] = ..., since_ms: _Optional[int] = ..., until_ms: _Optional[int] = ..., group_by: _Optional[str] = ...) -> None: ...

class PnLRow(_message.Message):
    __slots__ = ("key", "realized_pnl", "fees", "funding", "net_pnl", "unrealized_pnl", "volume", "trade_count", "other_fees", "realized_pnl_decimal", "fees_decimal", "funding_decimal", "net_pnl_decimal", "unrealized_pnl_decimal", "volume_decimal")
    class OtherFeesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KEY_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    FUNDING_FIELD_NUMBER: _ClassVar[int]
    NET_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OTHER_FEES_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    FEES_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    FUNDING_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    NET_PNL_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    key: str
    realized_pnl: float
    fees: float
    funding: float
    net_pnl: float
    unrealized_pnl: float
    volume: float
    trade_count: int
    other_fees: _containers.ScalarMap[str, str]
    realized_pnl_decimal: str
    fees_decimal: str
    funding_decimal: str
    net_pnl_decimal: str
    unrealized_pnl_decimal: str
    volume_decimal: str
    def __init__(self, key: _Optional[str] = ..., realized_pnl: _Optional[float] = ..., fees: _Optional[float] = ..., funding: _Optional[float] = ..., net_pnl: _Optional[float] = ..., unrealized_pnl: _Optional[float] = ..., volume: _Optional[float] = ..., trade_count: _Optional[int] = ..., other_fees: _Optional[_Mapping[str, str]] = ..., realized_pnl_decimal: _Optional[str] = ..., fees_decimal: _Optional[str] = ..., funding_decimal: _Optional[str] = ..., net_pnl_decimal: _Optional[str] = ..., unrealized_pnl_decimal: _Optional[str] = ..., volume_decimal: _Optional[str] = ...) -> None: ...

class GetPnLResponse(_message.Message):
    __slots__ = ("rows", "total", "since_ms", "until_ms", "group_by", "account_ids")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[PnLRow]
    total: PnLRow
    since_ms: int
    until_ms: int
    group_by: str
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, rows: _Optional[_Iterable[_Union[PnLRow, _Mapping]]] = ..., total: _Optional[_Union[PnLRow, _Mapping]] = ..., since_ms: _Optional[int] = ..., until_ms: _Optional[int] = ..., group_by: _Optional[str] = ..., account_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class PlaceOrdersRequest(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[PlaceOrderRequest]
    def __init__(self, orders: _Optional[_Iterable[_Union[PlaceOrderRequest, _Mapping]]] = ...) -> None: ...

class OrderResult(_message.Message):
    __slots__ = ("index", "ok", "order", "error_code", "error_message", "error_field")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_FIELD_NUMBER: _ClassVar[int]
    index: int
    ok: bool
    order: Order
    error_code: str
    error_message: str
    error_field: str
    def __init__(self, index: _Optional[int] = ..., ok: _Optional[bool] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., error_field: _Optional[str] = ...) -> None: ...

class PlaceOrdersResponse(_message.Message):
    __slots__ = ("results", "accepted", "refused")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[OrderResult]
    accepted: int
    refused: int
    def __init__(self, results: _Optional[_Iterable[_Union[OrderResult, _Mapping]]] = ..., accepted: _Optional[int] = ..., refused: _Optional[int] = ...) -> None: ...

class CancelOrdersRequest(_message.Message):
    __slots__ = ("order_ids",)
    ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    order_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, order_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CancelOrdersResponse(_message.Message):
    __slots__ = ("results", "accepted", "refused")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[OrderResult]
    accepted: int
    refused: int
    def __init__(self, results: _Optional[_Iterable[_Union[OrderResult, _Mapping]]] = ..., accepted: _Optional[int] = ..., refused: _Optional[int] = ...) -> None: ...

class CancelAllOrdersRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "exchange")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    exchange: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., exchange: _Optional[str] = ...) -> None: ...

class CancelAllOrdersResponse(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ...) -> None: ...

class AmendOrderRequest(_message.Message):
    __slots__ = ("order_id", "price", "quantity", "price_decimal", "quantity_decimal")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_DECIMAL_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    price: float
    quantity: float
    price_decimal: str
    quantity_decimal: str
    def __init__(self, order_id: _Optional[str] = ..., price: _Optional[float] = ..., quantity: _Optional[float] = ..., price_decimal: _Optional[str] = ..., quantity_decimal: _Optional[str] = ...) -> None: ...

class AmendOrderResponse(_message.Message):
    __slots__ = ("order", "amend_pending")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    AMEND_PENDING_FIELD_NUMBER: _ClassVar[int]
    order: Order
    amend_pending: bool
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., amend_pending: _Optional[bool] = ...) -> None: ...
