"""A worker process dies while orders are in flight: the venue accepted them (or never got one), the
ledger never heard back. A new worker starts, recovery looks each order up by client order id and
settles it: no order is sent twice, none is left pending. Real worker processes, venue, ccxt, Redis."""
from __future__ import annotations

from decimal import Decimal

import pytest

from execution import venue_orders
from execution.venue_orders import NEVER_RECEIVED
from orders import services
from orders.models import Order, Status
from tests.fixtures.venue_audit import posts_of
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal


def test_orders_in_flight_when_the_worker_dies_are_settled_by_recovery(venue, account_on_venue, worker_processes):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    # The venue takes the first order request and never answers (connection held, then dropped); the next
    # three it processes, then holds the answer: the worker dies before hearing anything.
    venue.control.set_faults(endpoints=["POST /api/v3/order"], drop_request_count=1, drop_response_count=3,
                             drop_hold_ms=120_000)
    first = worker_processes(env={"OMS_USER_STREAMS": "0"})  # no user-data stream: nobody hears back
    orders = [services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.01"), price=price)
              for price in (D("99000"), D("98000"), D("101000"), D("97000"))]
    ids = [o.id for o in orders]
    wait_until(lambda: all(posts_of(venue, i) for i in ids), timeout=30, what="every order request reached the venue")
    outcomes = {i: posts_of(venue, i)[0]["outcome"] for i in ids}
    never_received = [i for i, outcome in outcomes.items() if outcome == "fault:drop_request"]
    accepted = [i for i, outcome in outcomes.items() if outcome == "fault:drop_response"]
    assert len(never_received) == 1 and len(accepted) == 3, outcomes
    pending = Order.objects.filter(pk__in=ids, status=Status.PENDING_NEW, submitted_at__isnull=False)
    assert pending.count() == 4  # sent, unanswered

    first.kill()
    venue.control.clear_faults()
    assert Order.objects.filter(pk__in=ids, status=Status.PENDING_NEW).count() == 4  # nobody heard back

    worker_processes()  # on start it queues recovery
    wait_until(lambda: not Order.objects.filter(pk__in=ids, status__in=(Status.PENDING_NEW, Status.PENDING_CANCEL)).exists(),
               timeout=45, interval=0.2, what="no order left pending")

    venue_open = {o.client_order_id: o for o in
                  venue_orders.gateway_for(account_on_venue).fetch_open_orders("spot")}
    for order in Order.objects.filter(pk__in=ids):
        assert len(posts_of(venue, order.id)) == 1, f"{order.id} was sent more than once"
        if order.id in never_received:
            assert order.status == Status.REJECTED and order.reason == NEVER_RECEIVED
            assert order.id not in venue_open and not order.exchange_order_id
        elif order.price == D("101000"):  # crossed the market: filled on arrival
            assert order.status == Status.FILLED and order.filled_quantity == D("0.01")
            assert order.fills.exists() and order.exchange_order_id
        else:
            assert order.status == Status.NEW
            assert order.exchange_order_id == venue_open[order.id].id
    assert {o.id for o in Order.objects.filter(pk__in=ids, status=Status.NEW)} == set(venue_open) & set(ids)


def test_a_group_in_flight_when_the_worker_dies_is_settled_order_by_order(venue, account_on_venue, worker_processes):
    """A batch's USD-M group: the venue takes the one batchOrders request (4 placed, 1 refused) and holds the answer;
    the worker dies. Recovery looks each order up by client order id: the 4 NEW, the refused one REJECTED as never
    received, none sent again."""
    from orders import batches

    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    venue.control.set_faults(endpoints=["POST /fapi/v1/batchOrders"], drop_response_count=1, drop_hold_ms=120_000)
    first = worker_processes(env={"OMS_USER_STREAMS": "0"})
    prices = [D("99000"), D("99100"), D("90000"), D("99200"), D("99300")]  # 90000: under the 95 % band, refused
    results = batches.orders_place_batch(orders=[
        {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": D("0.01"), "price": price,
         "market": "futures"} for price in prices])
    ids = [r.order.id for r in results]

    def batch_posts() -> list[dict]:
        return [r for r in venue.control.audit() if r["method"] == "POST" and r["path"] == "/fapi/v1/batchOrders"]

    wait_until(lambda: batch_posts(), timeout=30, what="the group's request at the venue")
    wait_until(lambda: Order.objects.filter(pk__in=ids, submitted_at__isnull=False).count() == 5, timeout=10,
               what="the five claimed")

    first.kill()
    venue.control.clear_faults()
    assert Order.objects.filter(pk__in=ids, status=Status.PENDING_NEW).count() == 5  # nobody heard back

    worker_processes()
    wait_until(lambda: not Order.objects.filter(pk__in=ids, status=Status.PENDING_NEW).exists(), timeout=45,
               interval=0.2, what="no order left pending")

    assert len(batch_posts()) == 1
    assert not [r for r in venue.control.audit() if r["method"] == "POST" and r["path"] == "/fapi/v1/order"]
    statuses = dict(Order.objects.filter(pk__in=ids).values_list("id", "status"))
    assert [statuses[i] for i in ids] == [Status.NEW, Status.NEW, Status.REJECTED, Status.NEW, Status.NEW]
    assert Order.objects.get(pk=ids[2]).reason == NEVER_RECEIVED
    on_venue = [row["client_order_id"] for row in venue.control.records(venue.api_key, market="futures")["orders"]]
    assert sorted(on_venue) == sorted(ids[:2] + ids[3:])  # each once
