"""How an incoming order meets the book: resting user orders (of any key) beside the synthetic depth, at
price priority (at one price, user orders first, oldest first), each trade at the resting side's price with
the resting order as maker. Orders of one key never trade with each other unless the taker's
self-trade-prevention mode (`selfTradePreventionMode`) is NONE: Binance decides by the taker's mode alone.

- EXPIRE_MAKER (the default): the taker's own resting order expires (EXPIRED_IN_MATCH), the taker goes on.
- EXPIRE_TAKER: the taker's remaining quantity expires there; what it already traded stays.
- EXPIRE_BOTH: both expire.
- NONE (spot only; Binance's USD-M has refused it since 2024-12): the orders trade, fees on both sides.

Each prevention is a prevented match (`preventedMatchId` counted per symbol, `preventedQuantity` on the
expired orders). Spot reports it with execution type TRADE_PREVENTION, USD-M with EXPIRED; the order's
status is EXPIRED_IN_MATCH on both.

`TakerFlow` is the other traders: a seeded random trickle of synthetic takers that partially fill resting
user orders through `Venue.trickle` (off unless configured: `run_venue --trickle-rate`, `POST /_venue/trickle`).
The engine (`engine.Venue`) calls `plan` before it checks an order (funds, FOK, post-only) and `execute`
once the order exists; nothing here changes state in `plan`."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from .book import level_take, round_to
from .instruments import FUTURES, INSTRUMENTS, SPOT, Instrument
from .refusals import VenueError
from .wallets import ZERO, Position

if TYPE_CHECKING:
    from .engine import Order, Trade, Venue

NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH = "NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"
DEFAULT_STP = EXPIRE_MAKER
# What each market accepts (spot: as its exchangeInfo publishes `allowedSelfTradePreventionModes`).
STP_MODES = {SPOT: (NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH), FUTURES: (EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH)}
SPOT_STP_KNOWN = STP_MODES[SPOT] + ("DECREMENT", "TRANSFER")  # Binance's enum; the last two are not allowed here
FUTURES_NONE_REFUSED = "Dear user, as per our Terms of Use and compliance regulations, this feature is not available."
STP_EXPIRED = "EXPIRED_IN_MATCH"


def stp_mode(market: str, params: dict) -> str:
    """The order's `selfTradePreventionMode`, checked; EXPIRE_MAKER when not sent (both markets)."""
    mode = params.get("selfTradePreventionMode") or DEFAULT_STP
    if mode in STP_MODES[market]:
        return mode
    if market == SPOT and mode in SPOT_STP_KNOWN:
        raise VenueError(-1013, "This symbol does not allow the specified self-trade prevention mode.")
    if market == FUTURES and mode == NONE:
        # Binance's announcement gives the message, not the code: -1013 is our choice (ccxt: InvalidOrder)
        raise VenueError(-1013, FUTURES_NONE_REFUSED)
    raise VenueError(-1100, "Illegal characters found in parameter 'selfTradePreventionMode'; legal range is "
                            f"'{', '.join(STP_MODES[market])}'.")


@dataclass(slots=True)
class Leg:
    """A trade the incoming order would make: against a resting user order (`maker`) or the synthetic depth."""
    price: Decimal
    qty: Decimal
    maker: Order | None


@dataclass(slots=True)
class Prevention:
    """The incoming order met a resting order of its own key: `maker` expires unless the mode is EXPIRE_TAKER."""
    price: Decimal
    maker: Order


@dataclass(slots=True)
class Stale:
    """A resting reduce-only order met with no position left to reduce: it expires, as the market would do."""
    maker: Order


@dataclass
class Plan:
    steps: list[Leg | Prevention | Stale] = field(default_factory=list)
    expire_taker: bool = False  # EXPIRE_TAKER / EXPIRE_BOTH met: the incoming order stops there

    @property
    def fills(self) -> list[tuple[Decimal, Decimal]]:
        """(price, qty) of every trade, best first: what the order's checks (funds, FOK, notional) weigh."""
        return [(s.price, s.qty) for s in self.steps if isinstance(s, Leg)]

    @property
    def crosses(self) -> bool:
        """The order would meet the book at once (a post-only order is refused for it, self-matches included)."""
        return bool(self.steps)


