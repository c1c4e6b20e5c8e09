"""Reads of the ledger's own books (filled by the fold, `orders.portfolio`): positions and holdings now, with the
venue's last word beside them, and PnL over a time range. REST, gRPC, the admin, risk limits and metrics call these;
marks and PnL% go through the one definition, `accounts.selectors.position_figures`.

Callers check who may see an account (`accounts.selectors.account_get`) before asking; these take Account rows.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Count, F, Sum, Value
from django.db.models.functions import TruncDate

from accounts.models import Account, Market, Position
from accounts.selectors import position_figures
from exchanges.models import Instrument
from infra import pubsub
from infra.errors import InvalidInput, echo
from orders.models import FundingPayment
from orders.models_portfolio import FillPnl, PortfolioAdjustment, PortfolioHolding, PortfolioPosition
from venues.symbols import symbol_normalize

ZERO = Decimal(0)
GROUP_BY = ("", "day", "symbol")


class PnlQueryError(InvalidInput, ValueError):
    """A bad report request: an InvalidInput for the adapters, a ValueError for plain Python callers."""


@dataclass(frozen=True)
class LedgerPosition:
    account: str
    exchange: str
    market: str
    symbol: str
    side: str  # accounts.models.Position.Side values
    size: Decimal
    entry_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    other_fees: dict[str, Decimal]
    funding: Decimal
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    pnl_percentage: Decimal | None
    notional: Decimal | None  # size × mark
    venue_side: str | None
    venue_size: Decimal | None
    venue_entry_price: Decimal | None
    updated_at: datetime | None


@dataclass(frozen=True)
class Holding:
    account: str
    exchange: str
    asset: str
    quantity: Decimal
    average_cost: Decimal
    quote_asset: str
    realized_pnl: Decimal
    fees: Decimal
    other_fees: dict[str, Decimal]
    last_price: Decimal | None
    unrealized_pnl: Decimal | None
    pnl_percentage: Decimal | None


@dataclass(frozen=True)
class PnlRow:
    key: str  # "" for the total, "YYYY-MM-DD" for a day, the symbol for a symbol
    realized_pnl: Decimal
    fees: Decimal
    other_fees: dict[str, Decimal]
    funding: Decimal
    net_pnl: Decimal  # realized - fees + funding
    unrealized_pnl: Decimal  # the open positions' now (0 in per-day rows)
    volume: Decimal  # quote notional traded
    trade_count: int


@dataclass(frozen=True)
class PnlReport:
    rows: list[PnlRow]
    total: PnlRow


def _side(amount: Decimal) -> str:
    return Position.Side.LONG if amount > 0 else Position.Side.SHORT if amount < 0 else Position.Side.FLAT


def _fees(stored: dict) -> dict[str, Decimal]:
    return {asset: Decimal(amount) for asset, amount in sorted((stored or {}).items())}


def _last_price(prices: dict[str, dict], exchange: str, market: str, symbol: str) -> Decimal | None:
    last = (prices.get(f"{exchange}:{market}:{symbol}") or {}).get("last_price")
    return Decimal(str(last)) if last else None


def _figures(*, side: str, size: Decimal, entry: Decimal, mark: Decimal | None, margin: Decimal = ZERO):
    """position_figures of a computed position: marked at `mark` (None: unknown), PnL% over `margin` if given:
    (mark, unrealized PnL, PnL%, notional)."""
    if mark is None:
        return None, None, None, None
    figures = position_figures(Position(side=side, size=size, entry_price=entry, mark_price=ZERO,
                                        unrealized_pnl=ZERO, margin=margin), last_price=mark)
    return figures.mark_price, figures.unrealized_pnl, figures.pnl_percentage, figures.notional


def ledger_positions(*, account: Account, symbol: str = "", prices: dict[str, dict] | None = None) -> list[LedgerPosition]:
    """The account's USD-M one-way positions computed from fills and funding, beside the venue's last report of each
    (a symbol the venue reports and the ledger never traded is listed flat with the venue's figures). Flat positions
    are included: they carry realized PnL, fees and funding. Marked at the latest price the feed published, else the
    venue's mark; PnL% over the venue's margin when the venue holds the same position, else over entry notional.
    `prices`: the feed's latest prices when the caller already read them (pubsub.latest_prices())."""
    symbol = symbol_normalize(symbol)
    books = PortfolioPosition.objects.filter(account=account)
    venue = Position.objects.filter(account=account, market=Market.FUTURES)
    if symbol:
        books, venue = books.filter(symbol=symbol), venue.filter(symbol=symbol)
    by_symbol = {p.symbol: p for p in books}
    venue_by_symbol = {p.symbol: p for p in venue if p.size or p.side != Position.Side.FLAT}
    prices = pubsub.latest_prices() if prices is None else prices
    out = []
    for sym in sorted(set(by_symbol) | set(venue_by_symbol)):
        book, v = by_symbol.get(sym), venue_by_symbol.get(sym)
        amount = book.amount if book else ZERO
        side, size, entry = _side(amount), abs(amount), book.entry_price if book else ZERO
        mark = _last_price(prices, account.exchange, Market.FUTURES, sym) or (v.mark_price if v and v.mark_price else None)
        same = v is not None and v.side == side and v.size == size
        mark, unrealized, pct, notional = _figures(side=side, size=size, entry=entry, mark=mark,
                                                   margin=v.margin if same and v is not None else ZERO)
        out.append(LedgerPosition(
            account=account.name, exchange=account.exchange, market=Market.FUTURES, symbol=sym, side=side, size=size,
            entry_price=entry, realized_pnl=book.realized_pnl if book else ZERO, fees=book.fees if book else ZERO,
            other_fees=_fees(book.other_fees) if book else {}, funding=book.funding if book else ZERO,
            mark_price=mark, unrealized_pnl=unrealized, pnl_percentage=pct, notional=notional,
            venue_side=v.side if v else None, venue_size=v.size if v else None,
            venue_entry_price=v.entry_price if v else None, updated_at=book.updated_at if book else None))
    return out


def _holding_symbols(exchange: str) -> dict[tuple[str, str], str]:
    return {(b, q): s for b, q, s in Instrument.objects.filter(exchange=exchange, market=Market.SPOT)
            .values_list("base", "quote", "symbol")}


def holdings(*, account: Account, prices: dict[str, dict] | None = None) -> list[Holding]:
    """The account's spot holdings computed from fills, per asset, with average cost in `quote_asset` and marked at
    the latest price of asset/quote_asset (the quote asset itself at 1)."""
    prices = pubsub.latest_prices() if prices is None else prices
    symbols = _holding_symbols(account.exchange)
    out = []
    for h in PortfolioHolding.objects.filter(account=account).order_by("asset"):
        if h.asset == h.quote_asset:
            last: Decimal | None = Decimal(1)
        else:
            sym = symbols.get((h.asset, h.quote_asset))
            last = _last_price(prices, account.exchange, Market.SPOT, sym) if sym else None
        side = _side(h.quantity)
        last, unrealized, pct, _ = _figures(side=side, size=abs(h.quantity), entry=h.average_cost, mark=last)
        out.append(Holding(account=account.name, exchange=account.exchange, asset=h.asset, quantity=h.quantity,
                           average_cost=h.average_cost, quote_asset=h.quote_asset, realized_pnl=h.realized_pnl,
                           fees=h.fees, other_fees=_fees(h.other_fees), last_price=last,
                           unrealized_pnl=unrealized, pnl_percentage=pct))
    return out


def futures_wallet(*, account: Account) -> dict[str, Decimal]:
    """The USD-M wallet as the ledger's books compute it, per asset: its booked wallet adjustments (an opening
    balance, transfers) + the positions' realized PnL - fees + funding (fees in other assets are not in it)."""
    wallet: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for a in PortfolioAdjustment.objects.filter(account=account, market=Market.FUTURES,
                                                field=PortfolioAdjustment.Field.WALLET):
        wallet[a.asset] += a.delta
    quotes = dict(Instrument.objects.filter(exchange=account.exchange, market=Market.FUTURES)
                  .values_list("symbol", "quote"))
    for p in PortfolioPosition.objects.filter(account=account):
        wallet[quotes.get(p.symbol, "USDT")] += p.realized_pnl - p.fees + p.funding
    return dict(wallet)


# ---------------------------------------------------------------- PnL over time


@dataclass
class _Sums:
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    other_fees: dict[str, Decimal] = field(default_factory=dict)
    funding: Decimal = ZERO
    unrealized: Decimal = ZERO
    volume: Decimal = ZERO
    count: int = 0

    def add(self, other: _Sums) -> None:
        self.realized += other.realized
        self.fees += other.fees
        self.funding += other.funding
        self.unrealized += other.unrealized
        self.volume += other.volume
        self.count += other.count
        for asset, amount in other.other_fees.items():
            self.other_fees[asset] = self.other_fees.get(asset, ZERO) + amount

    def row(self, key: str) -> PnlRow:
        return PnlRow(key=key, realized_pnl=self.realized, fees=self.fees, other_fees=dict(sorted(self.other_fees.items())),
                      funding=self.funding, net_pnl=self.realized - self.fees + self.funding,
                      unrealized_pnl=self.unrealized, volume=self.volume, trade_count=self.count)


def _key_expr(group_by: str, time_field: str):
    """What a row is grouped by: its UTC day, its symbol, or nothing."""
    if group_by == "day":
        return TruncDate(time_field, tzinfo=UTC)
    if group_by == "symbol":
        return F("symbol")
    return Value("")


def _key_text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def _window_check(since: datetime, until: datetime) -> None:
    for name, value in (("since", since), ("until", until)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise PnlQueryError(f"{name} must be a timezone-aware time, not {echo(value)}", field=name)
    if since >= until:
        raise PnlQueryError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})", field="since")


