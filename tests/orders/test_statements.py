"""orders.statements writes exactly what Model.save() writes: the same orders and changes, generated, written
through both, compared column by column (rows and events), and the event observer told the same way."""
from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchanges.models import Instrument
from orders import statements
from orders.models import Order, OrderEvent, Status

# Columns that differ between any two writes by construction: identities and the moments of writing.
ORDER_OWN = {"id", "created_at", "updated_at", "client_order_id"}
EVENT_OWN = {"id", "order_id", "at", "txid", "txid_snapshot"}

# PostgreSQL text and jsonb hold no NUL, for either writer.
def _text(max_size: int):
    return st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=max_size)


amounts = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("100000"), places=8)
_ids = itertools.count()

orders = st.fixed_dictionaries({
    "market": st.sampled_from(["spot", "futures"]),
    "symbol": st.sampled_from(["BTCUSDT", "ETHUSDT"]),
    "side": st.sampled_from(["BUY", "SELL"]),
    "order_type": st.sampled_from(["LIMIT", "MARKET"]),
    "time_in_force": st.sampled_from(["", "GTC", "IOC", "FOK"]),
    "reduce_only": st.booleans(),
    "post_only": st.booleans(),
    "leverage": st.one_of(st.none(), st.integers(1, 125)),
    "quantity": amounts,
    "price": st.one_of(st.none(), amounts),
    "with_client_id": st.booleans(),
    "payload": st.dictionaries(_text(8), st.one_of(st.none(), _text(12), st.integers())),
})

changes = st.fixed_dictionaries({
    "status": st.sampled_from([Status.NEW, Status.PARTIALLY_FILLED, Status.CANCELLED, Status.REJECTED]),
    "exchange_order_id": st.text(alphabet="0123456789", max_size=12),
    "filled_share": st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1)]),
    "average_price": st.one_of(st.none(), amounts),
    "reason": _text(40),
    "payload": st.dictionaries(_text(8), _text(12)),
})


def _order(account, spec: dict) -> tuple[Order, OrderEvent]:
    client_id = f"prop-{next(_ids)}" if spec["with_client_id"] else None
    order = Order(account=account, exchange=account.exchange, market=spec["market"], symbol=spec["symbol"],
                  side=spec["side"], order_type=spec["order_type"], quantity=spec["quantity"], price=spec["price"],
                  client_order_id=client_id, time_in_force=spec["time_in_force"], reduce_only=spec["reduce_only"],
                  post_only=spec["post_only"], leverage=spec["leverage"], status=Status.PENDING_NEW, version=1)
    event = OrderEvent(order=order, sequence=1, kind="PLACED", from_status="", to_status=order.status,
                       source="api", payload=spec["payload"])
    return order, event


def _change(order: Order, change: dict) -> OrderEvent:
    from_status = order.status
    order.status = change["status"]
    order.exchange_order_id = change["exchange_order_id"]
    order.filled_quantity = (order.quantity * change["filled_share"]).quantize(Decimal("1e-8"))
    order.average_price = change["average_price"]
    order.reason = change["reason"]
    order.version += 1
    return OrderEvent(order=order, sequence=order.version, kind="VENUE", from_status=from_status,
                      to_status=order.status, source="worker", payload=change["payload"])


def _row(model, pk, own: set) -> dict:
    return {k: v for k, v in model.objects.filter(pk=pk).values().get().items() if k not in own}


def _same_as_stored(obj) -> None:
    """The instance afterwards holds what the database has (as it does after save())."""
    stored = type(obj).objects.filter(pk=obj.pk).values().get()
    for field, value in stored.items():
        if field not in ("txid_snapshot",):
            assert getattr(obj, field) == value, field


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=orders, change=changes)
def test_an_order_its_change_and_their_events_are_written_as_save_writes_them(account, spec, change):
    observed = []

    def observe(sender, instance, created, **kwargs):
        observed.append((sender, instance.sequence, created))

    post_save.connect(observe, sender=OrderEvent, dispatch_uid="test-statements")
    try:
        by_orm, orm_event = _order(account, spec)
        by_orm.save(force_insert=True)
        orm_event.save()
        lean, lean_event = _order(account, spec)
        statements.order_insert_with_event(lean, lean_event)
        assert _row(Order, lean.pk, ORDER_OWN) == _row(Order, by_orm.pk, ORDER_OWN)
        assert _row(OrderEvent, lean_event.pk, EVENT_OWN) == _row(OrderEvent, orm_event.pk, EVENT_OWN)
        _same_as_stored(lean)
        _same_as_stored(lean_event)
        assert lean_event.txid is not None and lean_event.txid == orm_event.txid  # the same transaction

        orm_change = _change(by_orm, change)
        by_orm.save()
        orm_change.save()
        lean_change = _change(lean, change)
        statements.order_update_with_event(lean, lean_change)
        assert _row(Order, lean.pk, ORDER_OWN) == _row(Order, by_orm.pk, ORDER_OWN)
        assert _row(OrderEvent, lean_change.pk, EVENT_OWN) == _row(OrderEvent, orm_change.pk, EVENT_OWN)
        _same_as_stored(lean)
        assert lean_change.pk > orm_change.pk
    finally:
        post_save.disconnect(dispatch_uid="test-statements", sender=OrderEvent)
    assert observed == [(OrderEvent, 1, True), (OrderEvent, 1, True), (OrderEvent, 2, True), (OrderEvent, 2, True)]


