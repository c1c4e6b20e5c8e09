"""order_place: validation against the catalog, access, idempotency on client_order_id, and the hand-off."""
import threading
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection

from accounts import services as account_services
from infra import pubsub
from infra.errors import Conflict, FailedPrecondition, InvalidInput, NotFound, PermissionDenied, ServiceError
from orders import handoff, services
from orders.lifecycle import EventKind
from orders.models import Order, OrderEvent, Status
from orders.publish import publish_order_update
from tests import factories


def handed_off(callbacks):
    """What runs after commit: (function, order id) of our publish and enqueue callbacks."""
    return [(cb.func, cb.args[0] if isinstance(cb.args[0], str) else cb.args[0].id)
            for cb in callbacks if isinstance(cb, partial)]


def place(account, **kw):
    return factories.order_place(account, **kw)


def test_place_persists_pending_new_with_its_event_and_submits_after_commit(account, btcusdt, trader, no_prices,
                                                                           django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        order = services.order_place(account="main", symbol="BTC/USDT", side="buy", quantity=Decimal("0.01"),
                                     price=Decimal("20000"), client_order_id="c-1", user=trader)
    # then
    order.refresh_from_db()
    assert (order.status, order.symbol, order.side, order.exchange, order.version) == (
        Status.PENDING_NEW, "BTCUSDT", "BUY", "binance", 1)
    assert order.time_in_force == "GTC" and order.created_by == trader
    assert list(order.events.values_list("sequence", "kind", "to_status")) == [(1, EventKind.PLACED, Status.PENDING_NEW)]
    assert handed_off(callbacks) == [(publish_order_update, order.id), (handoff.enqueue_submit, order.id)]


def test_submission_lands_on_the_order_lane(order_lane, account, btcusdt, no_prices):
    # when
    order = place(account)
    # then its id waits on the order lane in Redis for a worker's lane thread
    assert order_lane.items() == [("submit", order.id, "main")]


def test_same_client_order_id_returns_the_existing_order_and_submits_nothing(account, btcusdt, no_prices,
                                                                             django_capture_on_commit_callbacks):
    # given
    first = place(account, client_order_id="once")
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        again = place(account, client_order_id="once")
    # then
    assert again.id == first.id
    assert handed_off(callbacks) == []
    assert Order.objects.count() == 1 and OrderEvent.objects.count() == 1


def test_same_client_order_id_for_a_different_order_is_a_conflict(account, btcusdt, no_prices):
    # given
    place(account, client_order_id="once")
    # when / then
    with pytest.raises(Conflict) as err:
        place(account, client_order_id="once", quantity=Decimal("0.02"))
    assert err.value.field == "client_order_id"
    assert Order.objects.count() == 1


def test_same_client_order_id_on_another_account_is_another_order(account, btcusdt, no_prices):
    other = factories.account_create(name="other")
    assert place(account, client_order_id="x").id != place(other, client_order_id="x").id


def placed_at_once(count: int, action) -> tuple[list, list[Exception]]:
    """Run `action` in `count` threads released together: (what each returned, what each raised)."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(action())
        except Exception as exc:  # collected for the test to assert
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results, errors


def test_two_threads_placing_the_same_client_order_id_make_one_order(order_lane, account, btcusdt, no_prices):
    # when
    results, errors = placed_at_once(2, lambda: place(account, client_order_id="race").id)
    # then
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert Order.objects.filter(client_order_id="race").count() == 1
    assert OrderEvent.objects.filter(order_id=results[0]).count() == 1


def test_concurrent_placements_cannot_race_past_max_open_orders(order_lane, account, btcusdt, no_prices):
    # given a limit of 3 open orders
    account_services.risk_limit_update(account="main", max_open_orders=3)
    # when 8 placements are released at once
    placed, refused = placed_at_once(8, lambda: place(account).id)
    # then the account's lock let exactly three through
    assert (len(placed), len(refused)) == (3, 5)
    assert Order.objects.count() == 3
    assert all(isinstance(exc, FailedPrecondition) and "max_open_orders is 3" in str(exc) for exc in refused)


@pytest.mark.parametrize("overrides,field,words", [
    ({"symbol": "DOGEUSDT"}, "symbol", ["unknown symbol DOGEUSDT", "BTCUSDT"]),
    ({"symbol": ""}, "symbol", ["required"]),
    ({"side": "HOLD"}, "side", ["BUY", "SELL"]),
    ({"order_type": "STOP"}, "order_type", ["LIMIT", "MARKET"]),
    ({"market": "options"}, "market", ["spot", "futures"]),
    ({"quantity": Decimal("0")}, "quantity", ["greater than 0"]),
    ({"quantity": Decimal("-1")}, "quantity", ["greater than 0"]),
    ({"quantity": float("nan")}, "quantity", ["finite"]),
    ({"quantity": float("inf")}, "quantity", ["finite"]),
    ({"quantity": "abc"}, "quantity", ["number"]),
    ({"quantity": "١"}, "quantity", ["ASCII digits", "'١'"]),
    ({"quantity": "0.00_1"}, "quantity", ["ASCII digits"]),
    ({"quantity": "1e-2"}, "quantity", ["ASCII digits"]),
    ({"quantity": Decimal("1e25")}, "quantity", ["out of range"]),
    ({"quantity": Decimal("0.000015")}, "quantity", ["0.000015", "step size 0.00001"]),
    ({"quantity": Decimal("0.0001"), "price": Decimal("20000")}, "quantity", ["below the minimum 5", "2"]),
    ({"price": Decimal("20000.005")}, "price", ["20000.005", "tick size 0.01"]),
    ({"price": None}, "price", ["LIMIT order needs a price"]),
    ({"price": Decimal("-5")}, "price", ["greater than 0"]),
    ({"price": float("inf")}, "price", ["finite"]),
    ({"order_type": "MARKET", "price": Decimal("20000")}, "price", ["MARKET order takes no price"]),
    ({"reduce_only": True}, "reduce_only", ["futures only"]),
    ({"leverage": 5}, "leverage", ["futures only"]),
    ({"post_only": True, "order_type": "MARKET", "price": None}, "post_only", ["LIMIT"]),
    ({"time_in_force": "DAY"}, "time_in_force", ["GTC"]),
    ({"client_order_id": "x" * 65}, "client_order_id", ["65 characters"]),
    ({"client_order_id": "a\x1bb"}, "client_order_id", ["control character", "U+001B", "position 2"]),
    ({"client_order_id": "a\tb"}, "client_order_id", ["control character", "U+0009"]),
    ({"client_order_id": "inv\u202egnp.exe"}, "client_order_id", ["bidirectional", "U+202E"]),
    ({"client_order_id": "x\u2066y"}, "client_order_id", ["bidirectional", "U+2066"]),
    ({"exchange": "kraken"}, "exchange", ["trades on binance, not kraken"]),
])
def test_refused_placement_names_the_field_and_leaves_no_row(account, btcusdt, no_prices, overrides, field, words):
    # when
    with pytest.raises(InvalidInput) as err:
        place(account, **overrides)
    # then
    assert err.value.field == field
    for word in words:
        assert word in err.value.message
    assert not Order.objects.exists() and not OrderEvent.objects.exists()


@pytest.mark.parametrize("overrides,field,words", [
    ({"leverage": 0.5}, "leverage", ["1 to 125"]),
    ({"leverage": 126}, "leverage", ["1 to 125"]),
    ({"quantity": Decimal("0.0015")}, "quantity", ["step size 0.001"]),
    ({"quantity": Decimal("0.001"), "price": Decimal("20000")}, "quantity", ["order value 20 USDT", "minimum 100 USDT"]),
])
def test_refused_futures_placement(account, btcusdt_futures, no_prices, overrides, field, words):
    with pytest.raises(InvalidInput) as err:
        place(account, **{"market": "futures", "price": Decimal("20000"), **overrides})
    assert err.value.field == field and all(w in err.value.message for w in words)
    assert not Order.objects.exists()


def test_futures_order_with_leverage_and_reduce_only(account, btcusdt_futures, no_prices):
    order = place(account, market="futures", quantity=Decimal("0.010"), leverage=20, reduce_only=True, side="SELL")
    assert (order.market, order.leverage, order.reduce_only) == ("futures", 20, True)


def test_market_order_without_price_accepts_price_zero_as_no_price(account, btcusdt, no_prices):
    order = place(account, order_type="MARKET", price=0)
    assert order.price is None and order.order_type == "MARKET" and order.time_in_force == ""


def test_inactive_instrument_is_refused(account, no_prices):
    factories.instrument_create(symbol="LUNAUSDT", active=False)
    with pytest.raises(InvalidInput, match="not trading"):
        place(account, symbol="LUNAUSDT")
    assert not Order.objects.exists()


def test_viewer_may_not_trade_and_stranger_does_not_see_the_account(account, btcusdt, no_prices):
    # given
    viewer = factories.user_create()
    factories.account_create(name="viewed", member=viewer, role="viewer")
    stranger = factories.user_create()
    # when / then
    with pytest.raises(PermissionDenied):
        services.order_place(account="viewed", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                             price=Decimal("20000"), user=viewer)
    with pytest.raises(NotFound) as err:
        services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                             price=Decimal("20000"), user=stranger)
    assert "main" in err.value.message and "member" not in err.value.message
    assert not Order.objects.exists()


def test_unknown_account_is_not_found(db, btcusdt):
    with pytest.raises(ServiceError) as err:
        services.order_place(account="nope", symbol="BTCUSDT", side="BUY", quantity=Decimal("1"), price=Decimal("1"))
    assert err.value.code == "not_found" and err.value.field == "account_id"


@pytest.mark.django_db(transaction=True)
def test_a_change_whose_publication_fails_after_commit_returns_normally(account, btcusdt, no_prices, settings, caplog):
    order = place(account)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there: the publication and hand-off fail
    pubsub.client.cache_clear()
    try:
        cancelled = services.order_cancel(order_id=order.id)
    finally:
        pubsub.client.cache_clear()
    # then the committed change is the answer, and the failure is a log line (the poller repeats the hand-off)
    assert cancelled.status == Status.PENDING_CANCEL
    assert Order.objects.get(pk=order.id).status == Status.PENDING_CANCEL
    assert "Error calling publish_order_update in on_commit()" in caplog.text


def test_cancel_all_refuses_an_exchange_that_is_not_the_accounts_and_changes_nothing(account, btcusdt, trader,
                                                                                      no_prices):
    order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                 price=Decimal("20000"), user=trader)
    with pytest.raises(InvalidInput) as refused:
        services.order_cancel_all(account="main", exchange="kraken", user=trader)
    assert refused.value.field == "exchange"
    assert Order.objects.get(pk=order.pk).status == Status.PENDING_NEW
    assert [o.pk for o in services.order_cancel_all(account="main", exchange="binance", user=trader)] == [order.pk]
