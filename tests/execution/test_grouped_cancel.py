"""Cancel-all on the venue in as few requests as it allows: spot through the venue's cancel-all for the symbol (its
answer lists each order cancelled, recorded on each), USD-M through the batch cancel (10 a request, an answer per
order); whatever a grouped request cannot settle goes through the order's own cancel. Real venue, ccxt over HTTP."""
from decimal import Decimal

from execution import venue_orders
from orders import batches, services
from orders.models import Order, Status
from tests.execution.test_batched_submit import futures_buy, placed_ids, requests_to
from tests.waiting import wait_until


def spot_buy(price) -> dict:
    return {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": Decimal("0.001"), "price": Decimal(price)}


def all_new(ids) -> None:
    wait_until(lambda: Order.objects.filter(id__in=ids, status=Status.NEW).count() == len(ids), timeout=30,
               what="the orders NEW")


def all_cancelled(ids) -> None:
    wait_until(lambda: Order.objects.filter(id__in=ids, status=Status.CANCELLED).count() == len(ids), timeout=30,
               what="the orders CANCELLED")


def test_spot_cancel_all_is_one_venue_request_recorded_order_by_order(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    ids = placed_ids(batches.orders_place_batch(orders=[spot_buy(90000 + i) for i in range(4)]))
    all_new(ids)

    cancelled = services.order_cancel_all(account="main", symbol="BTCUSDT")

    assert sorted(o.id for o in cancelled) == sorted(ids)
    all_cancelled(ids)
    assert len(requests_to(venue, "DELETE", "/api/v3/openOrders")) == 1
    assert requests_to(venue, "DELETE", "/api/v3/order") == []
    assert venue_view.fetch_open_orders("BTC/USDT") == []
    for order in Order.objects.filter(id__in=ids):
        assert order.events.filter(to_status=Status.CANCELLED).count() == 1


def test_usdm_cancel_all_goes_ten_a_request(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    ids = placed_ids(batches.orders_place_batch(orders=[futures_buy(99000 + i) for i in range(12)]))
    all_new(ids)

    services.order_cancel_all(account="main", symbol="BTCUSDT")

    all_cancelled(ids)
    assert len(requests_to(venue, "DELETE", "/fapi/v1/batchOrders")) == 2  # 10 + 2
    assert requests_to(venue, "DELETE", "/fapi/v1/order") == []
    assert venue_view.fetch_open_orders("BTC/USDT:USDT") == []


def test_a_lost_answer_to_a_cancel_all_is_settled_order_by_order(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    ids = placed_ids(batches.orders_place_batch(orders=[spot_buy(90000 + i) for i in range(3)]))
    all_new(ids)
    venue.control.set_faults(drop_response_count=1, endpoints=["DELETE /api/v3/openOrders"])

    services.order_cancel_all(account="main", symbol="BTCUSDT")

    all_cancelled(ids)
    assert venue.control.fault_counts()["drop_response"] == 1
    assert len(requests_to(venue, "DELETE", "/api/v3/order")) == 3  # each order's own cancel: -2011, then its lookup
    assert venue_view.fetch_open_orders("BTC/USDT") == []


def test_spot_cancel_all_is_not_used_while_another_order_works_on_the_symbol(venue, account_on_venue, order_lane,
                                                                              venue_view):
    """No worker here: the orders are sent and the group cancelled by calling the worker's steps directly."""
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    orders = [services.order_place(**spot_buy(90000 + i)) for i in range(3)]
    for order in orders:
        venue_orders.submit(order.id)
    for order in orders[:2]:
        services.order_cancel(order_id=order.id)

    venue_orders.cancel_group([order.id for order in orders[:2]])

    assert dict(Order.objects.values_list("id", "status")) == {
        orders[0].id: Status.CANCELLED, orders[1].id: Status.CANCELLED, orders[2].id: Status.NEW}
    assert requests_to(venue, "DELETE", "/api/v3/openOrders") == []
    assert len(requests_to(venue, "DELETE", "/api/v3/order")) == 2
    assert [o["clientOrderId"] for o in venue_view.fetch_open_orders("BTC/USDT")] == [orders[2].id]
