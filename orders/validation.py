"""Validation of an order request: its own fields first (no database), then against the instrument catalog.

Every refusal is an `InvalidInput` naming the field and the rule, with the numbers involved."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal, overload

from accounts.models import Account, Market
from exchanges.models import Instrument
from infra.errors import InvalidInput, echo
from orders.models import CONDITIONAL_TYPES, PRICED_TYPES, OrderType, Side, TimeInForce
from orders.statements import ComposedRead
from venues.symbols import symbol_normalize

MAX_LEVERAGE = 125
CLIENT_ORDER_ID_MAX = 64
KNOWN_SYMBOLS_SHOWN = 30
MAX_AMOUNT = 10**20  # numeric(38, 18) holds 20 integer digits
MAX_DECIMALS = 18


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal | None
    market: str
    client_order_id: str | None
    time_in_force: str
    reduce_only: bool
    post_only: bool
    leverage: int | None
    stop_price: Decimal | None = None  # conditional types only


def reference_price(req: OrderRequest, last: Decimal | None) -> Decimal | None:
    """The price an order's value is weighed at: its limit price, else its stop price (a conditional market order
    trades about there), else the last price."""
    return req.price if req.price is not None else req.stop_price if req.stop_price is not None else last


def num(value: Decimal) -> str:
    """A decimal as people write it: 100, 0.001 (never 1E+2 or 0.00100000)."""
    return format(value.normalize(), "f")


# An amount written as text: ASCII digits with at most one point and an optional sign. Decimal() alone would also
# take other scripts' digits ("١"), underscores ("0.00_1") and exponents. NaN/Infinity are read so that the
# finite rule can name them.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+|inf|infinity|nan)", re.ASCII | re.IGNORECASE)
DECIMAL_TEXT_RULE = "must be a decimal number written with ASCII digits and at most one point (e.g. 0.001)"


def decimal_from_text(text: str) -> Decimal | None:
    """The one reading of an exact decimal string (REST amounts, gRPC *_decimal fields, services given text);
    None when the text is not one."""
    text = text.strip()
    return Decimal(text) if _DECIMAL_TEXT.fullmatch(text) else None


@overload
def decimal_clean(value, *, field: str, allow_none: Literal[False] = False) -> Decimal: ...


@overload
def decimal_clean(value, *, field: str, allow_none: bool) -> Decimal | None: ...


def decimal_clean(value, *, field: str, allow_none: bool = False) -> Decimal | None:
    """A finite Decimal > 0. Floats (gRPC edge) go through their shortest repr, never their binary expansion;
    text must be an exact decimal string (decimal_from_text)."""
    if value is None and allow_none:
        return None
    try:
        if isinstance(value, str):
            number = decimal_from_text(value)
            if number is None:
                raise InvalidInput(f"{field} {DECIMAL_TEXT_RULE}, not {echo(value)}", field=field)
        else:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(f"{field} must be a number, not {echo(value)}", field=field) from None
    if not number.is_finite():
        raise InvalidInput(f"{field} must be a finite number, not {echo(value, quote=False)}", field=field)
    if number <= 0:
        raise InvalidInput(f"{field} must be greater than 0, not {echo(value, quote=False)}", field=field)
    exponent = number.as_tuple().exponent  # an int: the number is finite
    if number >= MAX_AMOUNT or (isinstance(exponent, int) and exponent < -MAX_DECIMALS):
        raise InvalidInput(f"{field} {echo(value, quote=False)} is out of range (below {MAX_AMOUNT:,} with at most {MAX_DECIMALS} decimals)",
                           field=field)
    return number


def _choice(value: str, choices, *, field: str, normalize=str.upper) -> str:
    cleaned = normalize((value or "").strip())
    if cleaned not in choices:
        raise InvalidInput(f"{field} must be one of {', '.join(choices)}, not {echo(value)}", field=field)
    return cleaned


def _absent(value) -> bool:
    # Clients send 0 for "no price" (wire contract), so 0 and None mean the same here.
    return value is None or (not isinstance(value, str) and value == 0) or value == ""


def _price_clean(price, order_type: str) -> Decimal | None:
    price = None if _absent(price) else price
    if order_type not in PRICED_TYPES and price is not None:
        limit_type = "LIMIT" if order_type == OrderType.MARKET else order_type.replace("_MARKET", "_LIMIT")
        raise InvalidInput(f"a {order_type} order takes no price (got {echo(price, quote=False)}); send a {limit_type} "
                           "order to set one", field="price")
    if order_type in PRICED_TYPES and price is None:
        raise InvalidInput(f"a {order_type} order needs a price greater than 0", field="price")
    return decimal_clean(price, field="price", allow_none=True)


def _stop_price_clean(stop_price, order_type: str, market: str) -> Decimal | None:
    stop_price = None if _absent(stop_price) else stop_price
    if order_type not in CONDITIONAL_TYPES:
        if stop_price is not None:
            raise InvalidInput(f"a {order_type} order takes no stop_price (got {echo(stop_price, quote=False)}); "
                               f"send one of {', '.join(CONDITIONAL_TYPES)} to set one", field="stop_price")
        return None
    if market != Market.SPOT:
        raise InvalidInput(f"{order_type} orders are available on spot only, not {market}", field="order_type")
    if stop_price is None:
        raise InvalidInput(f"a {order_type} order needs a stop_price greater than 0", field="stop_price")
    return decimal_clean(stop_price, field="stop_price")


# Bidirectional controls make an id read differently from what it is (in the admin, logs, a venue's UI).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _client_order_id_clean(value: str | None) -> str | None:
    value = (value or "").strip()
    if len(value) > CLIENT_ORDER_ID_MAX:
        raise InvalidInput(f"client_order_id is {len(value)} characters; at most {CLIENT_ORDER_ID_MAX} allowed",
                           field="client_order_id")
    for position, char in enumerate(value, 1):
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            kind = "a control character" if unicodedata.category(char) == "Cc" else "a bidirectional control character"
            raise InvalidInput(f"client_order_id must not contain {kind} (U+{ord(char):04X} at position {position})",
                               field="client_order_id")
    return value or None


def _leverage_clean(leverage, market: str) -> int | None:
    if leverage in (None, 0):
        return None
    if market != Market.FUTURES:
        raise InvalidInput(f"leverage applies to futures only, not {market}", field="leverage")
    if isinstance(leverage, bool) or not isinstance(leverage, int) or not 1 <= leverage <= MAX_LEVERAGE:
        raise InvalidInput(f"leverage must be a whole number from 1 to {MAX_LEVERAGE}, not {echo(leverage)}", field="leverage")
    return leverage


def _time_in_force_clean(value: str, order_type: str, post_only: bool) -> str:
    if order_type not in PRICED_TYPES:
        if value:
            raise InvalidInput(f"a {order_type} order takes no time_in_force (got {echo(value)})", field="time_in_force")
        return ""
    tif = _choice(value or TimeInForce.GTC, TimeInForce.values, field="time_in_force")
    if post_only and tif != TimeInForce.GTC:
        raise InvalidInput(f"a post-only order rests on the book, so time_in_force must be GTC, not {tif}",
                           field="time_in_force")
    return tif


def request_clean(*, symbol: str, side: str, quantity, order_type: str, price, market: str, client_order_id: str | None,
                  time_in_force: str, reduce_only: bool, post_only: bool, leverage, stop_price=None) -> OrderRequest:
    """Checks that need no database."""
    market = _choice(market or Market.SPOT, Market.values, field="market", normalize=str.lower)
    order_type = _choice(order_type or OrderType.LIMIT, OrderType.values, field="order_type")
    native = symbol_normalize(symbol)
    if not native:
        raise InvalidInput("symbol is required (e.g. BTCUSDT)", field="symbol")
    if reduce_only and market != Market.FUTURES:
        raise InvalidInput(f"reduce_only applies to futures only, not {market}", field="reduce_only")
    if post_only and order_type != OrderType.LIMIT:
        raise InvalidInput("post_only applies to LIMIT orders only", field="post_only")
    return OrderRequest(
        symbol=native,
        side=_choice(side, Side.values, field="side"),
        order_type=order_type,
        quantity=decimal_clean(quantity, field="quantity"),
        price=_price_clean(price, order_type),
        market=market,
        client_order_id=_client_order_id_clean(client_order_id),
        time_in_force=_time_in_force_clean(time_in_force, order_type, post_only),
        reduce_only=bool(reduce_only),
        post_only=bool(post_only),
        leverage=_leverage_clean(leverage, market),
        stop_price=_stop_price_clean(stop_price, order_type, market),
    )


def exchange_check(exchange: str | None, account: Account) -> None:
    """An order goes to its account's venue; a caller naming another venue made a mistake."""
    if exchange and exchange.strip().lower() != account.exchange:
        raise InvalidInput(f"account {account.name!r} trades on {account.exchange}, not {echo(exchange, quote=False)}", field="exchange")


