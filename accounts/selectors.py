"""Reads of accounts, scoped to what the caller may see. `user=None` is the trusted system.

A foreign account is reported exactly like a missing one (NotFound), so names do not leak."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import (
    TRADING_STATE_STRICTNESS,
    Account,
    AccountMember,
    Balance,
    ControlChange,
    Market,
    Position,
    TradingState,
    TradingSwitch,
)
from infra import pubsub
from infra.errors import InvalidInput, NotFound, PermissionDenied, echo


def _sees_everything(user) -> bool:
    return user is None or (user.is_active and user.is_superuser)


def accounts_for_user(user=None, *, trade: bool = False, base: QuerySet[Account] | None = None) -> QuerySet[Account]:
    """Accounts the user is a member of (trader role when `trade`); every account for the system and superusers.
    `base`: the accounts to choose from (with what the caller joins to them); all by default."""
    qs = Account.objects.all() if base is None else base
    if _sees_everything(user):
        return qs
    if not user.is_active:
        return qs.none()
    members = AccountMember.objects.filter(user=user)
    if trade:
        members = members.filter(role=AccountMember.Role.TRADER)
    return qs.filter(pk__in=members.values("account_id"))


def _trader(user):
    """Whether `user` has the trader role on the outer query's account (a subquery)."""
    return Exists(AccountMember.objects.filter(user=user, account_id=OuterRef("pk"), role=AccountMember.Role.TRADER))


def account_query(name: str, user=None, *, trade: bool = False, base: QuerySet[Account] | None = None) -> QuerySet[Account]:
    """The one query `account_get` reads the account with (at most one row: names are unique)."""
    accounts = accounts_for_user(user, base=base)
    if trade and not _sees_everything(user):
        accounts = accounts.annotate(oms_may_trade=_trader(user))
    return accounts.filter(name=name)


def account_get(name: str, user=None, *, trade: bool = False, base: QuerySet[Account] | None = None,
                read: Callable[[str, object], Account | None] | None = None) -> Account:
    """The account named `name` if the user may see it (and trade it, when `trade`), in one query. `base`: the
    accounts to read it from, with what the caller needs joined (orders.lock_objects.accounts_for_placement).
    `read(name, user)`: reads it in place of `account_query(...).first()` (the placement's: composed once)."""
    if not name:
        raise InvalidInput("account is required", field="account_id")
    account = read(name, user) if read is not None else account_query(name, user, trade=trade, base=base).first()
    if account is None:
        raise NotFound(f"account {echo(name)} not found", field="account_id")
    if trade:
        account_trade_check(account, user)
    return account


def account_trade_check(account: Account, user=None) -> None:
    """PermissionDenied unless the user may trade on `account` (one it may see). No query for the system and
    superusers, nor when the account was read by `account_get(..., trade=True)`."""
    if _sees_everything(user):
        return
    may_trade = getattr(account, "oms_may_trade", None)
    if may_trade is None:
        may_trade = Account.objects.filter(pk=account.pk).filter(_trader(user)).exists()
    if not may_trade:
        raise PermissionDenied(f"you may view account {echo(account.name)} but not trade on it", field="account_id")


def accounts_to_sync(*, exchange: str = "") -> QuerySet[Account]:
    """The accounts the workers keep in step with their venue (balances, positions, orders, user-data streams,
    reconciliation, start-up sync): enabled, with credentials. The one answer to "which accounts to sync"."""
    accounts = Account.objects.filter(enabled=True, credential__isnull=False)
    if exchange:
        accounts = accounts.filter(exchange=exchange)
    return accounts.order_by("pk")


def venue_accounts(*, exchanges: Iterable[str] | None = None) -> list[Account]:
    """One enabled account per venue endpoint (exchange, sandbox, base URL), the first by pk: the connection
    public data (instrument catalog, prices, the health probe) is read with; no credentials needed."""
    accounts = Account.objects.filter(enabled=True).order_by("pk")
    if exchanges is not None:
        accounts = accounts.filter(exchange__in=list(exchanges))
    seen, out = set(), []
    for account in accounts:
        key = (account.exchange, account.sandbox, account.base_url)
        if key not in seen:
            seen.add(key)
            out.append(account)
    return out


