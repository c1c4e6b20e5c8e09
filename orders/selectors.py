"""Reads of orders and their history, scoped to the accounts the caller may see (`user=None`: all)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import account_get, accounts_for_user, market_clean
from infra.errors import InvalidInput, NotFound, echo
from orders.models import OPEN_STATUSES, PENDING_STATUSES, Order, OrderEvent, Status
from venues.symbols import symbol_normalize

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

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


# The most rows one page of a list returns, on every adapter (gRPC ListOrders `limit`, as oms.proto documents it,
# and REST `page_size`); a larger request gets this many and a way to the next page.
MAX_PAGE_SIZE = 1000


def order_filter(orders: QuerySet[Order], *, user=None, status: str = "", symbol: str = "", exchange: str = "",
                 account: str = "", market: str = "") -> QuerySet[Order]:
    """The list filters of orders, one rule each, for every adapter (gRPC ListOrders, REST /orders/). Empty means
    "all the caller may see"; `status` is a status or OPEN (every working status); `symbol` in any spelling
    (venues.symbols). An account the caller may not see is NotFound, exactly as a missing one (so names do not
    leak), never an empty page."""
    if account:
        orders = orders.filter(account=account_get(account, user))
    if status:
        orders = orders.filter(status__in=status_filter(status))
    if symbol:
        orders = orders.filter(symbol=symbol_normalize(symbol))
    if exchange:
        orders = orders.filter(exchange=exchange.strip().lower())
    if market:
        orders = orders.filter(market=market_clean(market))
    return orders


# An order the venue has not settled (PENDING_NEW, PENDING_CANCEL) for longer than this needs a look (the admin's
# overview counts them, its order list colours their age).
PENDING_ALERT_SECONDS = 10.0


def pending_since(order: Order) -> datetime | None:
    """Since when the order waits for the venue: a PENDING_NEW order since it was placed, a PENDING_CANCEL one since
    its last change (the cancel request); None when it is not pending."""
    if order.status == Status.PENDING_NEW:
        return order.created_at
    if order.status == Status.PENDING_CANCEL:
        return order.updated_at
    return None


def orders_pending_longer_than(seconds: float, *, orders: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """The orders (of `orders`, default all) that pending_since says have waited longer than `seconds`."""
    cutoff = timezone.now() - timedelta(seconds=seconds)
    orders = Order.objects.all() if orders is None else orders
    # status IN (…) as well: the partial index of pending orders (order_pending) answers without reading the rest.
    return orders.filter(status__in=PENDING_STATUSES).filter(Q(status=Status.PENDING_NEW, created_at__lt=cutoff)
                                                             | Q(status=Status.PENDING_CANCEL, updated_at__lt=cutoff))


def open_order_counts(cap: int) -> dict[int, int]:
    """account id -> how many orders it has open, counted up to cap + 1 (more than `cap` says enough), in one query:
    each account's count stops after cap + 1 rows of the open orders' partial index, where a grouped COUNT would read
    every open order of the ledger."""
    statuses = list(OPEN_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, (SELECT COUNT(*) FROM (SELECT 1 FROM {Order._meta.db_table} o WHERE o.account_id = a.id"
            f" AND o.status IN ({', '.join(['%s'] * len(statuses))}) LIMIT %s) capped) FROM {Account._meta.db_table} a",
            [*statuses, cap + 1])
        return dict(cursor.fetchall())


def order_any_id(term: str) -> Q:
    """Orders whose id, client order id or venue order id is exactly `term` (each an index look-up)."""
    return Q(id=term) | Q(client_order_id=term) | Q(exchange_order_id=term)


def order_ids_matching(term: str) -> list[str]:
    """The ids of the orders order_any_id finds: rows that belong to an order (fills, events) are then matched by their
    own order_id index rather than by an OR across the join, which PostgreSQL answers by reading both tables."""
    return list(Order.objects.filter(order_any_id(term)).values_list("id", flat=True))


def order_list(*, user=None, **filters: str) -> QuerySet[Order]:
    """The caller's orders (order_filter's filters), newest first."""
    orders = Order.objects.select_related("account").filter(account__in=accounts_for_user(user))
    return order_filter(orders, user=user, **filters).order_by("-created_at", "-id")


def _event_scope(accounts: Iterable[Account | str] | QuerySet) -> Q:
    if isinstance(accounts, QuerySet):
        return Q(order__account__in=accounts)
    items = list(accounts)
    return (Q(order__account__name__in=[a for a in items if isinstance(a, str)])
            | Q(order__account_id__in=[a.pk for a in items if not isinstance(a, str)]))


class _VisibleInSnapshot(Func):
    """pg_visible_in_snapshot(txid, snapshot): had transaction `txid` committed when `snapshot` was taken?"""

    output_field = BooleanField()

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, function: str | None = None,
               template: str | None = None, arg_joiner: str | None = None, **extra_context: Any) -> tuple[str, tuple]:
        (txid, txid_params), (snapshot, snapshot_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"pg_visible_in_snapshot(({txid})::text::xid8, ({snapshot})::pg_snapshot)", (*txid_params, *snapshot_params)


def order_events_to_resume(*, since: int, accounts: Iterable[Account | str] | QuerySet) -> QuerySet[OrderEvent]:
    """What a stream client that has received event `since` may not have received: every event after it, and the
    events with lower ids that committed after it was written (ids are taken at insert, not at commit): those
    whose transaction had not committed in the snapshot `since` was written in, other than its own (published
    together with it, in order). The client may have received some of those live already and drops them by
    sequence."""
    written = (OrderEvent.objects.filter(id__lte=since).order_by("-id").values_list("txid", "txid_snapshot")[:1])
    txid, snapshot = next(iter(written), (None, None))
    window = Q(id__gt=since)
    events = OrderEvent.objects.select_related("order", "order__account")
    if snapshot:
        oldest_running = int(snapshot.split(":", 1)[0])  # every transaction below it had finished: the index bound
        events = events.alias(committed_before=_VisibleInSnapshot(F("txid"), Value(snapshot)))
        window |= Q(id__lt=since, txid__gte=oldest_running, committed_before=False) & ~Q(txid=txid)
    return events.filter(_event_scope(accounts), window).order_by("id")
