"""The portfolio as the read adapters show it (REST /api/v1/positions/ and /api/v1/pnl/, gRPC GetPositions and
GetPnL), scoped to the caller's accounts: one place for which positions appear, which figures fill them, and the
PnL report's range and defaults. Every figure comes from the ledger (orders.selectors_pnl) or, for a position the
ledger does not hold, from the venue's row through accounts.selectors.position_figures: no arithmetic here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account, Position
from accounts.selectors import account_get, accounts_for_user, position_figures, position_last_price_lookup
from infra import pubsub
from orders import selectors_pnl
from orders.selectors_pnl import Holding, LedgerPosition, PnlReport
from venues.symbols import symbol_normalize

LEDGER, VENUE = "ledger", "venue"


@dataclass(frozen=True)
class PositionRow:
    """An open position. `source` says whose figures fill side..pnl_percentage: the ledger's (computed from fills
    and funding) when it holds the position, else the venue's (a position traded outside the OMS, or one the
    ledger has closed while the venue still reports it open). `venue_*` is the venue's last report beside them
    (None when it reports none); leverage, margin and liquidation price are always the venue's."""

    account: str
    exchange: str
    market: str
    symbol: str
    source: str
    side: str
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal | None
    notional: Decimal | None
    unrealized_pnl: Decimal | None
    pnl_percentage: Decimal | None
    realized_pnl: Decimal
    fees: Decimal
    other_fees: dict[str, Decimal]
    funding: Decimal
    venue_side: str | None
    venue_size: Decimal | None
    venue_entry_price: Decimal | None
    leverage: int
    margin: Decimal
    liquidation_price: Decimal | None
    updated_at: datetime | None


def _scope(*, user, account: str, exchange: str) -> QuerySet[Account]:
    """The caller's accounts, narrowed to `account` (one the caller may not see is NotFound on `account_id`, as
    every read answers) and `exchange`."""
    accounts = accounts_for_user(user)
    if account:
        accounts = accounts.filter(pk=account_get(account, user).pk)
    if exchange:
        accounts = accounts.filter(exchange=exchange.strip().lower())
    return accounts.order_by("name")


def _is_open(side: str | None, size: Decimal | None) -> bool:
    return bool(size) and side != Position.Side.FLAT


@dataclass(frozen=True)
class Portfolio:
    positions: list[PositionRow]
    holdings: list[Holding]


def portfolio(*, user=None, account: str = "", exchange: str = "", symbol: str = "") -> Portfolio:
    """The caller's accounts' open positions (by account name, then symbol: the ledger's where it holds one, the
    venue's where only the venue does; a position both report flat is no position) and spot holdings (quantity not
    zero, by account name then asset; `symbol` keeps the holding whose asset and quote asset spell it: BTCUSDT is
    BTC held against USDT)."""
    symbol = symbol_normalize(symbol) if symbol.strip() else ""
    positions: list[PositionRow] = []
    holdings: list[Holding] = []
    last_price, prices = position_last_price_lookup(), pubsub.latest_prices()
    for acct in _scope(user=user, account=account, exchange=exchange):
        reported = Position.objects.filter(account=acct).select_related("account")
        venue = {(p.market, p.symbol): p for p in (reported.filter(symbol=symbol) if symbol else reported)}
        ledger = {(p.market, p.symbol): p
                  for p in selectors_pnl.ledger_positions(account=acct, symbol=symbol, prices=prices)}
        for key in sorted(venue.keys() | ledger.keys(), key=lambda k: (k[1], k[0])):
            row = _position_row(acct, ledger.get(key), venue.get(key), last_price)
            if row is not None:
                positions.append(row)
        holdings += [h for h in selectors_pnl.holdings(account=acct, prices=prices)
                     if h.quantity and (not symbol or f"{h.asset}{h.quote_asset}" == symbol)]
    return Portfolio(positions=positions, holdings=holdings)


def _position_row(account: Account, ledger: LedgerPosition | None, venue: Position | None, last_price) -> PositionRow | None:
    held: LedgerPosition | Position
    if ledger is not None and _is_open(ledger.side, ledger.size):
        source, held, figures = LEDGER, ledger, (ledger.mark_price, ledger.notional, ledger.unrealized_pnl,
                                                  ledger.pnl_percentage)
    elif venue is not None and _is_open(venue.side, venue.size):
        now = position_figures(venue, last_price=last_price(venue))
        source, held, figures = VENUE, venue, (now.mark_price, now.notional, now.unrealized_pnl, now.pnl_percentage)
    else:
        return None
    mark, notional, unrealized, pnl_percentage = figures
    zero = Decimal(0)
    return PositionRow(
        account=account.name, exchange=account.exchange, market=held.market, symbol=held.symbol, source=source,
        side=held.side, size=held.size, entry_price=held.entry_price, mark_price=mark, notional=notional,
        unrealized_pnl=unrealized, pnl_percentage=pnl_percentage, realized_pnl=ledger.realized_pnl if ledger else zero,
        fees=ledger.fees if ledger else zero, other_fees=dict(ledger.other_fees) if ledger else {},
        funding=ledger.funding if ledger else zero, venue_side=venue.side if venue else None,
        venue_size=venue.size if venue else None, venue_entry_price=venue.entry_price if venue else None,
        leverage=int(venue.leverage or 0) if venue else 0, margin=venue.margin if venue else zero,
        liquidation_price=venue.liquidation_price if venue else None, updated_at=held.updated_at)


@dataclass(frozen=True)
class PnlRead:
    """pnl_report's answer with the question as answered: the range after defaults and the accounts summed."""

    report: PnlReport
    since: datetime
    until: datetime
    group_by: str
    accounts: list[str]


def pnl_read(*, user=None, account: str = "", exchange: str = "", since: datetime | None = None,
             until: datetime | None = None, group_by: str = "") -> PnlRead:
    """The PnL report (orders.selectors_pnl.pnl_report, which checks the range and group_by) over the caller's
    accounts, or one of them; `since` defaults to the start of today (UTC), `until` to now."""
    now = timezone.now()
    since = (since or datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)).astimezone(UTC)
    until = (until or now).astimezone(UTC)
    group_by = group_by.strip().lower()
    accounts = list(_scope(user=user, account=account, exchange=exchange))
    report = selectors_pnl.pnl_report(accounts=accounts, since=since, until=until, group_by=group_by)
    return PnlRead(report=report, since=since, until=until, group_by=group_by, accounts=[a.name for a in accounts])
