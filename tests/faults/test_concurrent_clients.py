"""Scenario 15 (tests/faults/concurrent_clients.py) for 5 s in `make test`; `make soak` runs it for 60 s. Its balance
check includes USD-M funding: the futures wallet == its start + realized PnL - fees + funding, all from the ledger."""
import pytest

from tests.faults import concurrent_clients

pytestmark = [pytest.mark.e2e]


def test_eight_clients_trading_on_one_account_leave_the_ledger_equal_to_the_venue_and_balances_reconciled(oms_stack):
    figures = concurrent_clients.run(oms_stack, seconds=5)
    print(figures)

    assert figures["orders placed"] >= 8 and figures["fills"] > 0, figures
    assert figures["duplicates found"] == 0 and figures["lost"] == 0, figures
    assert figures["funding settlements"] >= 1 and figures["funding payments"] >= 1, figures
