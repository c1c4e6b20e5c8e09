"""The fold: the ledger's positions and holdings computed from its own fills, funding payments and adjustments.

`fill_fold` runs inside `orders.services.fill_record`'s transaction and `funding_fold` inside `funding_record`'s, so
a fill or a payment is folded exactly when it is recorded: never lost, never twice. Each fill folded leaves a
FillPnl row (its realized PnL, fee, notional), the record that it was folded. Fills are folded in (executed_at, id)
order; one older than something already folded for its position (a trade a sweep or reconciliation found late),
or one folded already, refolds that position from the fill before it (USD-M; spot books from scratch), so the
incremental books always equal a rebuild
(`portfolio_rebuild`) and folding a fill twice changes nothing. The accounting itself is `orders.portfolio_fold`.

Locks: a transaction-scoped advisory lock per (account, futures symbol) and per account's spot books, taken before
reading them, so concurrent fills of one position are folded one after the other.
"""
from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Account, Market
from exchanges.models import Instrument
from infra.errors import InvalidInput, echo
from orders.models import Fill, FundingPayment
from orders.models_portfolio import FillPnl, PortfolioAdjustment, PortfolioHolding, PortfolioPosition
from orders.portfolio_fold import ZERO, Book, FillEffect, futures_fill, holding, spot_fill

log = logging.getLogger(__name__)

BULK = 2000
# Quotes tried, longest first, for a symbol missing from the instrument catalog (a fill is never refused for it).
FALLBACK_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "BTC", "ETH", "BNB")


# ---------------------------------------------------------------- helpers


def _lock(account_id: int, key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"portfolio:{account_id}:{key}"])


_pairs: dict[tuple[str, str, str], tuple[str, str]] = {}  # an instrument's base and quote never change


def pair_of(exchange: str, market: str, symbol: str) -> tuple[str, str]:
    """(base, quote) of an instrument, from the catalog."""
    if (exchange, market, symbol) in _pairs:
        return _pairs[exchange, market, symbol]
    row = Instrument.objects.filter(exchange=exchange, market=market, symbol=symbol).values_list("base", "quote").first()
    if row is not None:
        _pairs[exchange, market, symbol] = (row[0], row[1])
        return row[0], row[1]
    for quote in FALLBACK_QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            log.warning("%s %s %s is not in the instrument catalog: folded as %s/%s", exchange, market, symbol,
                        symbol[: -len(quote)], quote)
            return symbol[: -len(quote)], quote
    return symbol, ""


def quote_of_asset(exchange: str, asset: str) -> str:
    """The quote a holding of `asset` is costed in when no fill has said: the quote of its first spot pair in the
    catalog (USDT preferred); an asset that is nobody's base is cash (its own quote)."""
    quotes = list(Instrument.objects.filter(exchange=exchange, market=Market.SPOT, base=asset)
                  .order_by("symbol").values_list("quote", flat=True))
    return "USDT" if "USDT" in quotes else quotes[0] if quotes else asset


def _fees_json(fees: dict[str, Decimal]) -> dict[str, str]:
    """Exact decimal strings, normalized so a value read back from the database writes the same text."""
    return {asset: format(amount.normalize(), "f") for asset, amount in sorted(fees.items()) if amount}


def _fees_of(stored: dict) -> dict[str, Decimal]:
    return {asset: Decimal(amount) for asset, amount in (stored or {}).items()}


def _book_of_position(pos: PortfolioPosition) -> Book:
    return Book(amount=pos.amount, entry=pos.entry_price, realized=pos.realized_pnl, fees=pos.fees,
                other_fees=_fees_of(pos.other_fees), funding=pos.funding)


def _book_of_holding(h: PortfolioHolding) -> Book:
    return Book(amount=h.quantity, entry=h.average_cost, realized=h.realized_pnl, fees=h.fees,
                other_fees=_fees_of(h.other_fees), quote=h.quote_asset, cash=h.asset == h.quote_asset)


def _position_fields(book: Book) -> dict:
    return {"amount": book.amount, "entry_price": book.entry, "realized_pnl": book.realized, "fees": book.fees,
            "other_fees": _fees_json(book.other_fees), "funding": book.funding}


