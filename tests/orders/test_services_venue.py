"""What the venue tells us: acks, rejects, fills (trade by trade and cumulative), cancels, stale and illegal reports."""
import threading
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from infra import pubsub
from infra.errors import FailedPrecondition, InvalidInput, NotFound
from orders import handoff, lifecycle, services
from orders.lifecycle import EventKind, IllegalTransition
from orders.models import TERMINAL_STATUSES, Fill, Order, OrderEvent, Status
from orders.publish import publish_order_update
from tests import factories


def snapshot(order):
    """Everything a refused change must leave exactly as it was."""
    order.refresh_from_db()
    return ({f.name: getattr(order, f.name) for f in Order._meta.concrete_fields},
            list(order.events.values_list("id", flat=True)), list(order.fills.values_list("id", flat=True)))


def apply(order, status, **kw):
    return services.order_apply_venue_update(order_id=order.id, status=status, **kw)


def fill(order, trade_id, qty, price="20000", fee="0.01"):
    return services.fill_record(order_id=order.id, trade_id=trade_id, price=Decimal(price), quantity=Decimal(qty),
                                fee=Decimal(fee), fee_asset="USDT", is_maker=False, executed_at=factories.executed_at())


@pytest.fixture
def order(account, btcusdt, no_prices):
    return factories.order_place(account, quantity=Decimal("1"))


def test_ack_then_fills_then_filled(order):
    # when
    apply(order, "NEW", exchange_order_id="X1")
    fill(order, "t1", "0.4", price="20000")
    fill(order, "t2", "0.6", price="21000")
    # then
    order.refresh_from_db()
    assert (order.status, order.exchange_order_id, order.filled_quantity) == (Status.FILLED, "X1", Decimal("1"))
    assert order.average_price == Decimal("20600")
    assert (order.cumulative_fee, order.fee_asset) == (Decimal("0.02"), "USDT")
    assert list(order.events.values_list("sequence", "kind", "to_status")) == [
        (1, EventKind.PLACED, Status.PENDING_NEW), (2, EventKind.ACCEPTED, Status.NEW),
        (3, EventKind.FILL, Status.PARTIALLY_FILLED), (4, EventKind.FILL, Status.FILLED)]
    assert order.version == 4


def test_cumulative_report_and_its_trades_are_not_counted_twice(order):
    # given the venue reports 0.5 filled before the trades are fetched
    apply(order, "PARTIALLY_FILLED", filled_quantity=Decimal("0.5"), average_price=Decimal("20100"))
    # when the two trades making up that 0.5 arrive
    fill(order, "a", "0.2", price="20000")
    fill(order, "b", "0.3", price="20000")
    # then
    order.refresh_from_db()
    assert order.filled_quantity == Decimal("0.5") and order.status == Status.PARTIALLY_FILLED
    assert order.average_price == Decimal("20000")


def test_same_trade_twice_is_one_fill(order):
    # given
    assert fill(order, "t1", "0.25") is not None
    before = snapshot(order)
    # when
    again = fill(order, "t1", "0.25")
    # then
    assert again is None
    assert snapshot(order) == before


