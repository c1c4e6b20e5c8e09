"""A batch's USD-M placements go to the venue five to a Binance batchOrders request, with every guarantee of a single
send: each order sent once, each answer (an order or a refusal) recorded on its own order, and a request whose
answer is lost settled per order by client order id, never sent again. Real worker, ccxt over HTTP to the venue."""
from decimal import Decimal

from orders import batches
from orders.models import Order, Status
from tests.waiting import wait_until


def futures_buy(price) -> dict:
    return {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": Decimal("0.01"), "price": Decimal(price),
            "market": "futures"}


def requests_to(venue, method: str, path: str) -> list[dict]:
    return [row for row in venue.control.audit() if row["method"] == method and row["path"] == path]


def venue_orders_by_client_id(venue) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in venue.control.records(venue.api_key, market="futures")["orders"]:
        found.setdefault(row["client_order_id"], []).append(row)
    return found


def placed_ids(results) -> list[str]:
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return [r.order.id for r in results]


def test_twelve_usdm_orders_go_in_three_requests_and_a_spot_order_alone(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    orders = [futures_buy(99000 + i) for i in range(12)]
    spot = {**futures_buy(90000), "market": "spot", "quantity": Decimal("0.001")}

    ids = placed_ids(batches.orders_place_batch(orders=[*orders, spot]))

    wait_until(lambda: Order.objects.filter(id__in=ids, status=Status.NEW).count() == 13, timeout=30,
               what="all 13 orders NEW")
    assert len(requests_to(venue, "POST", "/fapi/v1/batchOrders")) == 3  # 5 + 5 + 2
    assert requests_to(venue, "POST", "/fapi/v1/order") == []
    assert len(requests_to(venue, "POST", "/api/v3/order")) == 1
    on_venue = venue_orders_by_client_id(venue)
    for order in Order.objects.filter(id__in=ids[:12]):
        [row] = on_venue[order.id]
        assert order.exchange_order_id == str(row["order_id"]) and Decimal(row["price"]) == order.price


def test_a_refusal_in_a_group_rejects_that_order_alone_with_the_venues_reason(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    orders = [futures_buy(99000), futures_buy(90000), futures_buy(99100)]  # 90000: under the venue's 95% band

    ids = placed_ids(batches.orders_place_batch(orders=orders))

    wait_until(lambda: not Order.objects.filter(id__in=ids, status=Status.PENDING_NEW).exists(), timeout=30,
               what="every order answered")
    statuses = dict(Order.objects.filter(id__in=ids).values_list("id", "status"))
    assert [statuses[i] for i in ids] == [Status.NEW, Status.REJECTED, Status.NEW]
    assert Order.objects.get(id=ids[1]).reason.startswith("price band: ")
    assert len(requests_to(venue, "POST", "/fapi/v1/batchOrders")) == 1
    assert set(venue_orders_by_client_id(venue)) == {ids[0], ids[2]}


def test_a_lost_answer_to_a_group_places_each_order_once(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    venue.control.set_faults(drop_response_count=1, endpoints=["POST /fapi/v1/batchOrders"])

    ids = placed_ids(batches.orders_place_batch(orders=[futures_buy(99000 + i) for i in range(5)]))

    wait_until(lambda: Order.objects.filter(id__in=ids, status=Status.NEW).count() == 5, timeout=30,
               what="the five orders NEW, found by client order id")
    assert venue.control.fault_counts()["drop_response"] == 1
    assert len(requests_to(venue, "POST", "/fapi/v1/batchOrders")) == 1
    assert requests_to(venue, "POST", "/fapi/v1/order") == []  # looked up, never sent again
    looked_up = {row["orig_client_order_id"] for row in requests_to(venue, "GET", "/fapi/v1/order")}
    assert set(ids) <= looked_up
    on_venue = venue_orders_by_client_id(venue)
    assert {i: len(on_venue[i]) for i in ids} == {i: 1 for i in ids}
    for order in Order.objects.filter(id__in=ids):
        assert order.exchange_order_id == str(on_venue[order.id][0]["order_id"])