def _holding_fields(book: Book) -> dict:
    return {"quote_asset": book.quote, "quantity": book.amount, "average_cost": book.entry,
            "realized_pnl": book.realized, "fees": book.fees, "other_fees": _fees_json(book.other_fees)}


def _from(executed_at: datetime, fill_id: int, *, id_field: str = "fill_id", inclusive: bool = True) -> Q:
    """Fills at or after (executed_at, id) in the fold's order (after only, when not `inclusive`), written so the
    (…, executed_at) indexes bound the scan."""
    return Q(executed_at__gte=executed_at) & (
        Q(executed_at__gt=executed_at) | Q(**{f"{id_field}__{'gte' if inclusive else 'gt'}": fill_id}))


def _fill_pnl(fill_id: int, account_id: int, market: str, symbol: str, executed_at: datetime,
              effect: FillEffect, after: Book | None = None) -> FillPnl:
    return FillPnl(fill_id=fill_id, account_id=account_id, market=market, symbol=symbol, executed_at=executed_at,
                   realized_pnl=effect.realized, fee=effect.fee, other_fee=effect.other_fee,
                   other_fee_asset=effect.other_fee_asset, notional=effect.notional,
                   **({"amount_after": after.amount, "entry_after": after.entry, "realized_after": after.realized,
                       "fees_after": after.fees, "other_fees_after": _fees_json(after.other_fees)} if after else {}))


AFTER_FIELDS = ("amount_after", "entry_after", "realized_after", "fees_after", "other_fees_after")


def _save_fill_pnls(rows: Iterable[FillPnl]) -> None:
    it = iter(rows)
    while chunk := list(islice(it, BULK)):
        FillPnl.objects.bulk_create(chunk, update_conflicts=True, unique_fields=["fill"],
                                    update_fields=["executed_at", "realized_pnl", "fee", "other_fee", "other_fee_asset",
                                                   "notional", *AFTER_FIELDS])


# ---------------------------------------------------------------- incremental: one fill, one payment


def fill_fold(fill: Fill, *, side: str, exchange: str) -> None:
    """Fold one newly recorded fill (call inside the transaction that recorded it). A fill already folded changes
    nothing; one older than what its position already holds refolds that position."""
    if fill.market == Market.FUTURES:
        _futures_fill_fold(fill, side=side, exchange=exchange)
    else:
        _spot_fill_fold(fill, side=side, exchange=exchange)


def _futures_fill_fold(fill: Fill, *, side: str, exchange: str) -> None:
    _lock(fill.account_id, f"futures:{fill.symbol}")
    folded = FillPnl.objects.filter(account_id=fill.account_id, market=Market.FUTURES, symbol=fill.symbol)
    adjusted = PortfolioAdjustment.objects.filter(account_id=fill.account_id, market=Market.FUTURES, symbol=fill.symbol,
                                                  at__gt=fill.executed_at)
    # Folded already, or behind something folded: the position again from before this fill (the same books).
    if folded.filter(_from(fill.executed_at, fill.pk)).exists() or adjusted.exists():
        _position_refold(fill.account_id, fill.symbol, exchange, resume_before=(fill.executed_at, fill.pk))
        return
    pos = PortfolioPosition.objects.filter(account_id=fill.account_id, symbol=fill.symbol).first()
    if pos is None:
        pos = PortfolioPosition.objects.create(account_id=fill.account_id, symbol=fill.symbol)
    book = _book_of_position(pos)
    base, quote = pair_of(exchange, Market.FUTURES, fill.symbol)
    effect = futures_fill(book, side=side, quantity=fill.quantity, price=fill.price, fee=fill.fee,
                          fee_asset=fill.fee_asset, base=base, quote=quote)
    PortfolioPosition.objects.filter(pk=pos.pk).update(**_position_fields(book), updated_at=fill.created_at)
    _fill_pnl(fill.pk, fill.account_id, fill.market, fill.symbol, fill.executed_at, effect, book).save(
        force_insert=True)


