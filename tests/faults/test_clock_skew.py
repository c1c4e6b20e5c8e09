"""2d. The venue's clock and ours disagree (the venue's `clock_skew_ms` knob): by ±2 s and far beyond recvWindow
(1 s in these tests) the venue answers -1021 as Binance does, before it looks at the order. The OMS takes that as
a refusal of the request alone (nothing reached the book: no lookup, no REJECTED order), measures the offset
(ccxt's load_time_difference), shares it with every client of the account, and sends the order again: one order
on the venue per intent. Within recvWindow nothing is refused at all.

The tests that name the request refused first run without user-data streams (`polling_only`): a stream's catch-up
(a sweep, a balance sync) when it connects would otherwise race the order to meet the skew and measure the offset."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Account
from exchanges.gateway import forget_gateways, gateway_for
from orders import services
from orders.models import Order, Status
from tests.fixtures.venue_audit import posts_of
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal


def _place(price: str) -> Order:
    return services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.001"),
                                order_type="LIMIT", price=D(price))


def _status_is(order_id: str, status: str):
    return lambda: Order.objects.filter(pk=order_id, status=status).first()


def _refused_for_time(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["code"] == -1021]


@pytest.mark.parametrize("skew_ms", [2000, -2000, 30_000])
def test_a_skewed_clock_is_refused_with_1021_corrected_and_every_order_placed_once(skew_ms, venue, polling_only,
                                                                                   venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(clock_skew_ms=skew_ms)

    first = wait_until(_status_is(_place("90000").id, Status.NEW), timeout=20, what="first order NEW")
    refused, accepted = posts_of(venue, first.id)  # refused unprocessed, then sent again once
    assert (refused["status"], refused["code"]) == (400, -1021) and accepted["status"] == 200
    assert not [r for r in venue.control.audit(first.id) if r["method"] == "GET"]  # a refusal: nothing to look up
    # The offset is shared in Redis too: a client built now starts from it (the venue's clock minus ours).
    forget_gateways()
    offset = gateway_for(Account.objects.get(pk=venue_account.pk)).client.options["timeDifference"]
    assert abs(-offset - skew_ms) < 1000, offset  # measured, give or take the /time call's latency

    later = [_place(str(90000 + i)) for i in range(1, 6)]
    for order in later:
        wait_until(_status_is(order.id, Status.NEW), timeout=20, what=f"{order.id} NEW")
    orders = [first, *later]
    for order in orders:
        assert [r["status"] for r in posts_of(venue, order.id)].count(200) == 1  # one order per intent
    all_posts = [r for r in venue.control.audit() if r["method"] == "POST" and r["path"] == "/api/v3/order"]
    assert len(_refused_for_time(all_posts)) == 1  # the offset one thread measured serves every thread after it
    venue_view.load_time_difference()  # the independent view needs the venue's time as well
    on_venue = {o["clientOrderId"]: o["id"] for o in venue_view.fetch_open_orders("BTC/USDT")}
    assert on_venue == {o.id: Order.objects.get(pk=o.id).exchange_order_id for o in orders}


def test_a_clock_that_drifts_the_other_way_is_corrected_again_and_a_cancel_goes_through(venue, polling_only,
                                                                                         venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(clock_skew_ms=3000)
    order = wait_until(_status_is(_place("90000").id, Status.NEW), timeout=20, what="NEW")

    venue.control.set_faults(clock_skew_ms=-3000)  # now our clock is ahead of the venue's
    services.order_cancel(order_id=order.id)
    order = wait_until(_status_is(order.id, Status.CANCELLED), timeout=20, what="CANCELLED")

    deletes = [r for r in venue.control.audit() if r["method"] == "DELETE"]
    assert [(r["status"], r["code"]) for r in deletes] == [(400, -1021), (200, None)]  # refused, then cancelled once
    assert [r["status"] for r in posts_of(venue, order.id)] == [400, 200]


def test_within_recv_window_nothing_is_refused(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(clock_skew_ms=500)  # the venue 0.5 s ahead: inside the 1 s recvWindow
    order = wait_until(_status_is(_place("90000").id, Status.NEW), timeout=20, what="NEW")
    assert [r["status"] for r in posts_of(venue, order.id)] == [200]
    assert not _refused_for_time(venue.control.audit())
