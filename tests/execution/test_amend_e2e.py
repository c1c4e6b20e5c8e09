"""Amending an order end to end (real PostgreSQL, Redis, Celery worker, ccxt to the local venue): the venue's answer
decides, the ledger order keeps its id, client order id and exchange order id, and an AMENDED event carries the old
and new values; refusals change nothing; a lost answer is looked up, never sent again."""
from __future__ import annotations

from decimal import Decimal

import pytest

from infra.errors import Conflict, FailedPrecondition, InvalidInput
from orders import services
from orders.lifecycle import EventKind
from orders.models import Order, Status
from tests.fixtures.worker import sync_due
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal
PERP = "BTC/USDT:USDT"


def _order(order_id: str) -> Order:
    return Order.objects.get(pk=order_id)


def _working(order_id: str) -> Order:
    return wait_until(lambda: (o := _order(order_id)).status == Status.NEW and o, what="NEW")


def _settled(order_id: str, **wait) -> Order:
    return wait_until(lambda: (o := _order(order_id)).amend_request is None and o, what="amend settled", **wait)


def _events(order: Order, kind: str) -> list[dict]:
    return [e.payload for e in order.events.filter(kind=kind).order_by("sequence")]


def _place(**fields) -> Order:
    base = {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": D("0.01"), "order_type": "LIMIT",
            "client_order_id": "bot-1"}
    return services.order_place(**{**base, **fields})


