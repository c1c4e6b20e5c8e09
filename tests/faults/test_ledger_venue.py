"""The ledger == venue comparison (tests/faults/ledger_venue.py) finds each kind of difference it is there for:
without this, a comparison that always agreed would pass every run that relies on it."""
from decimal import Decimal

import pytest

from orders import services
from tests.faults.ledger_venue import compare

pytestmark = [pytest.mark.e2e]

D = Decimal
WINDOW_MS = 1200


def test_an_empty_ledger_on_an_untouched_venue_agrees(venue, account_on_venue):
    result = compare(venue, account_on_venue, intents={}, window_ms=WINDOW_MS)
    assert result.ok and result.orders == result.venue_orders == 0, result.problems


def test_duplicates_orders_the_venue_never_saw_unknown_venue_orders_and_missing_intents_are_found(
        venue, account_on_venue, venue_exchange, order_lane):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    # A ledger order no worker ever sent (no worker runs here): the venue does not know it.
    unsent = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.001"), price=D("90000"),
                                  client_order_id="intent-1")
    # The same client order id twice on the venue (a MARKET order re-sent after it filled), unknown to the ledger.
    for _ in range(2):
        venue_exchange.create_order("BTC/USDT", "market", "buy", 0.001, params={"clientOrderId": "resent-1"})

    result = compare(venue, account_on_venue, intents={"intent-1": unsent.id, "intent-2": None}, window_ms=WINDOW_MS)

    assert not result.ok
    assert result.duplicates == 1 and result.lost == 2, result  # the unsent order, the unknown client order id
    text = "\n".join(result.problems)
    assert "I2: client order id resent-1 is 2 venue orders" in text
    assert f"I3: {unsent.id} is PENDING_NEW in the ledger and unknown to the venue" in text
    assert "I3: venue orders the ledger lacks: ['resent-1']" in text
    assert "I1: intent intent-2 is 0 ledger orders" in text