@dataclass
class PreventedMatch:
    """One self-trade prevented, as `GET /api/v3/myPreventedMatches` would list it."""
    market: str
    symbol: str
    prevented_match_id: int
    api_key: str
    taker_order_id: int
    maker_order_id: int
    mode: str
    price: Decimal
    taker_prevented_qty: Decimal | None
    maker_prevented_qty: Decimal | None
    time: int

    def answer_row(self) -> dict:
        """The taker's `preventedMatches` entry of a spot new-order answer."""
        row: dict = {"preventedMatchId": self.prevented_match_id, "makerOrderId": self.maker_order_id,
                     "price": _s(self.price)}
        if self.taker_prevented_qty is not None:
            row["takerPreventedQuantity"] = _s(self.taker_prevented_qty)
        if self.maker_prevented_qty is not None:
            row["makerPreventedQuantity"] = _s(self.maker_prevented_qty)
        return row


def _s(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.00000001")), "f")


def _better_first(side: str, price: Decimal) -> Decimal:
    """Sort key of a resting price for a taker on `side`: BUY meets the lowest ask first, SELL the highest bid."""
    return price if side == "BUY" else -price


def maker_available(venue: Venue, maker: Order) -> Decimal:
    """What a resting order can still trade: its remaining quantity, a reduce-only one at most its position
    (nothing when that position is gone or on the same side)."""
    if not maker.reduce_only:
        return maker.remaining
    pos = venue.accounts[maker.api_key].position(maker.symbol)
    if pos.amt == 0 or (pos.amt > 0) == (maker.side == "BUY"):
        return ZERO
    return min(maker.remaining, abs(pos.amt))


def plan(venue: Venue, market: str, instrument: Instrument, api_key: str, side: str, qty: Decimal | None,
         limit: Decimal | None, quote: Decimal | None, mode: str) -> Plan:
    """What an order would meet, best price first, without changing anything: user orders of the other side
    that cross `limit` (or all, for a market order) merged with the displayed synthetic levels."""
    book = venue.books[(market, instrument.symbol)]
    maker_side = "SELL" if side == "BUY" else "BUY"
    users = [o for o in venue.resting.get((market, instrument.symbol), []) if o.side == maker_side and o.is_open
             and (limit is None or (o.price <= limit if side == "BUY" else o.price >= limit))]
    merged: list[tuple[tuple, Decimal, Decimal, Order | None]] = [
        ((_better_first(side, o.price), 0, o.time, o.order_id), o.price, o.remaining, o) for o in users]
    levels = book.asks if side == "BUY" else book.bids
    merged += [((_better_first(side, p), 1, 0, n), p, q, None) for n, (p, q) in enumerate(levels)]
    merged.sort(key=lambda row: row[0])
    result = Plan()
    left_qty, left_quote = qty, quote
    for _, price, available, maker in merged:
        if limit is not None and (price > limit if side == "BUY" else price < limit):
            break
        if maker is not None and maker.api_key == api_key and mode != NONE:
            result.steps.append(Prevention(price, maker))
            if mode in (EXPIRE_TAKER, EXPIRE_BOTH):
                result.expire_taker = True
                break
            continue
        if maker is not None:
            available = maker_available(venue, maker)
            if available <= 0:
                result.steps.append(Stale(maker))
                continue
        take = level_take(price, available, left_qty, left_quote, instrument.step)
        if take <= 0:
            break
        result.steps.append(Leg(price, take, maker))
        if left_qty is not None:
            left_qty -= take
            if left_qty <= 0:
                break
        if left_quote is not None:
            left_quote -= take * price
    return result


def execute(venue: Venue, order: Order, plan_: Plan, *, reduce_to: Position | None = None) -> list[Trade]:
    """Carry out a plan for the order just created: trades with the synthetic depth and with resting user
    orders (one trade id, each side its own fee: the resting one maker, `order` taker), the preventions in
    the order they were met. `reduce_to`: a reduce-only taker's position, which caps each trade."""
    account = venue.accounts[order.api_key]
    trades: list[Trade] = []
    synthetic: list[tuple[Decimal, Decimal]] = []
    for step in plan_.steps:
        if isinstance(step, Prevention):
            _prevent(venue, order, step, expire_maker=order.stp_mode != EXPIRE_TAKER,
                     expire_taker=order.stp_mode in (EXPIRE_TAKER, EXPIRE_BOTH))
            continue
        if isinstance(step, Stale):
            if step.maker.is_open:
                venue._close(step.maker, venue.accounts[step.maker.api_key], "EXPIRED")
            continue
        qty = step.qty
        if reduce_to is not None:
            qty = min(qty, abs(reduce_to.amt))
            if qty <= 0:
                break
        trade = venue._fill(order, account, step.price, qty, is_maker=False)
        trades.append(trade)
        if step.maker is None:
            synthetic.append((step.price, qty))
        else:
            venue._fill(step.maker, venue.accounts[step.maker.api_key], step.price, qty, is_maker=True,
                        trade_id=trade.trade_id)
    venue._consume(venue.books[(order.market, order.symbol)], order.side, synthetic)
    return trades


def _prevent(venue: Venue, taker: Order, step: Prevention, *, expire_maker: bool, expire_taker: bool) -> None:
    key = (taker.market, taker.symbol)
    match_id = venue.next_prevented_id.get(key, 0)
    venue.next_prevented_id[key] = match_id + 1
    maker_qty = step.maker.remaining if expire_maker and step.maker.is_open else None
    taker_qty = taker.remaining if expire_taker and taker.is_open else None
    venue.prevented.setdefault(key, []).append(PreventedMatch(
        taker.market, taker.symbol, match_id, taker.api_key, taker.order_id, step.maker.order_id, taker.stp_mode,
        step.price, taker_qty, maker_qty, venue.now()))
    if maker_qty is not None:
        _expire_in_match(venue, step.maker, match_id)
    if taker_qty is not None:
        _expire_in_match(venue, taker, match_id)


def _expire_in_match(venue: Venue, order: Order, match_id: int) -> None:
    order.prevented_match_id = match_id
    order.prevented_qty += order.remaining
    order.status = STP_EXPIRED
    order.update_time = venue.now()
    venue._release(order, venue.accounts[order.api_key])
    venue.dirty = True
    venue.emit(order, "TRADE_PREVENTION" if order.market == SPOT else "EXPIRED")


def prevented_for(venue: Venue, order: Order) -> list[PreventedMatch]:
    """The prevented matches an order took part in (as taker or maker), oldest first."""
    return [m for m in venue.prevented.get((order.market, order.symbol), [])
            if m.api_key == order.api_key and order.order_id in (m.taker_order_id, m.maker_order_id)]


def best_resting(orders: list[Order], side: str) -> Order | None:
    """The resting order of `side` a synthetic taker meets first: best price, then oldest."""
    rows = [o for o in orders if o.side == side]
    return max(rows, key=lambda o: (o.price if side == "BUY" else -o.price, -o.time, -o.order_id)) if rows else None


@dataclass
class TakerFlow:
    """A seeded random trickle of synthetic takers: on each tick, each (market, symbol) with resting user orders
    meets one taker with probability rate × tick / 60 s; it takes between 1 % and `fraction` of the best resting
    order's remaining quantity (at least the minimum quantity, at most what is left) on a side drawn at random
    among the sides that rest. Off while `rate_per_min` is 0."""
    rate_per_min: float = 0.0
    fraction: float = 0.5
    seed: int = 1
    fills: int = 0
    last_ms: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self.rng.seed(f"{self.seed}:takers")

    def configure(self, rate_per_min: float | None = None, fraction: float | None = None,
                  seed: int | None = None) -> None:
        if rate_per_min is not None:
            if not 0 <= rate_per_min <= 6000:
                raise ValueError("rate must be from 0 to 6000 takers a minute")
            self.rate_per_min = rate_per_min
        if fraction is not None:
            if not 0 < fraction <= 1:
                raise ValueError("fraction must be above 0 and at most 1")
            self.fraction = fraction
        if seed is not None:
            self.seed = seed
            self.rng.seed(f"{seed}:takers")

    def describe(self) -> dict:
        return {"rate_per_min": self.rate_per_min, "fraction": self.fraction, "seed": self.seed, "fills": self.fills}

    def step(self, venue: Venue, now_ms: int) -> None:
        last, self.last_ms = self.last_ms, now_ms
        if self.rate_per_min <= 0 or last is None:
            return
        chance = self.rate_per_min * min(max(now_ms - last, 0), 1000) / 60_000
        for (market, symbol), orders in sorted(venue.resting.items()):
            if not orders or self.rng.random() >= chance:
                continue
            maker_side = self.rng.choice(sorted({o.side for o in orders}))
            best = best_resting(orders, maker_side)
            if best is None:
                continue
            instrument = INSTRUMENTS[market][symbol]
            share = Decimal(repr(self.rng.uniform(0.01, self.fraction)))
            qty = min(best.remaining, max(instrument.min_qty, round_to(best.remaining * share, instrument.step, ROUND_DOWN)))
            if qty <= 0:
                continue
            self.fills += len(venue.trickle(market, symbol, "SELL" if maker_side == "BUY" else "BUY", 1, qty))
