"""The state machine of tests/faults/order_machine.py, sized for `make test` (`make soak` runs it longer).

Hypothesis enables a random subset of the steps in each example (swarm testing), so which faults a short run
meets varies; the invariants are checked after every step whatever it was."""
import pytest

from tests.faults import order_machine

pytestmark = [pytest.mark.e2e]


def test_the_ledger_equals_the_venue_after_every_step_of_trading_through_faults_and_crashes(oms_stack):
    figures = order_machine.run(oms_stack, examples=5, steps=12)
    print(figures)

    assert figures["steps"] >= 8, figures  # every example ran at least one step, each followed by the check
    assert figures["duplicates found"] == 0 and figures["lost"] == 0, figures