def _spot_fill_fold(fill: Fill, *, side: str, exchange: str) -> None:
    _lock(fill.account_id, "spot")
    folded = FillPnl.objects.filter(account_id=fill.account_id, market=Market.SPOT)
    adjusted = PortfolioAdjustment.objects.filter(account_id=fill.account_id, market=Market.SPOT,
                                                  at__gt=fill.executed_at)
    if folded.filter(_from(fill.executed_at, fill.pk)).exists() or adjusted.exists():
        _spot_refold(fill.account_id, exchange)
        return
    base, quote = pair_of(exchange, Market.SPOT, fill.symbol)
    assets = {base, quote, fill.fee_asset} - {""}
    books = {h.asset: _book_of_holding(h) for h in PortfolioHolding.objects.filter(account_id=fill.account_id,
                                                                                    asset__in=assets)}
    effect = spot_fill(books, side=side, quantity=fill.quantity, price=fill.price, fee=fill.fee,
                       fee_asset=fill.fee_asset, base=base, quote=quote)
    _save_holdings(fill.account_id, books)
    _fill_pnl(fill.pk, fill.account_id, fill.market, fill.symbol, fill.executed_at, effect).save(force_insert=True)


def _save_holdings(account_id: int, books: dict[str, Book]) -> None:
    PortfolioHolding.objects.bulk_create(
        [PortfolioHolding(account_id=account_id, asset=asset, **_holding_fields(book)) for asset, book in books.items()],
        update_conflicts=True, unique_fields=["account", "asset"],
        update_fields=["quote_asset", "quantity", "average_cost", "realized_pnl", "fees", "other_fees", "updated_at"])


def funding_fold(payment: FundingPayment) -> None:
    """Add one newly recorded funding payment to its position (call inside the transaction that recorded it)."""
    _lock(payment.account_id, f"futures:{payment.symbol}")
    pos, _ = PortfolioPosition.objects.get_or_create(account_id=payment.account_id, symbol=payment.symbol)
    PortfolioPosition.objects.filter(pk=pos.pk).update(funding=pos.funding + payment.amount, updated_at=timezone.now())


# ---------------------------------------------------------------- from scratch


def _events(fills, adjustments) -> Iterator[tuple]:
    """Fills and adjustments in the one order the fold reads them: by time, a fill before an adjustment at the same
    instant, then by id. Fills are streamed from the database in that order (a rebuild may read millions)."""
    fill_events = ((f[1], 0, f[0], f) for f in fills.order_by("executed_at", "id").iterator(chunk_size=BULK))
    adjustment_events = sorted((a.at, 1, a.pk, a) for a in adjustments)
    return heapq.merge(fill_events, adjustment_events, key=lambda e: e[:3])


FILL_VALUES = ("id", "executed_at", "order__side", "quantity", "price", "fee", "fee_asset", "symbol")


def _resume_point(account_id: int, symbol: str, before: tuple[datetime, int]) -> tuple[Book, FillPnl] | None:
    """The position's books as they stood after the last folded fill before `before`, or None when there is none to
    resume from."""
    prior = (FillPnl.objects.filter(account_id=account_id, market=Market.FUTURES, symbol=symbol)
             .exclude(_from(*before)).order_by("-executed_at", "-fill_id").first())
    if prior is None or any(getattr(prior, f) is None for f in AFTER_FIELDS):
        return None
    return Book(amount=prior.amount_after, entry=prior.entry_after, realized=prior.realized_after,  # type: ignore[arg-type]
                fees=prior.fees_after, other_fees=_fees_of(prior.other_fees_after or {})), prior  # type: ignore[arg-type]