def test_same_trade_ingested_twice_concurrently_yields_one_fill(order_lane, account, btcusdt, no_prices):
    # given
    order = factories.order_place(account, quantity=Decimal("1"))
    apply(order, "NEW")
    barrier = threading.Barrier(4)
    results, errors = [], []

    def ingest(trade_id):
        try:
            barrier.wait(timeout=10)
            results.append(fill(order, trade_id, "0.3"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    # when two copies of trade T and two of trade U arrive at once
    threads = [threading.Thread(target=ingest, args=(t,)) for t in ("T", "T", "U", "U")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then
    assert errors == []
    assert sorted(type(r).__name__ for r in results) == ["Fill", "Fill", "NoneType", "NoneType"]
    assert sorted(Fill.objects.filter(order=order).values_list("trade_id", flat=True)) == ["T", "U"]
    order.refresh_from_db()
    assert order.filled_quantity == Decimal("0.6") and order.status == Status.PARTIALLY_FILLED
    assert order.events.filter(kind=EventKind.FILL).count() == 2


def test_trades_beyond_the_quantity_are_refused(order):
    fill(order, "t1", "0.8")
    before = snapshot(order)
    with pytest.raises(IllegalTransition):
        fill(order, "t2", "0.3")
    assert snapshot(order) == before


@pytest.mark.parametrize("kwargs,field", [
    ({"quantity": Decimal("0")}, "quantity"), ({"price": Decimal("NaN")}, "price"), ({"trade_id": ""}, "trade_id"),
])
def test_malformed_trade_is_refused(order, kwargs, field):
    before = snapshot(order)
    args = {"order_id": order.id, "trade_id": "t", "price": Decimal("1"), "quantity": Decimal("0.1"), "fee": Decimal("0"),
            "fee_asset": "USDT", "is_maker": True, "executed_at": factories.executed_at(), **kwargs}
    with pytest.raises(InvalidInput) as err:
        services.fill_record(**args)
    assert err.value.field == field
    assert snapshot(order) == before


def test_trade_of_a_cancelled_order_still_counts(order):
    # given the cancel won the race on our side, but the venue had filled 0.2 first
    apply(order, "NEW")
    apply(order, "CANCELLED", reason="user")
    # when
    fill(order, "late", "0.2")
    # then
    order.refresh_from_db()
    assert (order.status, order.filled_quantity, order.reason) == (Status.CANCELLED, Decimal("0.2"), "user")


@pytest.mark.parametrize("path,report", [
    (["FILLED"], "CANCELLED"), (["FILLED"], "EXPIRED"), (["CANCELLED"], "FILLED"), (["REJECTED"], "NEW"),
    (["REJECTED"], "EXPIRED"), (["EXPIRED"], "CANCELLED"), (["NEW"], "REJECTED"),
])
def test_illegal_report_is_refused_and_changes_nothing(order, path, report):
    # given
    for status in path:
        apply(order, status)
    before = snapshot(order)
    # when
    with pytest.raises(FailedPrecondition):
        apply(order, report, filled_quantity=Decimal("0.5") if report == "NEW" else None)
    # then
    assert snapshot(order) == before


def test_filled_beyond_quantity_is_refused_and_changes_nothing(order):
    before = snapshot(order)
    with pytest.raises(IllegalTransition):
        apply(order, "PARTIALLY_FILLED", filled_quantity=Decimal("1.5"))
    assert snapshot(order) == before


def test_stale_report_is_recorded_not_applied(order):
    # given
    apply(order, "PARTIALLY_FILLED", filled_quantity=Decimal("0.5"))
    # when an older report (0.2 filled) arrives late
    apply(order, "PARTIALLY_FILLED", filled_quantity=Decimal("0.2"))
    # then
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (Status.PARTIALLY_FILLED, Decimal("0.5"))
    last = order.events.last()
    assert (last.kind, last.from_status, last.to_status) == (EventKind.STALE_IGNORED, Status.PARTIALLY_FILLED,
                                                             Status.PARTIALLY_FILLED)
    assert last.payload["filled_quantity"] == "0.2"


def test_duplicate_report_changes_nothing(order):
    apply(order, "NEW", exchange_order_id="X")
    before = snapshot(order)
    apply(order, "NEW", exchange_order_id="X")
    assert snapshot(order) == before


def test_unknown_order_is_not_found(db):
    with pytest.raises(NotFound):
        services.order_apply_venue_update(order_id="missing", status="NEW")


def test_cancel_moves_to_pending_cancel_and_enqueues_once(order, trader, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as first:
        services.order_cancel(order_id=order.id, user=trader)
    with django_capture_on_commit_callbacks() as second:
        services.order_cancel(order_id=order.id, user=trader)
    # then
    order.refresh_from_db()
    assert order.status == Status.PENDING_CANCEL
    kinds = [cb.func for cb in first if isinstance(cb, partial)]
    assert kinds == [publish_order_update, handoff.enqueue_cancel]
    assert [cb for cb in second if isinstance(cb, partial)] == []  # a repeat does nothing
    assert order.events.filter(kind=EventKind.CANCEL_REQUESTED).count() == 1


@pytest.mark.parametrize("terminal", ["FILLED", "CANCELLED", "REJECTED", "EXPIRED"])
def test_terminal_order_cannot_be_cancelled(order, terminal):
    apply(order, terminal)
    before = snapshot(order)
    with pytest.raises(FailedPrecondition):
        services.order_cancel(order_id=order.id)
    assert snapshot(order) == before


def test_cancel_of_a_foreign_order_is_not_found_and_changes_nothing(order):
    stranger = factories.user_create()
    before = snapshot(order)
    with pytest.raises(NotFound):
        services.order_cancel(order_id=order.id, user=stranger)
    assert snapshot(order) == before


def test_cancel_all_cancels_only_working_orders_of_the_scope(account, btcusdt, no_prices, trader):
    # given
    factories.instrument_create(symbol="ETHUSDT")
    working = factories.order_place(account)
    eth = factories.order_place(account, symbol="ETHUSDT")
    done = factories.order_place(account)
    apply(done, "FILLED")
    other = factories.order_place(factories.account_create(name="other"))
    # when
    cancelled = services.order_cancel_all(account="main", symbol="BTCUSDT", user=trader)
    # then
    assert [o.id for o in cancelled] == [working.id]
    statuses = dict(Order.objects.values_list("id", "status"))
    assert statuses == {working.id: Status.PENDING_CANCEL, eth.id: Status.PENDING_NEW, done.id: Status.FILLED,
                        other.id: Status.PENDING_NEW}


step = st.one_of(
    st.tuples(st.just("report"), st.sampled_from(lifecycle.VENUE_STATUSES),
              st.one_of(st.none(), st.sampled_from(["0", "0.25", "0.5", "1", "1.25"]))),
    st.tuples(st.just("trade"), st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["0.25", "0.5"])),
    st.just(("cancel",)),
)


class TestRandomEventSequences(HypothesisTestCase):
    """Hypothesis drives the real services on PostgreSQL; after each step the ledger's invariants hold."""

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(step, max_size=8))
    def test_invariants_hold(self, steps):
        pubsub.client().delete(pubsub.LATEST_PRICES_KEY)
        factories.instrument_create()
        order = factories.order_place(factories.account_create(), quantity=Decimal("1"))
        seen_terminal = None
        for s in steps:
            before = snapshot(order)
            try:
                if s[0] == "report":
                    apply(order, s[1], filled_quantity=None if s[2] is None else Decimal(s[2]))
                elif s[0] == "trade":
                    fill(order, s[1], s[2])
                else:
                    services.order_cancel(order_id=order.id)
            except (FailedPrecondition, InvalidInput):
                assert snapshot(order) == before, "a refused step changes nothing"
                continue
            order.refresh_from_db()
            prev = before[0]
            assert prev["filled_quantity"] <= order.filled_quantity <= order.quantity
            if seen_terminal:
                assert order.status == seen_terminal, "a terminal order never moves"
            if order.status in TERMINAL_STATUSES:
                seen_terminal = order.status
            if order.status == Status.FILLED:
                assert order.filled_quantity == order.quantity
            fills_total = sum(order.fills.values_list("quantity", flat=True), Decimal(0))
            assert order.filled_quantity >= fills_total
            events = list(order.events.values_list("sequence", flat=True))
            assert events == list(range(1, order.version + 1))
        assert OrderEvent.objects.filter(order=order).count() == order.version

