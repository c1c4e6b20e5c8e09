"""The order hot path's statements, composed once per process. Two writes, each one statement (one round trip):

- `order_insert_with_event`: a new order and its first event (placement, adoption);
- `order_update_with_event`: an order's change and the event recording it (every later change);
- `order_submitted_at_claim`: the worker's claim of an order's one send (a conditional UPDATE).

What they write is what Model.save() writes: the columns are the models' concrete fields, each value goes
through the field's own `pre_save` and `get_db_prep_save` (defaults, auto_now, JSON, decimals), columns with a
database default (the event's txid) are left to the database and read back, and the models' pre_save/post_save
signals are sent as save() sends them (the event observer counts and logs each change). Only the SQL
compilation and the second round trip are gone. tests/orders/test_statements.py writes the same orders and
changes through save() and through these and compares every column of the rows and events.

And `ComposedRead`: a read the ORM itself composes, once, whose SQL is then only bound to new values."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import NOT_PROVIDED, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError

from orders.models import Order, OrderEvent


def _quoted(fields) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(quote(f.column) for f in fields)


@cache
def _event_fields() -> tuple[list, list]:
    """(columns written, columns the database fills and the statement returns) of an event."""
    fields = [f for f in OrderEvent._meta.concrete_fields if not f.primary_key]
    written = [f for f in fields if f.db_default is NOT_PROVIDED]
    return written, [OrderEvent._meta.pk, *[f for f in fields if f.db_default is not NOT_PROVIDED]]


@cache
def _insert_sql() -> tuple[str, list, list, list]:
    order_fields = list(Order._meta.concrete_fields)
    written, returned = _event_fields()
    sql = (f"WITH o AS (INSERT INTO {Order._meta.db_table} ({_quoted(order_fields)}) "
           f"VALUES ({', '.join(['%s'] * len(order_fields))}) RETURNING 1) "
           f"INSERT INTO {OrderEvent._meta.db_table} ({_quoted(written)}) "
           f"SELECT {', '.join(['%s'] * len(written))} FROM o RETURNING {_quoted(returned)}")
    return sql, order_fields, written, returned


@cache
def _update_sql() -> tuple[str, list, list, list]:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    order_fields = [f for f in Order._meta.concrete_fields if not f.primary_key]
    written, returned = _event_fields()
    sets = ", ".join(f"{quote(f.column)} = %s" for f in order_fields)
    sql = (f"WITH o AS (UPDATE {Order._meta.db_table} SET {sets} WHERE {quote(Order._meta.pk.column)} = %s "
           f"RETURNING 1) "
           f"INSERT INTO {OrderEvent._meta.db_table} ({_quoted(written)}) "
           f"SELECT {', '.join(['%s'] * len(written))} FROM o RETURNING {_quoted(returned)}")
    return sql, order_fields, written, returned


def _values(obj, fields, *, add: bool) -> list:
    connection = connections[DEFAULT_DB_ALIAS]
    return [f.get_db_prep_save(f.pre_save(obj, add), connection) for f in fields]


def _saved(obj, *, created: bool) -> None:
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS
    post_save.send(sender=type(obj), instance=obj, created=created, update_fields=None, raw=False,
                   using=DEFAULT_DB_ALIAS)


def _execute(sql: str, params: list, event: OrderEvent, returned: list) -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise Order.DoesNotExist(f"order {event.order_id} is not in the ledger")
    for field, value in zip(returned, row, strict=True):
        setattr(event, field.attname, value)


def _signal_before(*objs) -> None:
    for obj in objs:
        pre_save.send(sender=type(obj), instance=obj, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None)


def order_insert_with_event(order: Order, event: OrderEvent) -> None:
    """INSERT the new `order` and its first `event` (both unsaved, the event for this order) in one statement.
    A client_order_id already used raises IntegrityError, as save() does, and writes neither."""
    sql, order_fields, written, returned = _insert_sql()
    _signal_before(order, event)
    params = _values(order, order_fields, add=True) + _values(event, written, add=True)
    _execute(sql, params, event, returned)
    _saved(order, created=True)
    _saved(event, created=True)


def order_update_with_event(order: Order, event: OrderEvent) -> None:
    """UPDATE every column of the (locked) `order` and INSERT its new `event`, in one statement."""
    sql, order_fields, written, returned = _update_sql()
    _signal_before(order, event)
    params = [*_values(order, order_fields, add=False), order.pk, *_values(event, written, add=True)]
    _execute(sql, params, event, returned)
    _saved(order, created=False)
    _saved(event, created=True)


@cache
def _claim_sql() -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    column = quote(Order._meta.get_field("submitted_at").column)
    return (f"UPDATE {Order._meta.db_table} SET {column} = %s "
            f"WHERE {quote(Order._meta.pk.column)} = %s AND {column} IS NULL")


def order_submitted_at_claim(order_id: str, at) -> bool:
    """`Order.objects.filter(pk=order_id, submitted_at__isnull=True).update(submitted_at=at) == 1`, composed once."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_claim_sql(), [at, order_id])
        return cursor.rowcount == 1


