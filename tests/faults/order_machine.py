"""A hypothesis state machine that trades on the real stack (`oms_stack`: the local venue over HTTP through ccxt,
a real `celery worker` process, PostgreSQL, Redis, the gRPC server and the Python SDK) and checks ledger == venue
by the invariants I1–I6 (tests/faults/ledger_venue.py) after every step, once the system has settled, and that
the venue's spot balances moved by exactly what the ledger's fills did (bought, sold, less fees).

Steps: place resting, marketable and MARKET orders; cancel; move the market (through one order's price, or by a
random amount: the orders it crosses fill); place or cancel with the answer lost (the connection dropped after
the venue processed the request, a 503 -1001 or 408 -1007 after processing; also with the order invisible to
lookups for recvWindow, `visibility_delay_ms`) or the request lost before the venue;
crash the worker with SIGKILL (with an order in flight or not) and start another; run `manage.py recover` while a
worker is stuck on an unanswered order. `run()` sizes it: short in `make test`, long in `make soak`."""
from __future__ import annotations

import functools
import io
import json
import uuid
from decimal import Decimal

import grpc
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, settings, stateful
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from orders.models import TERMINAL_STATUSES, Order, Status
from tests.faults.ledger_venue import fill_totals, settle, venue_balances
from tests.fixtures.stack import OmsStack
from tests.fixtures.venue_audit import posts_of
from tests.fixtures.worker_process import ENV
from tests.waiting import wait_until

D = Decimal
SYMBOL = "BTCUSDT"
MID, TICK, BAND = D("100000"), D("10"), 50  # the market stays within MID ± BAND ticks
NEW_ORDER, CANCEL = "POST /api/v3/order", "DELETE /api/v3/order"
SIDES = st.sampled_from(["BUY", "SELL"])
QUANTITIES = st.integers(1, 5).map(lambda n: D("0.001") * n)
# How an answer is lost: dropped after processing, or an "unknown" error after processing (-1001 503, -1007 408).
LOST_ANSWERS = {"dropped": {"drop_response_count": 1}, "-1001": {"error_count": 1, "error_kind": "unknown"},
                "-1007": {"error_count": 1, "error_kind": "timeout", "error_delay_ms": 50}}
STREAM_FAULTS = {"lost": {"user_event_drop_count": 2}, "repeated": {"user_event_duplicate_count": 2},
                 "swapped": {"user_event_reorder_count": 2}, "delayed": {"user_event_delay_ms": 1500},
                 "closed": {"user_stream_close_count": 1, "user_stream_markets": ["spot"]}}
HOLD = {"drop_response_count": 1, "drop_hold_ms": 5000}  # processed; the answer held back, then the connection cut
SLOW_STEPS_PER_EXAMPLE = 2  # worker crashes, and recoveries of an order in flight: a second or two each


def _recorded(step):
    """Count the step, and note it in the example's log; a step that fails leaves its error and the steps before it
    in `stack.failures` (hypothesis, replaying a failure on a live stack that does not repeat it, reports only
    that the replay differed)."""
    @functools.wraps(step)
    def run(self, **arguments):
        self.log.append(f"{step.__name__}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})")
        self.stack.steps[step.__name__] += 1
        try:
            return step(self, **arguments)
        except Exception as exc:
            self.stack.failures.append(f"{step.__name__}: {exc}\nafter steps: {self.log}")
            raise
    return run