def _position_refold(account_id: int, symbol: str, exchange: str,
                     resume_before: tuple[datetime, int] | None = None) -> PortfolioPosition:
    """Recompute one futures position from its fills, funding and adjustments (the caller holds its lock): from
    scratch, or, for a fill arriving late (`resume_before` its place in the order), from the fill folded just before
    it, when no adjustment was ever booked to the position (then from scratch too)."""
    fills = Fill.objects.filter(account_id=account_id, market=Market.FUTURES, symbol=symbol).values_list(*FILL_VALUES)
    adjustments = PortfolioAdjustment.objects.filter(account_id=account_id, market=Market.FUTURES, symbol=symbol)
    base, quote = pair_of(exchange, Market.FUTURES, symbol)
    book = Book()
    resumed = _resume_point(account_id, symbol, resume_before) if resume_before and not adjustments.exists() else None
    if resumed is not None:
        book, prior = resumed
        fills = fills.filter(_from(prior.executed_at, prior.fill_id, id_field="id", inclusive=False))

    def pnls() -> Iterator[FillPnl]:
        for _, kind, _, item in _events(fills, adjustments):
            if kind == 0:
                fill_id, executed_at, side, quantity, price, fee, fee_asset, _ = item
                effect = futures_fill(book, side=side, quantity=quantity, price=price, fee=fee, fee_asset=fee_asset,
                                      base=base, quote=quote)
                yield _fill_pnl(fill_id, account_id, Market.FUTURES, symbol, executed_at, effect, book)
            else:
                book.adjust(item.field, item.delta, item.price)

    _save_fill_pnls(pnls())
    book.funding += FundingPayment.objects.filter(account_id=account_id, symbol=symbol).aggregate(
        s=Sum("amount"))["s"] or ZERO
    pos, _ = PortfolioPosition.objects.update_or_create(account_id=account_id, symbol=symbol,
                                                        defaults=_position_fields(book))
    return pos


def _spot_refold(account_id: int, exchange: str) -> None:
    """Recompute every spot holding of the account from all its spot fills and adjustments (lock held)."""
    fills = Fill.objects.filter(account_id=account_id, market=Market.SPOT).values_list(*FILL_VALUES)
    adjustments = PortfolioAdjustment.objects.filter(account_id=account_id, market=Market.SPOT)
    pairs: dict[str, tuple[str, str]] = {}
    books: dict[str, Book] = {}

    def pnls() -> Iterator[FillPnl]:
        for _, kind, _, item in _events(fills, adjustments):
            if kind == 0:
                fill_id, executed_at, side, quantity, price, fee, fee_asset, symbol = item
                if symbol not in pairs:
                    pairs[symbol] = pair_of(exchange, Market.SPOT, symbol)
                base, quote = pairs[symbol]
                effect = spot_fill(books, side=side, quantity=quantity, price=price, fee=fee, fee_asset=fee_asset,
                                   base=base, quote=quote)
                yield _fill_pnl(fill_id, account_id, Market.SPOT, symbol, executed_at, effect)
            else:
                quote = books[item.asset].quote if item.asset in books else quote_of_asset(exchange, item.asset)
                holding(books, item.asset, quote).adjust(item.field, item.delta, item.price)

    _save_fill_pnls(pnls())
    for h in PortfolioHolding.objects.filter(account_id=account_id).exclude(asset__in=list(books)):
        books[h.asset] = Book(quote=h.quote_asset, cash=h.asset == h.quote_asset,
                              entry=Decimal(1) if h.asset == h.quote_asset else ZERO)  # nothing left of it
    _save_holdings(account_id, books)


def position_refold(account: Account, symbol: str) -> PortfolioPosition:
    """Recompute one futures position from scratch, in its own transaction."""
    with transaction.atomic():
        _lock(account.pk, f"futures:{symbol}")
        return _position_refold(account.pk, symbol, account.exchange)


def spot_refold(account: Account) -> None:
    with transaction.atomic():
        _lock(account.pk, "spot")
        _spot_refold(account.pk, account.exchange)


# ---------------------------------------------------------------- adjustments


ADJUSTABLE: dict[str, tuple[str, ...]] = {
    Market.FUTURES: (PortfolioAdjustment.Field.SIZE, PortfolioAdjustment.Field.ENTRY_PRICE,
                     PortfolioAdjustment.Field.REALIZED_PNL, PortfolioAdjustment.Field.FEES,
                     PortfolioAdjustment.Field.FUNDING, PortfolioAdjustment.Field.WALLET),
    Market.SPOT: (PortfolioAdjustment.Field.QUANTITY, PortfolioAdjustment.Field.AVERAGE_COST,
                  PortfolioAdjustment.Field.REALIZED_PNL, PortfolioAdjustment.Field.FEES),
}


