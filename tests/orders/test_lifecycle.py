"""The state machine on its own: every rule of `orders.lifecycle.decide`, then random report sequences."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.errors import InvalidInput
from orders import lifecycle
from orders.lifecycle import EventKind, IllegalTransition
from orders.models import OPEN_STATUSES, TERMINAL_STATUSES, Status

Q = Decimal("1")


def decide(status, filled, report, report_filled=None, **kw):
    return lifecycle.decide(status=status, quantity=Q, filled_quantity=Decimal(filled), report_status=report,
                            report_filled=None if report_filled is None else Decimal(report_filled), **kw)


@pytest.mark.parametrize("status,filled,report,report_filled,to,kind", [
    (Status.PENDING_NEW, "0", Status.NEW, None, Status.NEW, EventKind.ACCEPTED),
    (Status.PENDING_NEW, "0", Status.REJECTED, None, Status.REJECTED, EventKind.REJECTED),
    (Status.PENDING_NEW, "0", Status.FILLED, None, Status.FILLED, EventKind.FILLED),
    (Status.PENDING_NEW, "0", Status.EXPIRED, "0.4", Status.EXPIRED, EventKind.EXPIRED),
    (Status.NEW, "0", Status.PARTIALLY_FILLED, "0.3", Status.PARTIALLY_FILLED, EventKind.PARTIALLY_FILLED),
    (Status.NEW, "0", Status.NEW, "0.3", Status.PARTIALLY_FILLED, EventKind.PARTIALLY_FILLED),
    (Status.PARTIALLY_FILLED, "0.3", Status.PARTIALLY_FILLED, "0.5", Status.PARTIALLY_FILLED, EventKind.PARTIALLY_FILLED),
    (Status.PARTIALLY_FILLED, "0.3", Status.PARTIALLY_FILLED, "1", Status.FILLED, EventKind.FILLED),
    (Status.PARTIALLY_FILLED, "0.3", Status.CANCELLED, None, Status.CANCELLED, EventKind.CANCELLED),
    (Status.PENDING_CANCEL, "0", Status.CANCELLED, None, Status.CANCELLED, EventKind.CANCELLED),
    (Status.PENDING_CANCEL, "0", Status.NEW, None, Status.NEW, EventKind.CANCEL_REFUSED),
    (Status.PENDING_CANCEL, "0.2", Status.PARTIALLY_FILLED, "0.2", Status.PARTIALLY_FILLED, EventKind.CANCEL_REFUSED),
    (Status.PENDING_CANCEL, "0.2", Status.FILLED, None, Status.FILLED, EventKind.FILLED),
    (Status.CANCELLED, "0.2", Status.CANCELLED, "0.4", Status.CANCELLED, EventKind.UPDATED),
])
def test_legal_report_is_applied(status, filled, report, report_filled, to, kind):
    # when
    decision = decide(status, filled, report, report_filled)
    # then
    assert (decision.outcome, decision.to_status, decision.kind) == ("apply", to, kind)


@pytest.mark.parametrize("status,filled,report,report_filled", [
    (Status.FILLED, "1", Status.CANCELLED, "1"),
    (Status.CANCELLED, "0", Status.FILLED, None),
    (Status.CANCELLED, "0", Status.EXPIRED, None),
    (Status.REJECTED, "0", Status.NEW, "0.1"),
    (Status.REJECTED, "0", Status.CANCELLED, None),
    (Status.EXPIRED, "0.1", Status.FILLED, None),
    (Status.NEW, "0", Status.REJECTED, None),
    (Status.PARTIALLY_FILLED, "0.2", Status.REJECTED, None),
    (Status.NEW, "0", Status.PARTIALLY_FILLED, "1.5"),
])
def test_illegal_report_is_refused(status, filled, report, report_filled):
    # when / then
    with pytest.raises(IllegalTransition) as err:
        decide(status, filled, report, report_filled)
    assert err.value.code == "failed_precondition" and err.value.field in ("status", "filled_quantity")


@pytest.mark.parametrize("status,filled,report,report_filled", [
    (Status.PARTIALLY_FILLED, "0.5", Status.PARTIALLY_FILLED, "0.3"),
    (Status.PARTIALLY_FILLED, "0.5", Status.NEW, "0"),
    (Status.FILLED, "1", Status.NEW, "0"),
    (Status.CANCELLED, "0.2", Status.PARTIALLY_FILLED, "0.1"),
    (Status.CANCELLED, "0", Status.NEW, None),
])
def test_stale_report_is_ignored(status, filled, report, report_filled):
    # when
    decision = decide(status, filled, report, report_filled)
    # then
    assert decision.outcome == "stale" and decision.kind == EventKind.STALE_IGNORED
    assert (decision.to_status, decision.filled_quantity) == (status, Decimal(filled))


def test_same_report_twice_is_a_duplicate_unless_it_brings_new_facts():
    assert decide(Status.NEW, "0", Status.NEW).outcome == "duplicate"
    assert decide(Status.FILLED, "1", Status.FILLED).outcome == "duplicate"
    assert decide(Status.NEW, "0", Status.NEW, new_facts=True).kind == EventKind.UPDATED


@pytest.mark.parametrize("report,report_filled,field", [
    ("PENDING_NEW", None, "status"), ("BOGUS", None, "status"), (Status.FILLED, "0.5", "filled_quantity"),
    (Status.NEW, "NaN", "filled_quantity"), (Status.NEW, "-1", "filled_quantity"),
])
def test_malformed_report_is_invalid_input(report, report_filled, field):
    with pytest.raises(InvalidInput) as err:
        decide(Status.NEW, "0", report, report_filled)
    assert err.value.field == field


def test_cancel_request_rules():
    assert lifecycle.request_cancel(Status.NEW) is True
    assert lifecycle.request_cancel(Status.PENDING_NEW) is True
    assert lifecycle.request_cancel(Status.PENDING_CANCEL) is False
    for status in TERMINAL_STATUSES:
        with pytest.raises(IllegalTransition):
            lifecycle.request_cancel(status)


reports = st.tuples(
    st.sampled_from(lifecycle.VENUE_STATUSES),
    st.one_of(st.none(), st.integers(min_value=0, max_value=12).map(lambda n: Decimal(n) / 10)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(reports, st.just("cancel")), max_size=12))
def test_random_report_sequences_keep_the_invariants(steps):
    # given a new order for 1
    status, filled = Status.PENDING_NEW, Decimal(0)
    for step in steps:
        before = (status, filled)
        # when a report (or a cancel request) arrives
        try:
            if step == "cancel":
                if lifecycle.request_cancel(status):
                    status = Status.PENDING_CANCEL
                continue
            decision = lifecycle.decide(status=status, quantity=Q, filled_quantity=filled, report_status=step[0],
                                        report_filled=step[1])
        except (IllegalTransition, InvalidInput):
            continue  # refused: nothing changed
        if decision.applies:
            status, filled = decision.to_status, decision.filled_quantity
        else:
            assert (decision.to_status, decision.filled_quantity) == before
        # then
        assert Decimal(0) <= filled <= Q
        assert filled >= before[1], "filled quantity never decreases"
        if before[0] in TERMINAL_STATUSES:
            assert status == before[0], "a terminal order never moves"
        if status == Status.FILLED:
            assert filled == Q
        if status == Status.NEW:
            assert filled == 0
        if decision.applies and before[0] != status:
            assert status in lifecycle.TRANSITIONS[before[0]]


def test_working_and_pending_are_each_one_rule():
    """NEW vs PARTIALLY_FILLED is decided by the filled quantity alone, the same for venue reports (execution),
    reconciliation and decide(); the orders waiting for the venue's answer are the open ones not on its book."""
    assert [lifecycle.working_status(Decimal(f)) for f in ("0", "0.001", "5")] == [
        Status.NEW, Status.PARTIALLY_FILLED, Status.PARTIALLY_FILLED]
    assert set(lifecycle.PENDING_STATUSES) == set(OPEN_STATUSES) - set(lifecycle.WORKING_STATUSES)
    assert [lifecycle.is_pending(s) for s in (Status.PENDING_NEW, Status.PENDING_CANCEL, Status.NEW)] == [
        True, True, False]
