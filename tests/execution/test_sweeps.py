"""Sync sweeps: one open-orders request per symbol whatever the number of working orders, a look-up only for
the orders that left the open list, and a pace that keeps to the sync share of the weight limit."""
from decimal import Decimal

import pytest

from exchanges import ratelimit, stream_state
from execution import sweeps
from orders import services
from orders.models import Order, Status
from tests.waiting import wait_until

D = Decimal


def test_the_sweep_pace_follows_the_stream_and_stretches_to_keep_to_the_sync_share(account, settings):
    # given a spot limit of 6000 a minute (5400 usable) and a fifth of it for sync: 18 weight a second
    ratelimit.store_published_limits(account.pk, "spot", ratelimit.limits_from_exchange_info(
        [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}]))
    settings.OMS_SYNC_WEIGHT_SHARE, settings.OMS_SYNC_SWEEP_MIN_SECONDS, settings.OMS_SYNC_SWEEP_LIVE_SECONDS = 0.2, 1, 20
    # then a stream that is down means a sweep a second, unless its symbols would spend more than the share
    assert sweeps.sweep_interval(account.pk, "spot", 1, live=False) == 1  # 6 weight: a third of the budget
    assert sweeps.sweep_interval(account.pk, "spot", 30, live=False) == pytest.approx(10)  # 180 weight / 18 a second
    # and a live stream means the safety net's pace
    assert sweeps.sweep_interval(account.pk, "spot", 1, live=True) == 20
    assert sweeps.sweep_interval(account.pk, "spot", 600, live=True) == pytest.approx(200)


def test_one_caller_claims_a_due_sweep_per_interval(account, settings):
    settings.OMS_SYNC_SWEEP_MIN_SECONDS = 30
    stream_state.forget(account.pk)
    assert sweeps.sweep_due_claim(account.pk, "spot", 1) is True
    assert sweeps.sweep_due_claim(account.pk, "spot", 1) is False
    assert sweeps.sweep_due_claim(account.pk, "futures", 1) is True  # each market its own


ORDER_PATHS = ("/api/v3/openOrders", "/api/v3/order", "/api/v3/myTrades")


def _requests_during(venue, step) -> list[tuple[str, str]]:
    """The order requests a step made (a fill's balance sync runs beside it in the worker)."""
    seen = len(venue.control.audit())
    step()
    return [(r["method"], r["path"]) for r in venue.control.audit()[seen:] if r["path"] in ORDER_PATHS]


@pytest.mark.e2e
def test_a_sweep_asks_once_per_symbol_and_looks_up_only_the_orders_that_left_the_open_list(polling_only, venue,
                                                                                            venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_price("ETHUSDT", 4000, freeze=True)
    # given three BTC orders and one ETH order resting
    btc = [services.order_place(account="main", symbol="BTCUSDT", side="BUY", order_type="LIMIT",
                                quantity=D("0.001"), price=D(p)) for p in ("99500", "99000", "98000")]
    eth = services.order_place(account="main", symbol="ETHUSDT", side="BUY", order_type="LIMIT", quantity=D("0.01"),
                               price=D("3900"))
    for order in [*btc, eth]:
        wait_until(lambda o=order: Order.objects.filter(pk=o.id, status=Status.NEW).exists(), what="NEW")
    # when the market moves through the first BTC order
    venue.control.set_price("BTCUSDT", 99400, freeze=True)
    # then one sweep asks for each symbol's open orders once, and looks up (order, trades) only the filled one
    requests = _requests_during(venue, lambda: sweeps.sweep(venue_account.pk, "spot"))
    assert sorted(requests) == sorted([("GET", "/api/v3/openOrders"), ("GET", "/api/v3/openOrders"),
                                       ("GET", "/api/v3/order"), ("GET", "/api/v3/myTrades")])
    assert Order.objects.get(pk=btc[0].id).status == Status.FILLED
    assert {o.status for o in Order.objects.filter(pk__in=[btc[1].id, btc[2].id, eth.id])} == {Status.NEW}
    # and a sweep with nothing changed costs the open-order requests alone
    assert sorted(_requests_during(venue, lambda: sweeps.sweep(venue_account.pk, "spot"))) == [
        ("GET", "/api/v3/openOrders")] * 2