def _sums(account_ids: list[int], since: datetime, until: datetime, group_by: str) -> dict[str, _Sums]:
    """Realized, fees, volume and trades of the fills, funding and booked adjustments in [since, until), by key."""
    sums: dict[str, _Sums] = defaultdict(_Sums)
    fills = FillPnl.objects.filter(account_id__in=account_ids, executed_at__gte=since, executed_at__lt=until)
    # One pass over the fills: by key and other-fee asset ("" for fills with none), summed up per key here.
    for r in (fills.annotate(k=_key_expr(group_by, "executed_at")).values("k", "other_fee_asset").order_by()
              .annotate(realized=Sum("realized_pnl"), fee=Sum("fee"), volume=Sum("notional"), n=Count("pk"),
                        other=Sum("other_fee"))):
        s = sums[_key_text(r["k"])]
        s.realized += r["realized"] or ZERO
        s.fees += r["fee"] or ZERO
        s.volume += r["volume"] or ZERO
        s.count += r["n"]
        if r["other_fee_asset"]:
            s.other_fees[r["other_fee_asset"]] = s.other_fees.get(r["other_fee_asset"], ZERO) + (r["other"] or ZERO)
    funding = FundingPayment.objects.filter(account_id__in=account_ids, paid_at__gte=since, paid_at__lt=until)
    for r in (funding.annotate(k=_key_expr(group_by, "paid_at")).values("k").order_by()
              .annotate(amount=Sum("amount"))):
        sums[_key_text(r["k"])].funding += r["amount"] or ZERO
    adjustments = PortfolioAdjustment.objects.filter(
        account_id__in=account_ids, at__gte=since, at__lt=until,
        field__in=(PortfolioAdjustment.Field.REALIZED_PNL, PortfolioAdjustment.Field.FEES,
                   PortfolioAdjustment.Field.FUNDING))
    for a in adjustments:
        key = a.at.astimezone(UTC).date().isoformat() if group_by == "day" else (a.symbol or a.asset) if group_by else ""
        s = sums[key]
        if a.field == PortfolioAdjustment.Field.REALIZED_PNL:
            s.realized += a.delta
        elif a.field == PortfolioAdjustment.Field.FEES:
            s.fees += a.delta
        else:
            s.funding += a.delta
    return sums