def test_a_client_order_id_used_before_writes_neither_row(account):
    first, event = _order(account, {**_plain(), "with_client_id": True})
    statements.order_insert_with_event(first, event)
    again, again_event = _order(account, _plain())
    again.client_order_id = first.client_order_id
    with pytest.raises(IntegrityError), transaction.atomic():
        statements.order_insert_with_event(again, again_event)
    assert not Order.objects.filter(pk=again.pk).exists()
    assert OrderEvent.objects.filter(order=first).count() == 1 and OrderEvent.objects.count() == 1


def test_a_change_of_an_order_not_in_the_ledger_writes_no_event(account):
    order, _ = _order(account, _plain())
    with pytest.raises(Order.DoesNotExist):
        statements.order_update_with_event(order, _change(order, {
            "status": Status.NEW, "exchange_order_id": "1", "filled_share": Decimal(0), "average_price": None,
            "reason": "", "payload": {}}))
    assert OrderEvent.objects.count() == 0


def _plain() -> dict:
    return {"market": "spot", "symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "time_in_force": "GTC",
            "reduce_only": False, "post_only": False, "leverage": None, "quantity": Decimal("0.01"),
            "price": Decimal("20000"), "with_client_id": False, "payload": {}}


def test_a_composed_read_binds_new_values_into_the_sql_the_orm_composed(account, btcusdt):
    from tests import factories

    factories.instrument_create(symbol="ETHUSDT")
    factories.instrument_create(market="futures")
    read = statements.ComposedRead(lambda exchange, market, symbol: Instrument.objects.filter(
        exchange=exchange, market=market, symbol=symbol, active=True).values_list("symbol", "market"),
        exchange="\x1fe", market="\x1fm", symbol="\x1fs")
    for market, symbol in (("spot", "BTCUSDT"), ("spot", "ETHUSDT"), ("futures", "BTCUSDT"), ("futures", "ETHUSDT")):
        sql, params = read.bind(exchange="binance", market=market, symbol=symbol)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = [tuple(row) for row in cursor.fetchall()]
        assert rows == list(Instrument.objects.filter(exchange="binance", market=market, symbol=symbol, active=True)
                            .values_list("symbol", "market"))


def test_a_placeholder_the_query_does_not_keep_as_a_parameter_is_refused(db):
    read = statements.ComposedRead(lambda symbol: Instrument.objects.filter(symbol=symbol.lower()), symbol="\x1fS")
    with pytest.raises(ValueError, match="placeholders"):
        read.bind(symbol="BTCUSDT")


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_composed_model_reads_give_the_instances_the_orm_gives(account, btcusdt, no_prices):
    """The worker's and the stream's order reads (the account joined, the credential's stamp annotated) and the
    recording's lock, composed once, against the same querysets run by the ORM."""
    from accounts.models import Credential
    from execution import venue_orders
    from orders import services
    from orders.lock_objects import order_lock, order_qs_for_update

    Credential.objects.get_or_create(account=account, defaults={"api_key_encrypted": "k", "secret_encrypted": "s"})
    placed = [services.order_place(account="main", symbol="BTCUSDT", side=side, quantity=Decimal("0.01"),
                                   price=Decimal("20000"), hand_off=False) for side in ("BUY", "SELL")]
    Order.objects.filter(pk=placed[1].pk).update(status=Status.NEW, exchange_order_id="77")
    for order in placed:
        composed, orm = venue_orders.load(order.pk), venue_orders.loaded().get(pk=order.pk)
        assert _fields(composed) == _fields(orm) and _fields(composed.account) == _fields(orm.account)
        assert composed.credential_stamp == orm.credential_stamp is not None
        assert composed.side == order.side and not composed._state.adding
        with transaction.atomic():
            locked = order_lock(order.pk)
            assert _fields(locked) == _fields(order_qs_for_update().get(pk=order.pk))
            assert locked.account.name == "main"
    by_exchange_id = venue_orders.account_order(account.pk, order_id=None, market="spot", exchange_id="77")
    assert by_exchange_id is not None and by_exchange_id.pk == placed[1].pk
    assert venue_orders.account_order(account.pk, order_id=placed[0].pk, market="spot", exchange_id="77").pk == placed[0].pk
    assert venue_orders.account_order(account.pk + 1, order_id=placed[0].pk, market="spot", exchange_id="77") is None
    assert venue_orders.account_order(account.pk, order_id="other", market="futures", exchange_id="77") is None
    with pytest.raises(Order.DoesNotExist):
        venue_orders.load("no-such-order")
    with pytest.raises(Order.DoesNotExist), transaction.atomic():
        order_lock("no-such-order")