def market_clean(market: str) -> str:
    value = (market or "").strip().lower()
    if value not in Market.values:
        raise InvalidInput(f"market must be one of {', '.join(Market.values)}, not {echo(market)}", field="market")
    return value


def balance_list(*, account: str, market: str = "", user=None) -> QuerySet[Balance]:
    acct = account_get(account, user)
    qs = Balance.objects.filter(account=acct).select_related("account")
    if market:
        qs = qs.filter(market=market_clean(market))
    return qs.order_by("market", "asset")


PNL_PERCENTAGE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class PositionFigures:
    mark_price: Decimal
    unrealized_pnl: Decimal
    notional: Decimal  # |size| × mark
    pnl_percentage: Decimal | None  # None when neither margin nor entry notional is known


def position_figures(position: Position, *, last_price: Decimal | None = None) -> PositionFigures:
    """What a position is worth now: the one definition gRPC, REST and the admin show.

    Mark: the venue's mark price; without one, `last_price` (the latest traded price from the price feed) marks
    it, and the unrealized PnL follows from it. PnL%: unrealized PnL over the initial margin the venue reported,
    which is what the trader has at stake (a 5x position up 5% in price is +25%); when no margin is known, over
    the entry notional (|size| × entry price), the unlevered return. Rounded to 4 decimal places."""
    size, entry = abs(position.size), position.entry_price
    mark, pnl = position.mark_price, position.unrealized_pnl
    if not mark and last_price:
        mark = last_price
        pnl = (mark - entry) * size * (-1 if position.side == Position.Side.SHORT else 1) if entry else Decimal(0)
    base = position.margin if position.margin > 0 else size * entry
    pct = (pnl * 100 / base).quantize(PNL_PERCENTAGE_PLACES) if base > 0 else None
    return PositionFigures(mark_price=mark, unrealized_pnl=pnl, notional=size * mark, pnl_percentage=pct)


def position_last_price_lookup() -> Callable[[Position], Decimal | None]:
    """position -> the latest traded price of its instrument (None when unknown), for position_figures. Only a
    position without a mark price needs one; the price feed is read once, on first need."""
    prices: dict[str, dict] | None = None

    def last_price(position: Position) -> Decimal | None:
        nonlocal prices
        if position.mark_price:
            return None
        if prices is None:
            prices = pubsub.latest_prices()
        last = (prices.get(f"{position.account.exchange}:{position.market}:{position.symbol}") or {}).get("last_price")
        return Decimal(str(last)) if last else None
    return last_price


@dataclass(frozen=True)
class EffectiveState:
    state: str  # TradingState
    scope: str  # "account" or "global": whose setting decided it
    reason: str


def trading_state_effective(*, own: str, own_reason: str, global_state: str, global_reason: str) -> EffectiveState:
    """The state that governs an account's new orders: the stricter of its own and the global one (the account's
    own when both are equal, so its reason is the one shown)."""
    if TRADING_STATE_STRICTNESS[TradingState(global_state)] > TRADING_STATE_STRICTNESS[TradingState(own)]:
        return EffectiveState(global_state, "global", global_reason)
    return EffectiveState(own, "account", own_reason)


@dataclass(frozen=True)
class TradingStateRow:
    account: str  # "" for the global state
    state: str
    reason: str
    since: datetime | None
    effective: EffectiveState


def trading_states(user=None) -> list[TradingStateRow]:
    """The global trading state, then each account's the user may see, with the state that governs it."""
    switch = TradingSwitch.current()
    rows = [TradingStateRow("", switch.trading_state, switch.trading_state_reason, switch.trading_state_at,
                            EffectiveState(switch.trading_state, "global", switch.trading_state_reason))]
    for account in accounts_for_user(user).order_by("name"):
        rows.append(TradingStateRow(
            account.name, account.trading_state, account.trading_state_reason, account.trading_state_at,
            trading_state_effective(own=account.trading_state, own_reason=account.trading_state_reason,
                                    global_state=switch.trading_state, global_reason=switch.trading_state_reason)))
    return rows


def last_control_change(what: str) -> ControlChange | None:
    """The latest recorded change of one control (`kill_switch_set`, `trading_state_set`, ...), None when it was
    never changed: what "last changed" means on the overview (the switch row's own time also moves with the global
    trading state, and is set when the row is first created)."""
    return ControlChange.objects.filter(what=what).select_related("user").order_by("-at").first()
