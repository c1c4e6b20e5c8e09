"""Price bands as Binance enforces them, published in exchangeInfo with Binance's field names.

Spot `PERCENT_PRICE_BY_SIDE`: a LIMIT (or LIMIT_MAKER) BUY must lie within [bidMultiplierDown, bidMultiplierUp] x
the reference price, a SELL within [askMultiplierDown, askMultiplierUp] x it; else -1013 "Filter failure:
PERCENT_PRICE_BY_SIDE". USD-M `PERCENT_PRICE`: a LIMIT price above markPrice x multiplierUp is -4016 "Limit price
can't be higher than X.", below markPrice x multiplierDown -4024 "Limit price can't be lower than X.".

Reference: Binance's spot uses the weighted average price of the last `avgPriceMins` minutes; the venue uses the
book's mid now (the same on a held book, and close to it while the walk moves a few tenths of a percent an hour).
USD-M uses the mark price, which is the mid here."""
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from .refusals import VenueError, filter_failure

SPOT_BAND = {"bidMultiplierUp": Decimal("5"), "bidMultiplierDown": Decimal("0.2"),
             "askMultiplierUp": Decimal("5"), "askMultiplierDown": Decimal("0.2")}
SPOT_AVG_PRICE_MINS = 5
FUTURES_UP, FUTURES_DOWN = Decimal("1.0500"), Decimal("0.9500")


def spot_filter() -> dict:
    return {"filterType": "PERCENT_PRICE_BY_SIDE", **{k: str(v) for k, v in SPOT_BAND.items()},
            "avgPriceMins": SPOT_AVG_PRICE_MINS}


def futures_filter() -> dict:
    return {"filterType": "PERCENT_PRICE", "multiplierUp": str(FUTURES_UP), "multiplierDown": str(FUTURES_DOWN),
            "multiplierDecimal": "4"}


def check_spot(side: str, price: Decimal, reference: Decimal) -> None:
    kind = "bid" if side == "BUY" else "ask"
    low, high = reference * SPOT_BAND[f"{kind}MultiplierDown"], reference * SPOT_BAND[f"{kind}MultiplierUp"]
    if not low <= price <= high:
        raise filter_failure("PERCENT_PRICE_BY_SIDE")


def _text(value: Decimal, tick: Decimal) -> str:
    return format(value.quantize(tick.normalize()), "f")


def check_futures(price: Decimal, mark: Decimal, tick: Decimal) -> None:
    high = (mark * FUTURES_UP / tick).to_integral_value(ROUND_FLOOR) * tick
    low = (mark * FUTURES_DOWN / tick).to_integral_value(ROUND_CEILING) * tick
    if price > high:
        raise VenueError(-4016, f"Limit price can't be higher than {_text(high, tick)}.")
    if price < low:
        raise VenueError(-4024, f"Limit price can't be lower than {_text(low, tick)}.")
