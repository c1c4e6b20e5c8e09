"""Instruments the venue lists, with Binance-like filters, and their exchangeInfo rendering."""
from dataclasses import dataclass
from decimal import Decimal

from . import price_bands

SPOT = "spot"
FUTURES = "futures"
MARKETS = (SPOT, FUTURES)

D = Decimal
SPOT_MAX_NOTIONAL = Decimal("9000000")


@dataclass(frozen=True)
class Instrument:
    symbol: str
    base: str
    quote: str
    price: Decimal  # where the random walk starts
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    lot: Decimal  # typical displayed quantity per book level
    spread_ticks: int

    @property
    def max_notional(self) -> Decimal:
        """Spot NOTIONAL maxNotional: a LIMIT order worth more is refused (not applied to MARKET orders)."""
        return SPOT_MAX_NOTIONAL

    @property
    def price_precision(self) -> int:
        return max(0, -self.tick.normalize().as_tuple().exponent)

    @property
    def quantity_precision(self) -> int:
        return max(0, -self.step.normalize().as_tuple().exponent)


SPOT_INSTRUMENTS = {i.symbol: i for i in [
    Instrument("BTCUSDT", "BTC", "USDT", D("115000"), D("0.01"), D("0.00001"), D("0.00001"), D("9000"), D("100"), D("5"), D("1.5"), 1),
    Instrument("ETHUSDT", "ETH", "USDT", D("4200"), D("0.01"), D("0.0001"), D("0.0001"), D("9000"), D("2000"), D("5"), D("25"), 1),
    Instrument("XRPUSDT", "XRP", "USDT", D("2.9"), D("0.0001"), D("0.1"), D("0.1"), D("9222449"), D("500000"), D("5"), D("40000"), 1),
    Instrument("SOLUSDT", "SOL", "USDT", D("200"), D("0.01"), D("0.001"), D("0.001"), D("9222449"), D("20000"), D("5"), D("400"), 1),
    Instrument("BNBUSDT", "BNB", "USDT", D("850"), D("0.01"), D("0.001"), D("0.001"), D("9000"), D("2000"), D("5"), D("100"), 1),
]}

FUTURES_INSTRUMENTS = {i.symbol: i for i in [
    Instrument("BTCUSDT", "BTC", "USDT", D("115020"), D("0.10"), D("0.001"), D("0.001"), D("1000"), D("120"), D("100"), D("6"), 1),
    Instrument("ETHUSDT", "ETH", "USDT", D("4201"), D("0.01"), D("0.001"), D("0.001"), D("10000"), D("2000"), D("20"), D("120"), 1),
    Instrument("XRPUSDT", "XRP", "USDT", D("2.9001"), D("0.0001"), D("0.1"), D("0.1"), D("10000000"), D("1000000"), D("5"), D("150000"), 1),
    Instrument("SOLUSDT", "SOL", "USDT", D("200.02"), D("0.01"), D("0.01"), D("0.01"), D("1000000"), D("5000"), D("5"), D("2000"), 1),
    Instrument("BNBUSDT", "BNB", "USDT", D("850.1"), D("0.01"), D("0.01"), D("0.01"), D("100000"), D("2000"), D("5"), D("300"), 1),
]}

INSTRUMENTS = {SPOT: SPOT_INSTRUMENTS, FUTURES: FUTURES_INSTRUMENTS}

# Leverage brackets per futures symbol: (notional cap, max leverage, maintenance margin ratio).
BRACKETS = {
    "BTCUSDT": [(D("300000"), 125, D("0.004")), (D("800000"), 100, D("0.005")), (D("3000000"), 75, D("0.0065")),
                (D("12000000"), 50, D("0.01")), (D("70000000"), 25, D("0.02"))],
    "ETHUSDT": [(D("300000"), 125, D("0.004")), (D("800000"), 100, D("0.005")), (D("3000000"), 75, D("0.0065")),
                (D("12000000"), 50, D("0.01")), (D("50000000"), 25, D("0.02"))],
}
DEFAULT_BRACKETS = [(D("10000"), 75, D("0.005")), (D("100000"), 50, D("0.01")), (D("500000"), 25, D("0.02")),
                    (D("1000000"), 20, D("0.025")), (D("5000000"), 10, D("0.05"))]
