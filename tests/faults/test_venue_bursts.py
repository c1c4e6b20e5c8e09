"""3. The venue pushes back: a 418 IP ban with Retry-After, and bursts of 5xx on every route. Nothing is sent during
a ban (any request would have met another 418), placements wait it out and each order reaches the venue once;
under 5xx the OMS looks unanswered orders up, backing off, never re-sending, and never earns a 429 from the
venue's own limiter. Counted at the venue (its audit trail and fault counts)."""
from __future__ import annotations

import time
from decimal import Decimal

import grpc
import pytest

from exchanges import ratelimit
from exchanges.markets import sync_markets
from orders import services
from orders.models import Order, Status
from proto import oms_pb2, oms_pb2_grpc
from tests.fixtures.venue_audit import posts_of
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal
BAN_SECONDS = 2
VENUE_WEIGHT_1M = 600


def _place(price) -> Order:
    return services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.001"),
                                order_type="LIMIT", price=D(price))


def _settled(order_ids: list[str]):
    return lambda: not Order.objects.filter(pk__in=order_ids, status=Status.PENDING_NEW).exists()


def _rate_limited(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["status"] in (418, 429)]


def test_a_418_ban_stops_every_request_until_retry_after_then_each_order_goes_out_once(polling_only, venue,
                                                                                      venue_account,
                                                                                      grpc_server, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 0.5
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(ban_418_seconds=BAN_SECONDS, endpoints=["POST /api/v3/order"])

    first = _place("90000")
    banned = wait_until(lambda: _rate_limited(venue.control.audit()), what="the 418")
    # A client placing during the ban is answered, not failed (first, while the ban surely lasts: on a loaded
    # machine the nine placements below can take longer than the ban).
    with grpc.insecure_channel(grpc_server) as channel:
        reply = oms_pb2_grpc.OrderServiceStub(channel).PlaceOrder(oms_pb2.PlaceOrderRequest(
            symbol="BTCUSDT", side="BUY", order_type="LIMIT", quantity_decimal="0.001", price_decimal="89000"), timeout=5)
    assert reply.status == Status.PENDING_NEW
    during_ban = [_place(str(90000 + i)) for i in range(1, 10)]  # queued while the account is banned
    order_ids = [first.id, *(o.id for o in during_ban), reply.order_id]
    wait_until(_settled(order_ids), timeout=30, interval=0.1, what="every order answered")

    audit = venue.control.audit()
    [ban] = _rate_limited(audit)  # the one request that met the ban: nothing else was sent into it
    assert ban == banned[0] and ban["status"] == 418 and ban["client_order_id"] == first.id
    after = [r for r in audit if r["seq"] > ban["seq"]]
    assert after and min(r["ts"] for r in after) >= ban["ts"] + BAN_SECONDS * 1000
    for order_id in order_ids:
        assert Order.objects.get(pk=order_id).status == Status.NEW
        assert [r["status"] for r in posts_of(venue, order_id) if r["status"] != 418] == [200]  # once
    assert venue.control.fault_counts().get("ban_418") == 1


@pytest.mark.parametrize("kind,ends", [("unknown", Status.NEW), ("unavailable", Status.REJECTED)])
def test_a_5xx_burst_on_every_route_is_looked_through_with_backoff_and_nothing_is_sent_twice(
        kind, ends, polling_only, venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    # A tenth of Binance's weight limit, published: retries in a loop would run into it within seconds.
    venue.control.set_limits(spot_weight_1m=VENUE_WEIGHT_1M)
    sync_markets(venue_account)
    assert [lim.capacity for lim in ratelimit.published_limits(venue_account.pk, "spot") if lim.kind == "weight"] == [
        ratelimit.usable(VENUE_WEIGHT_1M)]
    # "unknown": processed, then 503 -1001; "unavailable": not processed, plain 503. Every spot route, lookups too.
    venue.control.set_faults(error_rate=1.0, error_kind=kind)
    started = time.monotonic()
    orders = [_place(str(90000 + i)) for i in range(10)]
    order_ids = [o.id for o in orders]
    wait_until(lambda: all(posts_of(venue, oid) for oid in order_ids), what="every order sent into the burst")
    wait_until(lambda: min(len(_failed_lookups(venue.control.audit(), oid)) for oid in order_ids) >= 3, timeout=15,
               what="three failed lookups of every order")
    venue.control.clear_faults()
    burst_seconds = time.monotonic() - started

    wait_until(_settled(order_ids), timeout=30, interval=0.1, what="every order settled after the burst")
    audit = venue.control.audit()
    for order_id in order_ids:
        order = Order.objects.get(pk=order_id)
        assert order.status == ends, (order.status, order.reason)
        assert len(posts_of(venue, order_id)) == 1  # looked up, never re-sent
        assert len(_failed_lookups(audit, order_id)) <= burst_seconds + 1  # one lookup a second at most
    assert not _rate_limited(audit)  # the venue's own (lowered) limit was never reached by the retries
    if ends == Status.NEW:
        on_venue = {o["clientOrderId"]: o["id"] for o in venue_view.fetch_open_orders("BTC/USDT")}
        assert on_venue == {oid: Order.objects.get(pk=oid).exchange_order_id for oid in order_ids}
    else:
        assert all("never received" in Order.objects.get(pk=oid).reason for oid in order_ids)
        assert venue_view.fetch_open_orders("BTC/USDT") == []


def _failed_lookups(audit: list[dict], order_id: str) -> list[dict]:
    return [r for r in audit if r["method"] == "GET" and r["orig_client_order_id"] == order_id
            and r["outcome"].startswith("fault:")]