class OrderFlow(RuleBasedStateMachine):
    stack: OmsStack  # set by run()

    orders = Bundle("orders")  # every order placed
    resting = Bundle("resting")  # those placed to rest on the book: what cancels and fills aim at

    def __init__(self):
        super().__init__()
        self.client = self.stack.client()
        self.mid = MID
        self.slow_steps = 0
        self.log: list[str] = []

    def teardown(self):
        self.client.close()

    # -- helpers ------------------------------------------------------------------------------------------
    @property
    def control(self):
        return self.stack.venue.control

    def _move_to(self, price: Decimal) -> None:
        self.mid = min(max(price, MID - BAND * TICK), MID + BAND * TICK)
        self.control.set_price(SYMBOL, self.mid, freeze=True)

    def _place(self, side: str, quantity: Decimal, order_type: str = "LIMIT", price: Decimal | None = None) -> str:
        client_order_id = f"sm-{uuid.uuid4().hex[:20]}"
        self.stack.intents[client_order_id] = None  # an intent from here on, whatever the answer
        answer = self.client.place_order(SYMBOL, side, quantity, order_type, price or 0, client_order_id=client_order_id)
        self.stack.intents[client_order_id] = answer["order_id"]
        return answer["order_id"]

    def _resting_price(self, side: str, ticks: int) -> Decimal:
        return self.mid - ticks * TICK if side == "BUY" else self.mid + ticks * TICK

    def _cancel(self, order_id: str) -> None:
        try:
            self.client.cancel_order(order_id)
        except grpc.RpcError as refused:  # already closed: a clean refusal, and the ledger says closed
            assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, (refused.code(), refused.details())
            assert Order.objects.get(pk=order_id).status in TERMINAL_STATUSES

    def _in_flight(self, side: str, quantity: Decimal) -> str:
        """Place a resting order whose answer the venue holds back: the worker is left waiting on it."""
        self.control.set_faults(endpoints=[NEW_ORDER], **HOLD)
        order_id = self._place(side, quantity, price=self._resting_price(side, 3))
        wait_until(lambda: posts_of(self.stack.venue, order_id), what="the order reached the venue")
        return order_id

    # -- steps --------------------------------------------------------------------------------------------
    @initialize()
    def still_market(self):
        self._move_to(MID)

    @rule(targets=(orders, resting), side=SIDES, quantity=QUANTITIES, ticks=st.integers(1, 10))
    @_recorded
    def place_resting(self, side, quantity, ticks):
        return self._place(side, quantity, price=self._resting_price(side, ticks))

    @rule(target=orders, side=SIDES, quantity=QUANTITIES, order_type=st.sampled_from(["MARKET", "LIMIT"]))
    @_recorded
    def place_marketable(self, side, quantity, order_type):
        price = None if order_type == "MARKET" else self._resting_price(side, -5)  # through the touch
        return self._place(side, quantity, order_type, price)

    @rule(targets=(orders, resting), side=SIDES, quantity=QUANTITIES, order_type=st.sampled_from(["MARKET", "LIMIT"]),
          lost=st.sampled_from(sorted(LOST_ANSWERS)))
    @_recorded
    def place_answer_lost(self, side, quantity, order_type, lost):
        self.control.set_faults(endpoints=[NEW_ORDER], **LOST_ANSWERS[lost])
        price = None if order_type == "MARKET" else self._resting_price(side, 2)
        return self._place(side, quantity, order_type, price)

    @rule(targets=(orders, resting), side=SIDES, quantity=QUANTITIES, order_type=st.sampled_from(["MARKET", "LIMIT"]),
          lost=st.sampled_from(sorted(LOST_ANSWERS)))
    @_recorded
    def place_answer_lost_seen_late(self, side, quantity, order_type, lost):
        """The answer lost and the order "not found" by lookups for recvWindow after the venue accepted it (Binance
        is asynchronous): found late, never REJECTED as never received (I3, I5)."""
        self.control.set_faults(endpoints=[NEW_ORDER], visibility_delay_ms=int(ENV["OMS_RECV_WINDOW_MS"]),
                                **LOST_ANSWERS[lost])
        price = None if order_type == "MARKET" else self._resting_price(side, 2)
        return self._place(side, quantity, order_type, price)

    @rule(target=orders, side=SIDES, quantity=QUANTITIES)
    @_recorded
    def place_request_lost(self, side, quantity):
        self.control.set_faults(endpoints=[NEW_ORDER], drop_request_count=1)
        return self._place(side, quantity, price=self._resting_price(side, 2))

    @rule(order=resting)
    @_recorded
    def cancel(self, order):
        self._cancel(order)

    @rule(order=resting, lost=st.sampled_from(sorted(LOST_ANSWERS)))
    @_recorded
    def cancel_answer_lost(self, order, lost):
        self.control.set_faults(endpoints=[CANCEL], **LOST_ANSWERS[lost])
        self._cancel(order)

    @rule(order=resting)
    @_recorded
    def fill_one(self, order):
        """Move the market just through the order's price: it fills (with any others on the way); an order
        already closed stays where it is. (What is drawn never depends on the ledger: hypothesis replays draws.)"""
        self._fill(order)

    def _fill(self, order_id: str) -> None:
        order = Order.objects.get(pk=order_id)
        if order.order_type == "LIMIT" and order.status in (Status.NEW, Status.PARTIALLY_FILLED):
            self._move_to(order.price - TICK if order.side == "BUY" else order.price + TICK)

    @rule(order=resting, fault=st.sampled_from(sorted(STREAM_FAULTS)))
    @_recorded
    def fill_through_a_stream_fault(self, order, fault):
        """The same fill while the user-data stream loses, repeats, swaps or delays events (past the poller),
        or is closed: the catch-up, the sweeps and the lifecycle must still bring the ledger to the venue."""
        self.control.set_faults(**STREAM_FAULTS[fault])
        self._fill(order)
        if fault == "lost":  # and then the stream breaks: its catch-up must find what was lost
            self.control.set_faults(user_stream_close_count=1, user_stream_markets=["spot"])

    @rule(ticks=st.integers(-15, 15))
    @_recorded
    def move_market(self, ticks):
        self._move_to(self.mid + ticks * TICK)

    def _slow_step_allowed(self) -> bool:
        return self.slow_steps < SLOW_STEPS_PER_EXAMPLE

    @precondition(_slow_step_allowed)
    @rule(in_flight=st.booleans(), side=SIDES, quantity=QUANTITIES)
    @_recorded
    def crash_worker(self, in_flight, side, quantity):
        """SIGKILL the worker (while it waits on an order's answer, or idle); the next one recovers on start."""
        self.slow_steps += 1
        if in_flight:
            self._in_flight(side, quantity)
        self.stack.restart_worker()

    @precondition(_slow_step_allowed)
    @rule(side=SIDES, quantity=QUANTITIES)
    @_recorded
    def recover_while_in_flight(self, side, quantity):
        """`manage.py recover` settles an order the worker is still waiting on, by looking it up."""
        self.slow_steps += 1
        order_id = self._in_flight(side, quantity)
        out = io.StringIO()
        try:
            call_command("recover", "--json", "--min-age", "0", "--wait", "10", stdout=out)
        except SystemExit as exit_code:  # 1: some order still pending, 2: a lookup failed
            raise AssertionError(f"recover exited {exit_code.code}: {out.getvalue()}") from None
        outcome = {r["order_id"]: r for r in json.loads(out.getvalue())}.get(order_id)
        if outcome is None:  # the user-data stream told the ledger first: nothing was left for recover to settle
            assert Order.objects.get(pk=order_id).status in (Status.NEW, Status.FILLED)
        else:
            assert outcome["outcome"] == "resolved" and outcome["after"] in (Status.NEW, Status.FILLED), outcome

    # -- after every step -----------------------------------------------------------------------------------
    @invariant()
    def ledger_equals_venue(self):
        try:
            settle(self.stack.venue, self.stack.account, window_ms=self.stack.window_ms, intents=self.stack.intents)
        except AssertionError as exc:
            self.stack.failures.append(f"ledger == venue: {exc}\nafter steps: {self.log}")
            raise
        self._balances_follow_the_fills()
        self.control.clear_faults()  # a knob a refused request did not use must not hit the next step

    def _balances_follow_the_fills(self):
        """Venue balance (free + locked) less what the ledger's fills moved (its computed holdings) stays what it
        was at the first check, per asset: balances == opening + fills - fees, after every step."""
        held = {asset: free + locked for asset, (free, locked) in venue_balances(self.stack.venue).items()}
        moved = fill_totals(self.stack.account)
        opening = {asset: held.get(asset, D(0)) - moved.get(asset, D(0)) for asset in set(held) | set(moved)}
        opening = {asset: amount for asset, amount in opening.items() if amount}
        if self.stack.opening is None:
            self.stack.opening = opening
        if opening != self.stack.opening:
            self.stack.failures.append(f"balances != opening + fills: {opening} != {self.stack.opening}\n"
                                       f"after steps: {self.log}")
            raise AssertionError(f"venue balances less the ledger's fills moved from {self.stack.opening} to {opening}")


def run(stack: OmsStack, *, examples: int, steps: int) -> dict:
    """Run the machine; returns its figures (steps are counted by the venue's audit and the ledger)."""
    OrderFlow.stack = stack
    try:
        stateful.run_state_machine_as_test(OrderFlow, settings=settings(
            max_examples=examples, stateful_step_count=steps, deadline=None, database=None, derandomize=False,
            phases=[Phase.generate], report_multiple_bugs=False,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    except HypothesisException as exc:  # e.g. the replay of a failure went differently: show the failure itself
        raise AssertionError(f"{type(exc).__name__}; the steps that failed: {stack.failures}") from exc
    result = settle(stack.venue, stack.account, window_ms=stack.window_ms, intents=stack.intents)
    faults = stack.venue.control.fault_counts()
    return {"examples": examples, "steps per example (at most)": steps, "steps": sum(stack.steps.values()),
            "step mix": dict(stack.steps.most_common()), "orders placed": result.orders,
            "fills": result.fills, "cancel requests sent": sum(r["method"] == "DELETE" for r in stack.venue.control.audit()),
            "worker crashes": stack.restarts, "faults injected": sum(faults.values()),
            "rejected as never received": result.never_received, "duplicates found": result.duplicates,
            "lost": result.lost}