class ComposedRead:
    """A queryset the ORM compiles once; each use binds new values into the same SQL (compiling a query costs more
    CPU than running it). `build(**placeholders)` makes the queryset from placeholder values, which must differ
    from every constant of the query (those named `optional` may be left out of it: a query whose shape depends on a
    value, e.g. the caller's kind); `bind(**values)` is (sql, params) for those values, `objects(**values)` the
    model instances the queryset would give (select_related and annotations included), without compiling it again."""

    def __init__(self, build: Callable[..., QuerySet], *, optional: tuple[str, ...] = (), **placeholders):
        self._build, self._placeholders, self._optional = build, placeholders, set(optional)

    @cached_property
    def _compiled(self) -> _Compiled:
        """The SQL and what building instances from its rows needs; no compiler kept (it holds the composing
        thread's connection)."""
        compiler = self._build(**self._placeholders).query.get_compiler(DEFAULT_DB_ALIAS)
        try:
            sql = compiler.as_sql()
        except EmptyResultSet:  # e.g. an inactive user's accounts (.none()): no SQL, no rows
            return _Compiled(None, False, None)
        rows = None
        if compiler.klass_info is not None:  # a queryset of model instances (not values())
            klass_info, select = compiler.klass_info, compiler.select
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            rows = _ModelRows(
                model=klass_info["model"], start=start, end=end,
                init_list=[s[0].target.attname for s in select[start:end]],
                populators=get_related_populators(klass_info, select, DEFAULT_DB_ALIAS),
                annotations=dict(compiler.annotation_col_map or {}),
                converters=list(compiler.get_converters([s[0] for s in select[: compiler.col_count]]).items()))
        return _Compiled(sql, bool(compiler.query.select_for_update), rows)

    @cached_property
    def _composed(self) -> tuple[str, list, list[str | None]]:
        if self._compiled.sql is None:
            raise ValueError("the query is empty by construction: there is no SQL to bind")
        sql, params = self._compiled.sql
        names = {(type(v), v): name for name, v in self._placeholders.items()}
        slots = [names.get((type(p), p)) for p in params]
        missing = set(self._placeholders) - set(slots) - self._optional
        if missing:  # a value the ORM transformed (or folded into the SQL) cannot be bound again
            raise ValueError(f"placeholders {sorted(missing)} are not parameters of {sql}")
        return sql, list(params), slots

    def bind(self, **values) -> tuple[str, list]:
        sql, params, slots = self._composed
        return sql, [p if slot is None else values[slot] for p, slot in zip(params, slots, strict=True)]

    def objects(self, **values) -> list:
        """The model instances the queryset would give for these values (its select_related objects and annotations
        set as the ORM sets them), built from rows of the SQL composed once."""
        compiled = self._compiled
        if compiled.sql is None:
            return []
        m = compiled.rows
        if m is None:
            raise ValueError("objects() reads model rows: build() must return a queryset of a model, not values()")
        sql, params = self.bind(**values)
        connection = connections[DEFAULT_DB_ALIAS]
        if compiled.for_update and connection.get_autocommit():  # as the ORM refuses it
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = []
        for row in rows:
            if m.converters:  # as the compiler's apply_converters, with this thread's connection
                row = list(row)
                for position, (converters, expression) in m.converters:
                    for converter in converters:
                        row[position] = converter(row[position], expression, connection)
            obj = m.model.from_db(DEFAULT_DB_ALIAS, m.init_list, row[m.start:m.end])
            for populator in m.populators:
                populator.populate(row, obj)
            for name, position in m.annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found


@dataclass(frozen=True)
class _ModelRows:
    """What ModelIterable works out per query, worked out once: where the model's columns are in a row, how the
    related objects and annotations are set, each column's converters."""
    model: type
    start: int
    end: int
    init_list: list[str]
    populators: list
    annotations: dict[str, int]
    converters: list


@dataclass(frozen=True)
class _Compiled:
    sql: tuple[str, tuple] | None  # None: the query is empty by construction
    for_update: bool
    rows: _ModelRows | None