# Read on every placement: composed once (orders.statements.ComposedRead).
_INSTRUMENT = ComposedRead(
    lambda exchange, market, symbol: Instrument.objects.filter(exchange=exchange, market=market, symbol=symbol)[:1],
    exchange="\x1fexchange", market="\x1fmarket", symbol="\x1fsymbol")


def instrument_for(account: Account, req: OrderRequest) -> Instrument:
    found = next(iter(Instrument.objects.raw(*_INSTRUMENT.bind(exchange=account.exchange, market=req.market,
                                                                 symbol=req.symbol))), None)
    if found is not None and found.active:
        return found
    known = list(Instrument.objects.filter(exchange=account.exchange, market=req.market, active=True)
                 .order_by("symbol").values_list("symbol", flat=True)[:KNOWN_SYMBOLS_SHOWN + 1])
    where = f"{account.exchange} {req.market}"
    if found is not None:
        raise InvalidInput(f"{echo(req.symbol, quote=False)} is not trading on {where}", field="symbol")
    if not known:
        raise InvalidInput(f"unknown symbol {echo(req.symbol, quote=False)}: no instruments are known on {where} yet (sync the markets)",
                           field="symbol")
    shown = ", ".join(known[:KNOWN_SYMBOLS_SHOWN]) + (", …" if len(known) > KNOWN_SYMBOLS_SHOWN else "")
    raise InvalidInput(f"unknown symbol {echo(req.symbol, quote=False)} on {where}; known symbols: {shown}", field="symbol")


