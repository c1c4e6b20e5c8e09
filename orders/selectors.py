"""Reads of orders and their history, scoped to the accounts the caller may see (`user=None`: all)."""
from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts.models import Account
from accounts.selectors import account_get, accounts_for_user, market_clean
from oms_project.errors import InvalidInput, NotFound, echo
from orders.models import OPEN_STATUSES, Order, OrderEvent, Status
from orders.symbols import symbol_normalize

OPEN = "OPEN"


def order_get(order_id: str, user=None) -> Order:
    order = (Order.objects.select_related("account")
             .filter(pk=order_id, account__in=accounts_for_user(user)).first()) if order_id else None
    if order is None:
        raise NotFound(f"order {echo(order_id)} not found", field="order_id")
    return order


def status_filter(status: str) -> tuple[str, ...]:
    """"OPEN" = every working status; otherwise one status as written (case-insensitive)."""
    value = (status or "").strip().upper()
    if value == OPEN:
        return tuple(OPEN_STATUSES)
    if value not in Status.values:
        raise InvalidInput(f"status must be OPEN or one of {', '.join(Status.values)}, not {echo(status)}", field="status")
    return (value,)


def order_list(*, user=None, status: str = "", symbol: str = "", exchange: str = "", account: str = "",
               market: str = "") -> QuerySet[Order]:
    """Orders newest first; empty filters mean "all the caller may see"."""
    qs = Order.objects.select_related("account").filter(account__in=accounts_for_user(user))
    if account:
        qs = qs.filter(account=account_get(account, user))
    if status:
        qs = qs.filter(status__in=status_filter(status))
    if symbol:
        qs = qs.filter(symbol=symbol_normalize(symbol))
    if exchange:
        qs = qs.filter(exchange=exchange.strip().lower())
    if market:
        qs = qs.filter(market=market_clean(market))
    return qs.order_by("-created_at", "-id")


def order_events_since(*, sequence: int, accounts: Iterable[Account | str] | QuerySet) -> QuerySet[OrderEvent]:
    """Events after the global sequence (OrderEvent.id) for the given accounts (objects or names), oldest first."""
    if isinstance(accounts, QuerySet):
        scope = Q(order__account__in=accounts)
    else:
        items = list(accounts)
        scope = (Q(order__account__name__in=[a for a in items if isinstance(a, str)])
                 | Q(order__account_id__in=[a.pk for a in items if not isinstance(a, str)]))
    return (OrderEvent.objects.select_related("order", "order__account")
            .filter(scope, id__gt=sequence).order_by("id"))
