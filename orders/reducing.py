"""Whether an order only reduces what the account holds: the one answer the REDUCING trading state asks
(orders.risk.trading_state_check). What is held is the ledger's own books (orders.selectors_pnl), computed from the
account's fills, not the venue's last report.

Futures (one-way): a reduce-only order, or an order against the position's side whose quantity, with the account's
other open orders on that side and symbol, does not exceed the position, so it cannot flip it even if they all fill.
Spot: a SELL of an asset the account holds, with its other open SELLs of that asset at most the quantity held."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum

from accounts.models import Account, Market, Position
from exchanges.models import Instrument
from orders.models import OPEN_STATUSES, Order, Side
from orders.selectors_pnl import holdings, ledger_positions
from orders.validation import OrderRequest, num


@dataclass(frozen=True)
class Reduction:
    reduces: bool
    why: str  # what was compared, for the refusal


def _working(account: Account, market: str, side: str, symbols: list[str]) -> Decimal:
    """What the account's open orders on these symbols and side could still trade."""
    remaining = (Order.objects.filter(account=account, market=market, symbol__in=symbols, side=side,
                                      status__in=OPEN_STATUSES)
                 .aggregate(q=Sum(F("quantity") - F("filled_quantity")))["q"])
    return remaining or Decimal(0)


def _position_now(account: Account, symbol: str) -> Decimal:
    """The signed USD-M position (long positive) the ledger computed from the account's fills."""
    # prices={}: only size and side are read here, no mark (and no read of the price feed).
    position = next(iter(ledger_positions(account=account, symbol=symbol, prices={})), None)
    if position is None or position.side == Position.Side.FLAT:
        return Decimal(0)
    return -position.size if position.side == Position.Side.SHORT else position.size


def _held_now(account: Account, asset: str) -> Decimal:
    """The quantity of a spot asset the ledger computed from the account's fills."""
    return next((h.quantity for h in holdings(account=account, prices={}) if h.asset == asset), Decimal(0))


def _futures(account: Account, req: OrderRequest) -> Reduction:
    if req.reduce_only:
        return Reduction(True, "reduce-only")
    position = _position_now(account, req.symbol)
    if not position:
        return Reduction(False, f"there is no {req.symbol} position to reduce")
    held = "long" if position > 0 else "short"
    if (position > 0) == (req.side == Side.BUY):
        return Reduction(False, f"a {req.side} would add to the {held} of {num(abs(position))} {req.symbol}")
    working = _working(account, req.market, req.side, [req.symbol])
    if req.quantity + working > abs(position):
        counting = f" with {num(working)} on open {req.side} orders" if working else ""
        return Reduction(False, f"a {req.side} of {num(req.quantity)}{counting} would flip the {held} of "
                                f"{num(abs(position))} {req.symbol}")
    return Reduction(True, f"reduces the {held} of {num(abs(position))} {req.symbol}")


def _spot(account: Account, req: OrderRequest, inst: Instrument) -> Reduction:
    if req.side != Side.SELL:
        return Reduction(False, f"on spot only SELLs of held assets reduce, not a {req.side}")
    held = _held_now(account, inst.base)
    symbols = list(Instrument.objects.filter(exchange=inst.exchange, market=Market.SPOT, base=inst.base)
                   .values_list("symbol", flat=True))
    working = _working(account, req.market, Side.SELL, symbols)
    if req.quantity + working > held:
        counting = f" with {num(working)} on open SELL orders" if working else ""
        return Reduction(False, f"a SELL of {num(req.quantity)} {inst.base}{counting} is more than the "
                                f"{num(held)} {inst.base} held")
    return Reduction(True, f"sells {num(req.quantity)} of the {num(held)} {inst.base} held")


def order_reduces(account: Account, req: OrderRequest, inst: Instrument) -> Reduction:
    """Does this order only reduce the account's position (futures) or holding (spot)?"""
    return _futures(account, req) if req.market == Market.FUTURES else _spot(account, req, inst)
