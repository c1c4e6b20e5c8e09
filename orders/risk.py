"""Pre-trade risk: one function per rule, each refusing with the field and the numbers involved.

Limits come from the account's RiskLimit (a null field means no limit), the global kill switch and the trading
states (the account's and the global one).
Run by `orders.services.order_place` inside its transaction; the account row is locked when its limits count
open orders or exposure (`counts_open_exposure`)."""
from __future__ import annotations

import time
from decimal import Decimal

import redis
from django.db import connection
from django.db.models import F, Sum

from accounts.models import Account, Balance, Market, Position, RiskLimit, TradingState
from accounts.selectors import EffectiveState, trading_state_effective
from exchanges.models import Instrument
from infra import pubsub
from infra.errors import FailedPrecondition, Unavailable
from orders import reducing
from orders.models import OPEN_STATUSES, PRICED_TYPES, Order, Side
from orders.statements import ComposedRead
from orders.validation import OrderRequest, notional_of, num, reference_price

PRICE_MAX_AGE_S = 60  # an older price says nothing about the market now


def last_price(exchange: str, market: str, symbol: str) -> Decimal | None:
    """The last traded price from the market-data feed, if one is known and fresh."""
    try:
        update = pubsub.latest_price(exchange, market, symbol)
    except redis.RedisError:
        raise Unavailable("market data (Redis) is unreachable; no order can be checked or submitted now") from None
    if not update or not update.get("last_price"):
        return None
    ts = update.get("timestamp_ms")
    if ts and time.time() * 1000 - float(ts) > PRICE_MAX_AGE_S * 1000:
        return None
    price = Decimal(str(update["last_price"]))
    return price if price.is_finite() and price > 0 else None


def kill_switch_check(on: bool | None, why: str | None) -> None:
    if on:
        reason = f": {why}" if why else ""
        raise FailedPrecondition(f"trading is halted by the kill switch{reason}", field="kill_switch")


def _governing_state(account: Account) -> EffectiveState:
    # The global state is read with the account (orders.lock_objects.accounts_for_placement); no switch row yet: ACTIVE.
    return trading_state_effective(own=account.trading_state, own_reason=account.trading_state_reason,
                                   global_state=account.global_trading_state or TradingState.ACTIVE,
                                   global_reason=account.global_trading_state_reason or "")


def trading_state_check(account: Account, req: OrderRequest, inst: Instrument) -> None:
    """HALTED: no new order. REDUCING: only an order that reduces a position or holding (orders.reducing).
    The stricter of the account's state and the global one applies."""
    governing = _governing_state(account)
    if governing.state == TradingState.ACTIVE:
        return
    whose = f"account {account.name!r} is" if governing.scope == "account" else "trading is globally"
    why = f" ({governing.reason})" if governing.reason else ""
    if governing.state == TradingState.HALTED:
        raise FailedPrecondition(f"{whose} HALTED{why}: no new orders are taken (cancels still are)",
                                 field="trading_state")
    reduction = reducing.order_reduces(account, req, inst)
    if not reduction.reduces:
        raise FailedPrecondition(f"{whose} REDUCING{why}: only orders that reduce a position or holding are taken, "
                                 f"and {reduction.why}", field="trading_state")


# Checked on every placement: composed once (orders.statements.ComposedRead).
_OPEN_ON_SYMBOL = ComposedRead(
    lambda account_id, market, symbol: Order.objects.filter(account_id=account_id, market=market, symbol=symbol,
                                                            status__in=OPEN_STATUSES).values("pk"),
    account_id=-7_000_001, market="\x1fmarket", symbol="\x1fsymbol")


def venue_open_orders_check(account: Account, req: OrderRequest, inst: Instrument) -> None:
    """The venue's MAX_NUM_ORDERS: open orders per account and symbol. Not serialised: two placements racing for the
    last place both pass, and the venue refuses one (REJECTED with the venue's reason)."""
    if inst.max_open_orders is None:
        return
    sql, params = _OPEN_ON_SYMBOL.bind(account_id=account.pk, market=req.market, symbol=req.symbol)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS open_orders", params)
        open_count = cursor.fetchone()[0]
    if open_count >= inst.max_open_orders:
        raise FailedPrecondition(f"too many open orders: account {account.name!r} has {open_count} open orders on "
                                 f"{req.symbol} ({req.market}); the venue allows at most {inst.max_open_orders} per "
                                 "symbol (MAX_NUM_ORDERS)", field="symbol")


def account_enabled_check(account: Account) -> None:
    if not account.enabled:
        reason = f": {account.disabled_reason}" if account.disabled_reason else ""
        raise FailedPrecondition(f"account {account.name!r} is disabled for trading{reason}", field="account_id")


def allowed_symbols_check(limit: RiskLimit, symbol: str) -> None:
    if limit.allowed_symbols and symbol not in limit.allowed_symbols:
        raise FailedPrecondition(f"{symbol} is not among the symbols this account may trade "
                                 f"({', '.join(limit.allowed_symbols)})", field="symbol")


def _price_needed(rule: str, notional: Decimal | None) -> None:
    if notional is None:
        raise FailedPrecondition(f"no recent market price to check {rule}; place a LIMIT order instead", field="price")