def _unrealized_by_symbol(accounts: Iterable[Account]) -> dict[str, Decimal]:
    """Unrealized PnL now of the accounts' open positions and holdings, by symbol (a holding under asset+quote)."""
    prices = pubsub.latest_prices()
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account in accounts:
        for p in ledger_positions(account=account, prices=prices):
            out[p.symbol] += p.unrealized_pnl or ZERO
        for h in holdings(account=account, prices=prices):
            if h.asset != h.quote_asset and h.unrealized_pnl:
                out[h.asset + h.quote_asset] += h.unrealized_pnl
    return out


def pnl_report(*, accounts: list[Account], since: datetime, until: datetime, group_by: str = "") -> PnlReport:
    """PnL of the accounts over [since, until): realized (before fees), fees in quote and in other assets as
    charged, funding, net = realized - fees + funding, volume and trade count, by UTC day or by symbol (no rows
    with group_by ""), and the total. Unrealized is the open positions' now: in the total and per symbol."""
    if group_by not in GROUP_BY:
        raise PnlQueryError(f"group_by must be one of {', '.join(repr(g) for g in GROUP_BY)}, not {echo(group_by)}",
                            field="group_by")
    _window_check(since, until)
    sums = _sums([a.pk for a in accounts], since, until, group_by)
    unrealized = _unrealized_by_symbol(accounts)
    total = _Sums()
    if group_by == "symbol":
        for sym, amount in unrealized.items():
            if amount or sym in sums:
                sums[sym].unrealized += amount
    for s in sums.values():
        total.add(s)
    if group_by != "symbol":
        total.unrealized = sum(unrealized.values(), ZERO)
    rows = [] if not group_by else [sums[k].row(k) for k in sorted(sums)]
    return PnlReport(rows=rows, total=total.row(""))


def realized_since(*, account: Account, since: datetime) -> Decimal:
    """Net realized PnL (realized - fees + funding, in quote) of the account's fills, funding and booked adjustments
    since `since`: what a daily-loss limit reads."""
    if not isinstance(since, datetime) or since.tzinfo is None:
        raise PnlQueryError(f"since must be a timezone-aware time, not {echo(since)}", field="since")
    s = _sums([account.pk], since, datetime.max.replace(tzinfo=UTC), "").get("", _Sums())
    return s.realized - s.fees + s.funding
