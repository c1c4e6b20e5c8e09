"""Reads of accounts, scoped to what the caller may see. `user=None` is the trusted system.

A foreign account is reported exactly like a missing one (NotFound), so names do not leak."""
from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account, AccountMember, Balance, Market, Position
from oms_project.errors import InvalidInput, NotFound, PermissionDenied, echo


def _sees_everything(user) -> bool:
    return user is None or (user.is_active and user.is_superuser)


def accounts_for_user(user=None, *, trade: bool = False) -> QuerySet[Account]:
    """Accounts the user is a member of (trader role when `trade`); every account for the system and superusers."""
    qs = Account.objects.all()
    if _sees_everything(user):
        return qs
    if not user.is_active:
        return qs.none()
    members = AccountMember.objects.filter(user=user)
    if trade:
        members = members.filter(role=AccountMember.Role.TRADER)
    return qs.filter(pk__in=members.values("account_id"))


def account_get(name: str, user=None, *, trade: bool = False) -> Account:
    """The account named `name` if the user may see it (and trade it, when `trade`)."""
    if not name:
        raise InvalidInput("account is required", field="account_id")
    account = accounts_for_user(user).filter(name=name).first()
    if account is None:
        raise NotFound(f"account {echo(name)} not found", field="account_id")
    if trade and not accounts_for_user(user, trade=True).filter(pk=account.pk).exists():
        raise PermissionDenied(f"you may view account {echo(name)} but not trade on it", field="account_id")
    return account


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


def position_list(*, account: str = "", exchange: str = "", user=None) -> QuerySet[Position]:
    accounts = accounts_for_user(user)
    if account:
        accounts = accounts.filter(pk=account_get(account, user).pk)
    if exchange:
        accounts = accounts.filter(exchange=exchange.strip().lower())
    return Position.objects.filter(account__in=accounts).select_related("account").order_by("account__name", "symbol")