def max_order_notional_check(limit: RiskLimit, notional: Decimal | None, quote: str) -> None:
    if limit.max_order_notional is None:
        return
    _price_needed("max_order_notional", notional)
    if notional > limit.max_order_notional:
        raise FailedPrecondition(f"order value {num(notional)} {quote} exceeds max_order_notional "
                                 f"{num(limit.max_order_notional)} {quote}", field="quantity")


def max_open_orders_check(limit: RiskLimit, account: Account) -> None:
    if limit.max_open_orders is None:
        return
    open_count = Order.objects.filter(account=account, status__in=OPEN_STATUSES).count()
    if open_count >= limit.max_open_orders:
        raise FailedPrecondition(f"account {account.name!r} has {open_count} open orders; max_open_orders is "
                                 f"{limit.max_open_orders}", field="max_open_orders")


def _current_exposure(account: Account, req: OrderRequest, inst: Instrument) -> Decimal:
    """Signed size held now: the futures position, or the spot balance of the base asset."""
    if req.market == Market.FUTURES:
        pos = Position.objects.filter(account=account, market=Market.FUTURES, symbol=req.symbol).first()
        if pos is None:
            return Decimal(0)
        return -pos.size if pos.side == Position.Side.SHORT else pos.size
    bal = Balance.objects.filter(account=account, market=Market.SPOT, asset=inst.base).first()
    return bal.total if bal else Decimal(0)


def _working_quantity(account: Account, req: OrderRequest) -> Decimal:
    """What the account's open orders on this instrument and side could still add if they all filled
    (reduce-only orders cannot add)."""
    remaining = (Order.objects.filter(account=account, market=req.market, symbol=req.symbol, side=req.side,
                                      status__in=OPEN_STATUSES, reduce_only=False)
                 .aggregate(q=Sum(F("quantity") - F("filled_quantity")))["q"])
    return remaining or Decimal(0)


def max_position_notional_check(limit: RiskLimit, account: Account, req: OrderRequest, inst: Instrument,
                                price: Decimal | None) -> None:
    """The position if this order and the account's other open orders on its side all filled."""
    if limit.max_position_notional is None or req.reduce_only:
        return
    sign = 1 if req.side == Side.BUY else -1
    working = _working_quantity(account, req)
    before = _current_exposure(account, req, inst) + sign * working
    after = before + sign * req.quantity
    if abs(after) <= abs(before):
        return  # reducing exposure is always allowed
    _price_needed("max_position_notional", price)
    value = abs(after) * price * inst.contract_size
    if value > limit.max_position_notional:
        counting = f" counting {num(working)} on open {req.side} orders" if working else ""
        raise FailedPrecondition(f"position in {req.symbol} would be {num(after)}{counting} (value {num(value)} "
                                 f"{inst.quote}), over max_position_notional {num(limit.max_position_notional)} "
                                 f"{inst.quote}", field="quantity")


def price_band_check(limit: RiskLimit, req: OrderRequest, last: Decimal | None) -> None:
    if limit.price_band_pct is None or req.order_type not in PRICED_TYPES or last is None:
        return
    deviation = abs(req.price - last) / last * 100
    if deviation > limit.price_band_pct:
        raise FailedPrecondition(f"price {req.price} is {deviation.quantize(Decimal('0.01'))}% from the last price "
                                 f"{num(last)}; price_band_pct allows {num(limit.price_band_pct)}%",
                                 field="price")


def counts_open_exposure(account: Account) -> bool:
    """Whether the account's limits count its open orders or exposure (then placements must be serialised): so does
    REDUCING, where two orders that each reduce could together flip a position."""
    limit = getattr(account, "risk_limit", None)
    if limit is not None and (limit.max_open_orders is not None or limit.max_position_notional is not None):
        return True
    return _governing_state(account).state == TradingState.REDUCING


def amend_check(*, account: Account, req: OrderRequest, inst: Instrument, last: Decimal | None) -> None:
    """An amend as a placement of the amended order, minus the counts it already holds a place in (open orders)."""
    kill_switch_check(account.kill_switch_on, account.kill_switch_reason)
    account_enabled_check(account)
    trading_state_check(account, req, inst)
    limit = getattr(account, "risk_limit", None)
    if limit is None:
        return
    allowed_symbols_check(limit, req.symbol)
    max_order_notional_check(limit, notional_of(req, inst, req.price if req.price is not None else last), inst.quote)
    price_band_check(limit, req, last)


def pre_trade_check(*, account: Account, req: OrderRequest, inst: Instrument, last: Decimal | None) -> None:
    """`account` was read from `orders.lock_objects.accounts_for_placement`, with its risk limit and the kill
    switch in the same query."""
    kill_switch_check(account.kill_switch_on, account.kill_switch_reason)
    account_enabled_check(account)
    trading_state_check(account, req, inst)
    venue_open_orders_check(account, req, inst)
    limit = getattr(account, "risk_limit", None)
    if limit is None:
        return
    price = reference_price(req, last)
    notional = notional_of(req, inst, price)
    allowed_symbols_check(limit, req.symbol)
    max_order_notional_check(limit, notional, inst.quote)
    max_open_orders_check(limit, account)
    max_position_notional_check(limit, account, req, inst, price)
    price_band_check(limit, req, last)