def test_usdm_amend_of_price_and_quantity_keeps_the_order_and_records_old_and_new(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    order = _working(_place(market="futures", price=D("99000")).id)

    services.order_amend(order_id=order.id, price=D("99100"), quantity=D("0.02"))

    amended = _settled(order.id)
    assert (amended.price, amended.quantity, amended.status) == (D("99100"), D("0.02"), Status.NEW)
    assert amended.exchange_order_id == order.exchange_order_id and amended.client_order_id == "bot-1"
    [event] = _events(amended, EventKind.AMENDED)
    assert event == {"from_price": "99000.000000000000000000", "from_quantity": "0.010000000000000000",
                     "price": "99100", "quantity": "0.02"}
    on_venue = venue_view.fetch_order(order.exchange_order_id, PERP)
    assert on_venue["price"] == 99100 and on_venue["amount"] == 0.02 and on_venue["clientOrderId"] == order.id


def test_spot_amend_decreases_quantity_keeping_ids_and_releasing_funds(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = _working(_place(price=D("99000"), quantity=D("0.02")).id)

    services.order_amend(order_id=order.id, quantity=D("0.01"))

    amended = _settled(order.id)
    assert amended.quantity == D("0.01") and amended.price == D("99000") and amended.status == Status.NEW
    assert len(_events(amended, EventKind.AMENDED)) == 1
    on_venue = venue_view.fetch_order(order.exchange_order_id, "BTC/USDT")
    assert on_venue["id"] == order.exchange_order_id and on_venue["clientOrderId"] == order.id
    assert on_venue["amount"] == 0.01
    usdt = next(r for r in venue_view.fetch_balance()["info"]["balances"] if r["asset"] == "USDT")
    assert D(usdt["locked"]) == D("990")


def test_refusals_name_the_field_and_change_nothing(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    order = _working(_place(market="futures", price=D("99000")).id)

    with pytest.raises(InvalidInput, match="tick size") as tick:
        services.order_amend(order_id=order.id, price=D("99000.05"))
    assert tick.value.field == "price"
    with pytest.raises(InvalidInput, match="nothing to amend"):
        services.order_amend(order_id=order.id, price=D("99000"))
    with pytest.raises(InvalidInput, match="give a new price"):
        services.order_amend(order_id=order.id)

    spot = _working(_place(price=D("99000"), client_order_id="bot-2").id)
    with pytest.raises(InvalidInput, match="spot order's price") as spot_price:
        services.order_amend(order_id=spot.id, price=D("98000"))
    assert spot_price.value.field == "price"

    services.order_cancel(order_id=order.id)
    wait_until(lambda: _order(order.id).status == Status.CANCELLED, what="CANCELLED")
    with pytest.raises(FailedPrecondition, match="only NEW, PARTIALLY_FILLED orders can be amended"):
        services.order_amend(order_id=order.id, price=D("99100"))
    assert not _order(order.id).events.filter(kind__startswith="AMEND").exists()
    assert not _order(spot.id).events.filter(kind__startswith="AMEND").exists()


def test_a_quantity_not_above_what_filled_is_refused(venue, venue_account):
    venue.control.fund(venue.api_key, "spot", "USDT", 10_000_000)
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = _working(_place(price=D("99000"), quantity=D("60")).id)
    venue.control.set_price("BTCUSDT", D("98999.5"), freeze=True)  # one level fills part of it
    venue.control.set_price("BTCUSDT", 101000, freeze=True)
    partial = wait_until(lambda: (o := _order(order.id)).filled_quantity > 0 and o, tick=sync_due, interval=0.2,
                         what="partly filled")

    with pytest.raises(InvalidInput, match="already filled") as below:
        services.order_amend(order_id=order.id, quantity=partial.filled_quantity)
    assert below.value.field == "quantity"


def test_a_second_amend_while_one_is_on_its_way_is_refused(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    order = _working(_place(market="futures", price=D("99000")).id)
    venue.control.set_faults(drop_request_count=1, endpoints=["PUT /fapi/v1/order"])

    services.order_amend(order_id=order.id, price=D("99100"))
    with pytest.raises(Conflict, match="already on its way"):
        services.order_amend(order_id=order.id, price=D("99200"))

    refused = _settled(order.id, tick=sync_due, interval=0.2, timeout=30)
    assert refused.price == D("99000")  # the request never reached the venue: looked up, found unchanged
    [event] = _events(refused, EventKind.AMEND_REFUSED)
    assert event["requested_price"] == "99100" and "never applied" in event["reason"]


def test_an_amend_whose_answer_is_lost_is_found_by_lookup_and_sent_once(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    order = _working(_place(market="futures", price=D("99000")).id)
    venue.control.set_faults(drop_response_count=1, endpoints=["PUT /fapi/v1/order"])

    services.order_amend(order_id=order.id, price=D("99200"), quantity=D("0.03"))

    amended = _settled(order.id, tick=sync_due, interval=0.2, timeout=30)
    assert (amended.price, amended.quantity) == (D("99200"), D("0.03"))
    assert len(_events(amended, EventKind.AMENDED)) == 1
    sent = [r for r in venue.control.audit() if (r["method"], r["path"]) == ("PUT", "/fapi/v1/order")]
    assert len(sent) == 1


def test_an_amend_racing_a_fill_ends_as_the_venue_says(polling_only, venue, venue_account, venue_view):
    """The order fills on the venue before the amend arrives: the venue refuses the amend (-2013, no longer open),
    the ledger records the refusal and takes the fill from the venue."""
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    order = _working(_place(market="futures", price=D("99000")).id)
    venue.control.set_price("BTCUSDT", 98000, market="futures", freeze=True)  # trades through 99000 on the venue
    assert venue_view.fetch_order(order.exchange_order_id, PERP)["status"] == "closed"

    services.order_amend(order_id=order.id, price=D("98500"))  # the ledger may not know of the fill yet

    filled = wait_until(lambda: (o := _order(order.id)).status == Status.FILLED and o.amend_request is None and o,
                        tick=sync_due, interval=0.2, what="FILLED, amend settled")
    assert filled.price == D("99000") and filled.filled_quantity == D("0.01")
    assert len(_events(filled, EventKind.AMEND_REFUSED)) == 1
    assert sum(f.quantity for f in filled.fills.all()) == D("0.01")


def test_rest_amend_answers_the_amended_order_once_the_venue_confirmed(venue, venue_account, settings):
    from accounts import services as account_services
    from tests import factories
    from tests.orders.api.conftest import error_of, token_client

    settings.OMS_PLACE_WAIT_SECONDS = 10
    user = factories.user_create(username="dora")
    account_services.member_add(account="main", user=user)
    rest = token_client(user)
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    order = _working(_place(market="futures", price=D("99000")).id)

    response = rest.post(f"/api/v1/orders/{order.id}/amend/", {"price": "99300"}, format="json")
    refused = rest.post(f"/api/v1/orders/{order.id}/amend/", {"quantity": "0.0101"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["amend_pending"] is False and body["order"]["id"] == order.id
    assert body["order"]["price"] == "99300" and body["order"]["quantity"] == "0.01"
    assert refused.status_code == 400 and error_of(refused)["field"] == "quantity"
    assert "step size" in error_of(refused)["message"]
