"""How many SQL queries one placement and one cancel make: pinned, so an extra query per order (an N+1,
a lookup that could be joined) shows up here before it shows up in the latency figures (bench/).

Under pytest the outermost transaction is a savepoint, so each count includes its SAVEPOINT and
RELEASE (in production those are BEGIN and COMMIT)."""
from decimal import Decimal

import pytest

from exchanges.results import venue_order
from execution import venue_orders
from orders import services
from orders.models import Order, Status


def place(**kw):
    return services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                price=Decimal("20000"), **kw)


@pytest.fixture
def working_order(account, btcusdt, no_prices):
    order = place()
    Order.objects.filter(pk=order.pk).update(status=Status.NEW, exchange_order_id="1")
    return order


def test_one_placement(account, btcusdt, trader, no_prices, django_assert_num_queries):
    # account, access, instrument; then in the transaction: the account with its risk limits and the kill switch
    # (no lock: no limit counts open orders), the order, its event (+ SAVEPOINT/RELEASE)
    with django_assert_num_queries(8):
        order = place(user=trader)
    assert order.status == Status.PENDING_NEW


def test_one_placement_with_a_client_order_id(account, btcusdt, trader, no_prices, django_assert_num_queries):
    # as above, plus the idempotency look-up and a savepoint around the insert (a concurrent duplicate loses on
    # the unique constraint there)
    with django_assert_num_queries(11):
        order = place(user=trader, client_order_id="q-1")
    assert order.client_order_id == "q-1"


def test_a_repeated_client_order_id_reads_only(account, btcusdt, trader, no_prices, django_assert_num_queries):
    first = place(user=trader, client_order_id="q-2")
    with django_assert_num_queries(3):
        again = place(user=trader, client_order_id="q-2")
    assert again.pk == first.pk and Order.objects.count() == 1


def test_one_cancel(working_order, trader, django_assert_num_queries):
    # the order, the account's access; then in the transaction: the order lock, its update, its event
    # (+ SAVEPOINT/RELEASE)
    with django_assert_num_queries(8):
        order = services.order_cancel(order_id=working_order.id, user=trader)
    assert order.status == Status.PENDING_CANCEL


def test_the_workers_ack_of_a_resting_order(working_order, django_assert_num_queries):
    # What the worker records when the venue accepts an order that rests: nothing filled, so no trades are
    # looked for. One transaction: the order's lock, its update, its event (+ SAVEPOINT/RELEASE).
    Order.objects.filter(pk=working_order.pk).update(status=Status.PENDING_NEW, exchange_order_id="")
    answer = venue_order({"id": "7", "status": "open", "filled": 0, "info": {"status": "NEW"}})
    with django_assert_num_queries(5):
        order = venue_orders.apply_venue_order(None, working_order, answer, symbol="BTC/USDT")
    assert (order.status, order.exchange_order_id) == (Status.NEW, "7")


def test_one_fill_and_its_fold(working_order, django_assert_num_queries):
    # Recording a trade: the order lock, the fill (in a savepoint against a duplicate), the totals, the order's update
    # and event (10 with the SAVEPOINTs and RELEASEs); then the fold (spot): the account's spot lock, "folded already or
    # behind?", adjustments after it, the holdings it touches, their upsert, the fill's PnL row (the pair is cached).
    from datetime import UTC, datetime

    def fill(trade_id: str):
        return services.fill_record(order_id=working_order.id, trade_id=trade_id, price=Decimal("20000"),
                                    quantity=Decimal("0.001"), fee=Decimal("0.00001"), fee_asset="BTC", is_maker=True,
                                    executed_at=datetime.now(UTC))
    fill("1")
    with django_assert_num_queries(16):
        assert fill("2") is not None