def _multiple_of(value: Decimal, step: Decimal) -> bool:
    return step <= 0 or value % step == 0


def quantity_check(req: OrderRequest, inst: Instrument) -> None:
    if not _multiple_of(req.quantity, inst.step_size):
        raise InvalidInput(f"quantity {req.quantity} is not a multiple of the step size {num(inst.step_size)} "
                           f"of {inst.symbol}", field="quantity")
    if req.quantity < inst.min_quantity:
        raise InvalidInput(f"quantity {req.quantity} is below the minimum {num(inst.min_quantity)} of {inst.symbol}",
                           field="quantity")


def price_check(req: OrderRequest, inst: Instrument) -> None:
    for name, value in (("price", req.price), ("stop_price", req.stop_price)):
        if value is not None and not _multiple_of(value, inst.tick_size):
            raise InvalidInput(f"{name} {value} is not a multiple of the tick size {num(inst.tick_size)} "
                               f"of {inst.symbol}", field=name)


def notional_of(req: OrderRequest, inst: Instrument, price: Decimal | None) -> Decimal | None:
    """Quote value of the order at `price` (the limit price, or the last price for MARKET orders)."""
    return None if price is None else req.quantity * price * inst.contract_size


def notional_check(req: OrderRequest, inst: Instrument, notional: Decimal | None) -> None:
    if notional is not None and notional < inst.min_notional:
        raise InvalidInput(f"order value {num(notional)} {inst.quote} (quantity × price) is below the minimum "
                           f"{num(inst.min_notional)} {inst.quote} of {inst.symbol}", field="quantity")
    if (notional is not None and inst.max_notional is not None and req.order_type in PRICED_TYPES
            and notional > inst.max_notional):
        raise InvalidInput(f"order value {num(notional)} {inst.quote} (quantity × price) is above the maximum "
                           f"{num(inst.max_notional)} {inst.quote} the venue accepts for a {req.order_type} order on {inst.symbol}",
                           field="quantity")


def price_band_check(req: OrderRequest, inst: Instrument, market_price: Decimal | None) -> None:
    """The venue's price band (Binance PERCENT_PRICE_BY_SIDE / PERCENT_PRICE): a LIMIT price must lie within the
    side's multipliers of the market price. Unchecked while no market price is known (the venue still refuses)."""
    if req.order_type not in PRICED_TYPES or req.price is None or market_price is None:
        return
    kind = "bid" if req.side == Side.BUY else "ask"
    up, down = getattr(inst, f"{kind}_multiplier_up"), getattr(inst, f"{kind}_multiplier_down")
    low = market_price * down if down is not None else None
    high = market_price * up if up is not None else None
    if (low is not None and req.price < low) or (high is not None and req.price > high):
        lowest = num(low.quantize(inst.tick_size)) if low is not None and inst.tick_size > 0 else "-"
        highest = num(high.quantize(inst.tick_size)) if high is not None and inst.tick_size > 0 else "-"
        raise InvalidInput(f"price band: a {req.side} limit price on {inst.symbol} must be within "
                           f"{num(down) if down is not None else '0'}× and {num(up) if up is not None else '∞'}× of the "
                           f"market price {num(market_price)} ({lowest} to {highest}); {num(req.price)} is outside it",
                           field="price")
