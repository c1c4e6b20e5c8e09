"""Row locks, in one place so every writer takes them the same way (own rows only, ordered by pk)."""
from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account
from orders.models import Order


def order_qs_for_update() -> QuerySet[Order]:
    return Order.objects.select_for_update(of=("self",)).select_related("account").order_by("pk")


def order_lock(order_id: str) -> Order:
    """Lock one order row; raises Order.DoesNotExist."""
    return order_qs_for_update().get(pk=order_id)


def account_lock(account_id: int) -> Account:
    """Serialises placements on one account, so limits that count open orders cannot be raced past."""
    return Account.objects.select_for_update(of=("self",)).get(pk=account_id)