DEFAULT_LEVERAGE = 20


def brackets_for(symbol: str) -> list[dict]:
    """Binance's bracket rows, with `cum` (maintenance amount) so maint = notional * ratio - cum."""
    rows, floor, cum, prev_ratio = [], D("0"), D("0"), D("0")
    for n, (cap, leverage, ratio) in enumerate(BRACKETS.get(symbol, DEFAULT_BRACKETS), start=1):
        cum += floor * (ratio - prev_ratio)
        rows.append({"bracket": n, "initialLeverage": leverage, "notionalCap": cap, "notionalFloor": floor,
                     "maintMarginRatio": ratio, "cum": cum})
        floor, prev_ratio = cap, ratio
    return rows


def maint_margin(symbol: str, notional: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(maintenance margin, ratio, cum) for a position of this absolute notional."""
    rows = brackets_for(symbol)
    row = next((r for r in rows if notional < r["notionalCap"]), rows[-1])
    return notional * row["maintMarginRatio"] - row["cum"], row["maintMarginRatio"], row["cum"]


def max_leverage(symbol: str) -> int:
    return brackets_for(symbol)[0]["initialLeverage"]


def _s(value: Decimal) -> str:
    return format(value, "f")


def spot_symbol_info(i: Instrument, max_num_orders: int = 200) -> dict:
    return {
        "symbol": i.symbol, "status": "TRADING", "baseAsset": i.base, "baseAssetPrecision": 8,
        "quoteAsset": i.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": False, "ocoAllowed": False, "otoAllowed": False, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False, "cancelReplaceAllowed": False, "amendAllowed": False,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": _s(i.tick), "maxPrice": "1000000.00000000", "tickSize": _s(i.tick)},
            {"filterType": "LOT_SIZE", "minQty": _s(i.min_qty), "maxQty": _s(i.max_qty), "stepSize": _s(i.step)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0", "maxQty": _s(i.market_max_qty), "stepSize": "0"},
            {"filterType": "NOTIONAL", "minNotional": _s(i.min_notional), "applyMinToMarket": True,
             "maxNotional": format(SPOT_MAX_NOTIONAL, ".8f"), "applyMaxToMarket": False, "avgPriceMins": 5},
            price_bands.spot_filter(),
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": max_num_orders},
        ],
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def futures_symbol_info(i: Instrument, max_num_orders: int = 200) -> dict:
    return {
        "symbol": i.symbol, "pair": i.symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": i.base, "quoteAsset": i.quote, "marginAsset": i.quote,
        "pricePrecision": i.price_precision, "quantityPrecision": i.quantity_precision,
        "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [],
        "settlePlan": 0, "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": _s(i.tick), "maxPrice": "4529764", "tickSize": _s(i.tick)},
            {"filterType": "LOT_SIZE", "minQty": _s(i.min_qty), "maxQty": _s(i.max_qty), "stepSize": _s(i.step)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": _s(i.min_qty), "maxQty": _s(i.market_max_qty), "stepSize": _s(i.step)},
            {"filterType": "MAX_NUM_ORDERS", "limit": max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": _s(i.min_notional)},
            price_bands.futures_filter(),
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def exchange_info(market: str, now_ms: int, rate_limits: list[dict], max_num_orders: int = 200) -> dict:
    """`rate_limits`: the limits in force, as Binance publishes its own (see ratelimit.Limits.published);
    `max_num_orders`: MAX_NUM_ORDERS in force (200, as Binance; lowered through the control API in tests)."""
    if market == SPOT:
        return {"timezone": "UTC", "serverTime": now_ms, "rateLimits": rate_limits, "exchangeFilters": [],
                "symbols": [spot_symbol_info(i, max_num_orders) for i in SPOT_INSTRUMENTS.values()]}
    return {"timezone": "UTC", "serverTime": now_ms, "futuresType": "U_MARGINED", "rateLimits": rate_limits,
            "exchangeFilters": [], "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [futures_symbol_info(i, max_num_orders) for i in FUTURES_INSTRUMENTS.values()]}
