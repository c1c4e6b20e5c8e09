"""The accounting rules of the fold, as plain Python over Decimals (no database): one step per fill, funding
payment or adjustment. `orders.portfolio` runs them incrementally and from scratch; both run these same steps, so
they cannot disagree.

Average cost, one-way: a trade in the position's direction (or from flat) moves the average entry; a trade against
it realizes (price - entry) x quantity closed (the other way for a short) at the average entry, booked to 8
decimals as the venue books it; a trade through zero closes the old side and opens the rest at its price.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
REALIZED_UNIT = Decimal("0.00000001")  # realized PnL is booked to 8 decimals, as Binance (and the local venue) books it
STORED = Decimal(1).scaleb(-18)  # numeric(38, 18): amounts as stored
AVERAGE_PLACES = 30  # numeric(50, 30): averages as stored (models_portfolio.AVERAGE)


def average(value: Decimal) -> Decimal:
    """An average as stored: the context's 28 significant digits, cut to 30 decimals only below 0.01, so a refold
    reads back exactly what it wrote."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -AVERAGE_PLACES:
        return value.quantize(Decimal(1).scaleb(-AVERAGE_PLACES))
    return value


@dataclass
class Book:
    """One-way exposure to one asset against a quote: a futures position, or a spot holding."""

    amount: Decimal = ZERO  # signed
    entry: Decimal = ZERO  # average entry (cost) per unit, in quote
    realized: Decimal = ZERO
    fees: Decimal = ZERO  # in quote
    other_fees: dict[str, Decimal] = field(default_factory=dict)
    funding: Decimal = ZERO
    quote: str = ""
    cash: bool = False  # the quote asset itself: costs 1, never trades

    def trade(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """Buy (positive) or sell (negative) at `price`; returns the PnL realized."""
        if self.amount == 0 or (self.amount > 0) == (signed_qty > 0):
            total = abs(self.amount) + abs(signed_qty)
            self.entry = average((abs(self.amount) * self.entry + abs(signed_qty) * price) / total)
            self.amount += signed_qty
            return ZERO
        closing = min(abs(signed_qty), abs(self.amount))
        direction = 1 if self.amount > 0 else -1
        realized = (closing * (price - self.entry) * direction).quantize(REALIZED_UNIT, ROUND_HALF_UP)
        self.realized += realized
        self.amount += signed_qty
        if self.amount == 0:
            self.entry = ZERO
        elif (self.amount > 0) != (direction > 0):  # through zero: the rest opens at this price
            self.entry = price
        return realized

    def move_at_cost(self, signed_qty: Decimal) -> None:
        """Units in or out at the average cost: no PnL (a fee paid in the asset, a quote amount spent)."""
        self.amount += signed_qty
        if self.amount == 0 and not self.cash:
            self.entry = ZERO

    def other_fee(self, asset: str, amount: Decimal) -> None:
        self.other_fees[asset] = self.other_fees.get(asset, ZERO) + amount

    def adjust(self, what: str, delta: Decimal, price: Decimal | None) -> None:
        """Book a recorded adjustment (PortfolioAdjustment.Field): a size or quantity added enters at `price`
        (the average when none), removed leaves at the average; neither realizes anything."""
        if what in ("size", "quantity"):
            after = self.amount + delta
            if price is None or not delta or self.cash:
                self.move_at_cost(delta)
            elif after != 0 and (self.amount == 0 or (after > 0) != (self.amount > 0)):
                self.amount, self.entry = after, price  # opened, or through zero: the new side at the price
            elif (self.amount > 0) == (delta > 0):
                total = abs(self.amount) + abs(delta)
                self.entry = average((abs(self.amount) * self.entry + abs(delta) * price) / total)
                self.amount = after
            else:
                self.move_at_cost(delta)
        elif what in ("entry_price", "average_cost"):
            self.entry += delta
        elif what == "realized_pnl":
            self.realized += delta
        elif what == "fees":
            self.fees += delta
        elif what == "funding":
            self.funding += delta
        else:
            raise ValueError(f"unknown adjustment field {what!r}")


@dataclass(frozen=True)
class FillEffect:
    """What one fill did, kept per fill (FillPnl) for reports over time."""

    realized: Decimal
    fee: Decimal  # in quote
    other_fee: Decimal
    other_fee_asset: str
    notional: Decimal


def _fee_split(fee: Decimal, fee_asset: str, *, base: str, quote: str, price: Decimal) -> tuple[Decimal, Decimal, str]:
    """(fee in quote, fee in another asset, that asset): base converts at the fill's price, quote is itself."""
    if not fee:
        return ZERO, ZERO, ""
    if fee_asset == quote or not fee_asset:
        return fee, ZERO, ""
    if fee_asset == base:
        return (fee * price).quantize(STORED), ZERO, ""
    return ZERO, fee, fee_asset


def futures_fill(book: Book, *, side: str, quantity: Decimal, price: Decimal, fee: Decimal, fee_asset: str,
                 base: str, quote: str) -> FillEffect:
    """One USD-M fill on a one-way position (fees are charged from the wallet, never from the position)."""
    realized = book.trade(quantity if side == "BUY" else -quantity, price)
    fee_quote, other, other_asset = _fee_split(fee, fee_asset, base=base, quote=quote, price=price)
    book.fees += fee_quote
    if other_asset:
        book.other_fee(other_asset, other)
    return FillEffect(realized, fee_quote, other, other_asset, quantity * price)


def holding(books: dict[str, Book], asset: str, quote: str) -> Book:
    """The spot holding of `asset`; a new one is costed in `quote` (the quote asset itself costs 1)."""
    found = books.get(asset)
    if found is None:
        cash = asset == quote
        found = books[asset] = Book(quote=quote, entry=ONE if cash else ZERO, cash=cash)
    return found


def spot_fill(books: dict[str, Book], *, side: str, quantity: Decimal, price: Decimal, fee: Decimal, fee_asset: str,
              base: str, quote: str) -> FillEffect:
    """One spot fill: the base holding trades at the price (average cost, realized on sales), the quote holding
    moves by the notional, the fee leaves its asset's holding. A fee in base is a disposal of those units at the
    fill's price (realizing against the average) and counts in `fees` at that price; in quote it counts as is; in
    any other asset (BNB) it leaves that holding at its average cost and is kept by asset."""
    signed = quantity if side == "BUY" else -quantity
    notional = quantity * price
    base_book = holding(books, base, quote)
    if base_book.quote == quote:
        realized = base_book.trade(signed, price)
    else:  # costed in another quote: no price to realize against, the units move at cost
        realized = ZERO
        base_book.move_at_cost(signed)
    holding(books, quote, quote).move_at_cost(-signed * price)
    fee_quote, other, other_asset = _fee_split(fee, fee_asset, base=base, quote=quote, price=price)
    if fee and fee_asset == base and base_book.quote == quote:
        before = base_book.realized
        base_book.trade(-fee, price)
        realized += base_book.realized - before
    elif fee:
        holding(books, fee_asset or quote, quote).move_at_cost(-fee)
    base_book.fees += fee_quote
    if other_asset:
        base_book.other_fee(other_asset, other)
    return FillEffect(realized, fee_quote, other, other_asset, notional)