def adjustment_record(*, account: Account, market: str, key: str, field: str, ledger_value: Decimal,
                      venue_value: Decimal, reason: str, price: Decimal | None = None,
                      source: str = "reconcile") -> PortfolioAdjustment:
    """Book the difference between the computed books and the venue as an adjustment (`key`: the futures symbol,
    the spot asset, or the asset of a futures wallet adjustment) and fold it in. History is not touched: the
    adjustment is a row of its own, and the books then show ledger value + delta."""
    if market not in ADJUSTABLE:
        raise InvalidInput(f"market must be one of {', '.join(ADJUSTABLE)}, not {echo(market)}", field="market")
    if field not in ADJUSTABLE[market]:
        raise InvalidInput(f"field must be one of {', '.join(ADJUSTABLE[market])} for {market}, not {echo(field)}",
                           field="field")
    key = (key or "").strip().upper()
    if not key:
        raise InvalidInput("an adjustment needs the symbol (futures) or asset (spot)", field="symbol")
    if not (reason or "").strip():
        raise InvalidInput("an adjustment needs a reason", field="reason")
    ledger_value, venue_value = Decimal(ledger_value), Decimal(venue_value)
    wallet = field == PortfolioAdjustment.Field.WALLET
    position = market == Market.FUTURES and not wallet
    with transaction.atomic():
        _lock(account.pk, f"futures:{key}" if position else "wallet" if wallet else "spot")
        row = PortfolioAdjustment.objects.create(
            account=account, market=market, symbol=key if position else "", asset="" if position else key,
            field=field, ledger_value=ledger_value, venue_value=venue_value, delta=venue_value - ledger_value,
            price=price, reason=reason.strip(), source=source)
        if position:
            _position_refold(account.pk, key, account.exchange)
        elif not wallet:  # a wallet adjustment is a sum of its own (selectors_pnl.futures_wallet)
            _spot_refold(account.pk, account.exchange)
    return row


# ---------------------------------------------------------------- rebuild


@dataclass(frozen=True)
class Change:
    account: str
    key: str  # symbol (futures) or asset (spot)
    field: str
    before: Decimal
    after: Decimal

    def __str__(self) -> str:
        return f"{self.account} {self.key} {self.field}: {self.before} -> {self.after}"


POSITION_COMPARED = ("amount", "entry_price", "realized_pnl", "fees", "funding", "other_fees")
HOLDING_COMPARED = ("quantity", "average_cost", "realized_pnl", "fees", "other_fees")


def _snapshot(account: Account) -> dict[tuple[str, str], object]:
    shot: dict[tuple[str, str], object] = {}
    for p in PortfolioPosition.objects.filter(account=account):
        shot.update({(f"futures {p.symbol}", f): getattr(p, f) for f in POSITION_COMPARED})
    for h in PortfolioHolding.objects.filter(account=account):
        shot.update({(f"spot {h.asset}", f): getattr(h, f) for f in HOLDING_COMPARED})
    return shot


def _empty(value) -> bool:
    return not value  # 0, {} and a missing row are the same books


def account_rebuild(account: Account) -> list[Change]:
    """Refold every futures position and the spot holdings of one account from scratch; what changed."""
    before = _snapshot(account)
    symbols = set(Fill.objects.filter(account=account, market=Market.FUTURES).values_list("symbol", flat=True).distinct())
    symbols |= set(FundingPayment.objects.filter(account=account).values_list("symbol", flat=True).distinct())
    symbols |= set(PortfolioAdjustment.objects.filter(account=account, market=Market.FUTURES)
                   .values_list("symbol", flat=True).distinct())
    symbols |= set(PortfolioPosition.objects.filter(account=account).values_list("symbol", flat=True))
    for symbol in sorted(symbols):
        position_refold(account, symbol)
    spot_refold(account)
    after = _snapshot(account)
    return [Change(account.name, key, f, before.get((key, f)), after.get((key, f)))  # type: ignore[arg-type]
            for key, f in sorted(set(before) | set(after))
            if before.get((key, f)) != after.get((key, f)) and not (_empty(before.get((key, f))) and _empty(after.get((key, f))))]


def portfolio_rebuild(accounts: Iterable[Account],
                      progress: Callable[[int, int, str], None] | None = None) -> list[Change]:
    """Rebuild the books of each account from scratch; `progress(done, total, label)` is told as it goes."""
    accounts = list(accounts)
    changes: list[Change] = []
    for i, account in enumerate(accounts):
        if progress:
            progress(i, len(accounts), account.name)
        changes += account_rebuild(account)
    if progress:
        progress(len(accounts), len(accounts), "done")
    return changes