def test_a_composed_lock_outside_a_transaction_is_refused_as_the_orm_refuses_it(transactional_db):
    from orders.lock_objects import order_lock

    with pytest.raises(transaction.TransactionManagementError):
        order_lock("any")


def test_the_placements_composed_account_read_gives_what_account_query_gives_to_every_kind_of_caller(account):
    """The placement's account (with its risk limit, the switches and whether the caller may trade it), composed once
    per kind of caller, against account_query run by the ORM: the system, a superuser, a trader, a viewer, a
    stranger and a deactivated trader; with and without a risk limit."""
    from accounts.models import AccountMember, RiskLimit
    from accounts.selectors import account_query
    from orders.lock_objects import accounts_for_placement, placement_account_read
    from tests import factories

    viewer, stranger = factories.user_create(), factories.user_create()
    factories.account_create(name="other", member=viewer, role=AccountMember.Role.VIEWER)
    AccountMember.objects.create(account=account, user=viewer, role=AccountMember.Role.VIEWER)
    gone = factories.user_create(is_active=False)
    AccountMember.objects.create(account=account, user=gone, role=AccountMember.Role.TRADER)
    callers = [None, factories.user_create(superuser=True), AccountMember.objects.get(account=account,
               role=AccountMember.Role.TRADER, user__username="trader").user, viewer, stranger, gone]
    seen = []
    for limited in (False, True):
        if limited:
            RiskLimit.objects.create(account=account, max_open_orders=3, allowed_symbols=["BTCUSDT"])  # JSON: converted
        for user in callers:
            for name in ("main", "other", "missing"):
                orm = account_query(name, user, trade=True, base=accounts_for_placement()).first()
                composed = placement_account_read(name, user)
                assert (composed is None) == (orm is None), (name, user)
                if orm is None:
                    continue
                seen.append((name, getattr(user, "username", None)))
                assert _fields(composed) == _fields(orm)
                for attr in ("oms_may_trade", "kill_switch_on", "global_trading_state"):
                    assert getattr(composed, attr, "absent") == getattr(orm, attr, "absent"), attr
                assert hasattr(composed, "risk_limit") == hasattr(orm, "risk_limit") == (limited and name == "main")
                if limited and name == "main":
                    assert _fields(composed.risk_limit) == _fields(orm.risk_limit)
                    assert composed.risk_limit.allowed_symbols == ["BTCUSDT"] and composed.risk_limit.max_open_orders == 3
    assert ("main", "trader") in seen and ("other", None) in seen and not any(u == stranger.username for _, u in seen)


def test_the_cancels_composed_lock_finds_what_the_orm_finds_for_every_kind_of_caller(account, btcusdt, no_prices):
    """The cancel's read (the order among those the caller may see, locked), composed once per kind of caller,
    against the same queryset run by the ORM."""
    from accounts.models import AccountMember
    from accounts.selectors import accounts_for_user
    from orders import services
    from orders.lock_objects import order_qs_for_update, visible_order_lock
    from tests import factories

    viewer, stranger, gone = factories.user_create(), factories.user_create(), factories.user_create(is_active=False)
    AccountMember.objects.create(account=account, user=viewer, role=AccountMember.Role.VIEWER)
    AccountMember.objects.create(account=account, user=gone, role=AccountMember.Role.TRADER)
    order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                 price=Decimal("20000"), hand_off=False)
    callers = [None, factories.user_create(superuser=True), AccountMember.objects.get(
        account=account, role=AccountMember.Role.TRADER, user__username="trader").user, viewer, stranger, gone]
    found = []
    for user in callers:
        for order_id in (order.pk, "missing"):
            with transaction.atomic():
                orm = order_qs_for_update().filter(pk=order_id, account__in=accounts_for_user(user)).first()
                composed = visible_order_lock(order_id, user)
            assert (composed is None) == (orm is None), (order_id, user)
            if orm is not None:
                assert _fields(composed) == _fields(orm) and _fields(composed.account) == _fields(orm.account)
                found.append(getattr(user, "username", None))
    assert len(found) == 4 and stranger.username not in found and gone.username not in found
