"""Row locks, in one place so every writer takes them the same way (own rows only, ordered by pk)."""
from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import QuerySet, Subquery

from accounts.models import Account, TradingSwitch
from accounts.selectors import account_query, accounts_for_user
from orders.models import Order
from orders.statements import ComposedRead


def order_qs_for_update() -> QuerySet[Order]:
    return Order.objects.select_for_update(of=("self",)).select_related("account").order_by("pk")


# Every venue answer recorded locks its order: composed once (orders.statements.ComposedRead).
_ORDER_LOCK = ComposedRead(lambda order_id: order_qs_for_update().filter(pk=order_id), order_id="\x1forder-id")


def order_lock(order_id: str) -> Order:
    """Lock one order row (with its account); raises Order.DoesNotExist."""
    found = _ORDER_LOCK.objects(order_id=order_id)
    if not found:
        raise Order.DoesNotExist(f"order {order_id} does not exist")
    return found[0]


def account_lock(account_id: int) -> Account:
    """Serialises placements on one account, so limits that count open orders cannot be raced past."""
    return Account.objects.select_for_update(of=("self",)).get(pk=account_id)


def account_lock_only(account_id: int) -> None:
    """account_lock's lock, for a caller that needs none of the row (a statement composed once, nothing read)."""
    with connection.cursor() as cursor:
        cursor.execute(_account_lock_sql(), [account_id])
        if cursor.fetchone() is None:
            raise Account.DoesNotExist(f"account {account_id} does not exist")


@cache
def _account_lock_sql() -> str:
    quote = connection.ops.quote_name
    return f"SELECT 1 FROM {quote(Account._meta.db_table)} WHERE {quote(Account._meta.pk.column)} = %s FOR UPDATE"


def accounts_for_placement() -> QuerySet[Account]:
    """Accounts with what the pre-trade check needs (orders.risk), read in the same query and without a lock: the
    risk limit (`risk_limit`), the global kill switch (`kill_switch_on`, `kill_switch_reason`) and the global trading
    state (`global_trading_state`, `global_trading_state_reason`; None before the switch row exists)."""
    switch = TradingSwitch.objects.filter(pk=1)
    return (Account.objects.select_related("risk_limit")
            .annotate(kill_switch_on=Subquery(switch.values("kill_switch")),
                      kill_switch_reason=Subquery(switch.values("reason")),
                      global_trading_state=Subquery(switch.values("trading_state")),
                      global_trading_state_reason=Subquery(switch.values("trading_state_reason"))))


def _stand_in(kind: tuple | None, user_id: int):
    """A user of the same kind as the caller (active, superuser), for composing its query; its id a placeholder."""
    if kind is None:
        return None
    from django.contrib.auth import get_user_model

    is_active, is_superuser = kind
    return get_user_model()(pk=user_id, is_active=is_active, is_superuser=is_superuser)


_USER_ID = -1_000_009


@cache
def _placement_read(kind: tuple | None) -> ComposedRead:
    """The placement's account read (account_query with accounts_for_placement, trade=True) for one kind of caller,
    composed once."""
    def build(name, user_id):
        return account_query(name, _stand_in(kind, user_id), trade=True, base=accounts_for_placement()).order_by("pk")[:1]
    return ComposedRead(build, optional=("user_id",), name="\x1faccount-name", user_id=_USER_ID)  # the system's: no user


def _kind(user) -> tuple | None:
    """What accounts.selectors.accounts_for_user and account_query branch on: the system, or (active, superuser)."""
    return None if user is None else (bool(user.is_active), bool(user.is_superuser))


def _user_id(user) -> int:
    return _USER_ID if user is None else user.pk


def placement_account_read(name: str, user) -> Account | None:
    """What `account_query(name, user, trade=True, base=accounts_for_placement()).first()` reads, without composing
    the query again (accounts.selectors.account_get's `read`)."""
    found = _placement_read(_kind(user)).objects(name=name, user_id=_user_id(user))
    return found[0] if found else None


@cache
def _visible_order_lock(kind: tuple | None) -> ComposedRead:
    def build(order_id, user_id):
        return order_qs_for_update().filter(pk=order_id, account__in=accounts_for_user(_stand_in(kind, user_id)))[:1]
    return ComposedRead(build, optional=("user_id",), order_id="\x1forder-id", user_id=_USER_ID)


def visible_order_lock(order_id: str, user) -> Order | None:
    """The order if `user` may see it (accounts.selectors.accounts_for_user), locked, with its account: one query,
    composed once per kind of caller. None when there is no such order or the user may not see it."""
    found = _visible_order_lock(_kind(user)).objects(order_id=order_id, user_id=_user_id(user))
    return found[0] if found else None
