"""One consumer per account and market however many workers run, and a stream that outlives its worker:
real `celery worker` processes on the venue, one SIGKILLed while it holds the streams."""
from decimal import Decimal

import pytest

from exchanges import stream_state
from orders import services
from orders.models import Order, Status
from tests.faults.ledger_venue import compare
from tests.waiting import wait_until

PRICE = Decimal("100000")
LEASE = {"OMS_USER_STREAM_LEASE_SECONDS": "3", "OMS_SYNC_SWEEP_LIVE_SECONDS": "3600"}


def _consumers(venue, market: str) -> int:
    """User-data connections the venue holds for the key on one market."""
    return sum(1 for c in venue.control.user_streams()["connections"]
               if c["api_key"] == venue.api_key and c["market"] == market)


@pytest.mark.e2e
def test_two_workers_consume_one_stream_and_the_survivor_takes_over_from_a_killed_holder(
        venue, account_on_venue, worker_processes):
    venue.control.set_price("BTCUSDT", PRICE, freeze=True)
    # given two workers, started together
    first, second = worker_processes(env=LEASE), worker_processes(env=LEASE)
    wait_until(lambda: stream_state.is_live(account_on_venue.pk, "spot"), timeout=30, what="the stream live")
    holder = stream_state.lease_holder(account_on_venue.pk, "spot")
    # then exactly one of them consumes the account's spot stream, for several lease periods
    for _ in range(3):
        wait_until(lambda: _consumers(venue, "spot") == 1, timeout=10, what="one spot consumer")
        assert stream_state.lease_holder(account_on_venue.pk, "spot") == holder
    # given a BUY resting below the market
    order = services.order_place(account=account_on_venue.name, symbol="BTCUSDT", side="BUY", order_type="LIMIT",
                                 quantity=Decimal("0.01"), price=PRICE - 1000)
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.NEW).exists(), timeout=15, what="NEW")
    # when the holder is SIGKILLed and the order fills before anyone listens again
    killed = first if f":{first.proc.pid}:" in holder else second
    killed.kill()
    venue.control.set_price("BTCUSDT", PRICE - 2000, freeze=True)
    # then the other worker takes the lease over, catches up, and the ledger has the fill (nothing polled)
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).exists(), timeout=30, what="FILLED")
    new_holder = stream_state.lease_holder(account_on_venue.pk, "spot")
    assert new_holder and new_holder != holder
    wait_until(lambda: stream_state.is_live(account_on_venue.pk, "spot"), timeout=15, what="live again")
    assert wait_until(lambda: compare(venue, account_on_venue, window_ms=1200), timeout=20, what="ledger == venue").ok
