"""The spine, end to end: real PostgreSQL, Redis, a real Celery worker, ccxt over HTTP to the local venue.

An order placed through the service reaches the venue once, and what the venue does to it comes back."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Balance, Position
from oms_project.celery import app
from oms_project.errors import InvalidInput
from orders import services
from orders.models import Fill, Order, Status
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal


def _order(order_id: str) -> Order:
    return Order.objects.get(pk=order_id)


def _status_is(order_id: str, *statuses: str):
    def check():
        order = _order(order_id)
        return order if order.status in statuses else None
    return check


def _sync_due() -> None:
    """What the beat does every second: poll the working orders that are due."""
    app.send_task("orders.tasks.orders_sync_due")


def _ledger_balances(account, market="spot") -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.free, b.locked) for b in Balance.objects.filter(account=account, market=market)}


def _venue_balances(venue_view) -> dict[str, tuple[Decimal, Decimal]]:
    rows = venue_view.fetch_balance()["info"]["balances"]
    return {r["asset"]: (D(r["free"]), D(r["locked"])) for r in rows if D(r["free"]) or D(r["locked"])}


def _balances_match(account, venue_view):
    ledger, venue = _ledger_balances(account), _venue_balances(venue_view)
    return ledger == venue and ledger


def _place(**fields) -> Order:
    base = {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": D("0.01"), "order_type": "LIMIT"}
    return services.order_place(**{**base, **fields})


def test_a_resting_limit_order_is_acknowledged_then_fills_when_the_price_crosses(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    before = _ledger_balances(venue_account)

    order = _place(price=D("99000"))
    order = wait_until(_status_is(order.id, Status.NEW), what="NEW")
    on_venue = venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order.id})
    assert order.exchange_order_id == on_venue["id"] and on_venue["status"] == "open"
    assert not order.fills.exists()

    venue.control.set_price("BTCUSDT", 98000, freeze=True)  # the book trades through 99000
    order = wait_until(_status_is(order.id, Status.FILLED), tick=_sync_due, interval=0.2, what="FILLED")

    fills = list(order.fills.all())
    assert sum(f.quantity for f in fills) == D("0.01") == order.filled_quantity
    assert all(f.price == D("99000") and f.is_maker and f.fee > 0 and f.fee_asset == "BTC" for f in fills)
    assert order.average_price == D("99000") and order.cumulative_fee == sum(f.fee for f in fills)
    after = wait_until(lambda: _balances_match(venue_account, venue_view), what="ledger balances = venue balances")
    assert after["BTC"][0] == before["BTC"][0] + D("0.01") - order.cumulative_fee
    assert sum(after["USDT"]) == sum(before["USDT"]) - D("990")


def test_a_market_order_fills_at_once_with_its_fills_and_fees(venue, venue_account, venue_view):
    order = _place(order_type="MARKET", side="SELL", quantity=D("0.02"))
    order = wait_until(_status_is(order.id, Status.FILLED), what="FILLED")

    trades = venue_view.fetch_my_trades("BTC/USDT", None, None, {"orderId": order.exchange_order_id})
    assert sorted(f.trade_id for f in order.fills.all()) == sorted(t["id"] for t in trades)
    assert order.filled_quantity == D("0.02") == sum(f.quantity for f in order.fills.all())
    assert order.cumulative_fee == sum(D(t["info"]["commission"]) for t in trades) > 0 and order.fee_asset == "USDT"
    wait_until(lambda: _balances_match(venue_account, venue_view), what="ledger balances = venue balances")


def test_a_partial_fill_then_cancel_ends_cancelled_keeping_the_partial_quantity(venue, venue_account, venue_view):
    venue.control.fund(venue.api_key, "spot", "USDT", 10_000_000)
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = _place(price=D("99000"), quantity=D("60"))  # far more than the venue shows on any level
    wait_until(_status_is(order.id, Status.NEW), what="NEW")
    venue.control.set_price("BTCUSDT", D("98999.5"), freeze=True)  # the best ask reaches 99000: one level fills
    venue.control.set_price("BTCUSDT", 101000, freeze=True)  # and the market leaves again
    on_venue = venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order.id})
    assert on_venue["status"] == "open" and 0 < on_venue["filled"] < 60

    services.order_cancel(order_id=order.id)
    order = wait_until(_status_is(order.id, Status.CANCELLED), what="CANCELLED")

    on_venue = venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order.id})
    assert on_venue["status"] == "canceled"
    assert order.filled_quantity == D(on_venue["info"]["executedQty"]) > 0
    assert sum(f.quantity for f in order.fills.all()) == order.filled_quantity
    assert order.quantity == D("60")


def test_a_futures_order_with_leverage_10_opens_the_position_the_venue_holds(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 115000, market="futures", freeze=True)  # a still mark price: exact margins
    order = _place(market="futures", order_type="MARKET", quantity=D("0.05"), leverage=10)
    order = wait_until(_status_is(order.id, Status.FILLED), what="FILLED")
    assert order.fills.exists()

    [venue_position] = [p for p in venue_view.fetch_positions(None, {"type": "future"}) if p["contracts"]]
    info = venue_position["info"]
    position = wait_until(lambda: Position.objects.filter(account=venue_account, symbol="BTCUSDT", size__gt=0).first(),
                          what="position synced")
    assert position.side == Position.Side.LONG
    assert position.size == D(info["positionAmt"]) == D("0.05")
    assert position.entry_price == D(info["entryPrice"]) == order.average_price
    assert position.leverage == 10
    assert position.margin == D(info["initialMargin"])
    assert position.margin == pytest.approx(position.size * D(info["markPrice"]) / 10, rel=D("1e-6"))


def test_an_order_too_small_for_the_instrument_is_refused_before_it_reaches_the_venue(venue, venue_account):
    requests_before = len(venue.control.audit())
    with pytest.raises(InvalidInput) as refused:
        _place(price=D("100000"), quantity=D("0.00002"))  # 2 USDT; the minimum is 5
    assert refused.value.field == "quantity"
    assert "2" in refused.value.message and "5" in refused.value.message
    assert not Order.objects.exists()
    assert len(venue.control.audit()) == requests_before


def _order_posts(venue, path="/api/v3/order") -> list[dict]:
    return [r for r in venue.control.audit() if r["method"] == "POST" and r["path"] == path]


def test_with_responses_dropped_after_acceptance_100_placements_make_100_orders_each_sent_once(venue, venue_account,
                                                                                               venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(drop_response_rate=1.0, endpoints=["POST /api/v3/order"])

    placed = [_place(price=D("90000") + i, quantity=D("0.001")) for i in range(100)]
    ids = {o.id for o in placed}
    wait_until(lambda: not Order.objects.filter(status=Status.PENDING_NEW).exists(), timeout=60, interval=0.1,
               what="every order resolved")

    orders = list(Order.objects.all())
    assert len(orders) == 100 and {o.status for o in orders} == {Status.NEW}
    assert len({o.exchange_order_id for o in orders}) == 100
    posts = _order_posts(venue)
    assert sorted(r["client_order_id"] for r in posts) == sorted(ids)  # each sent exactly once
    assert {r["outcome"] for r in posts} == {"fault:drop_response"}
    on_venue = venue_view.fetch_open_orders("BTC/USDT")
    assert {o["clientOrderId"]: o["id"] for o in on_venue} == {o.id: o.exchange_order_id for o in orders}


def test_with_requests_dropped_before_processing_the_orders_end_rejected_after_lookup(venue, venue_account,
                                                                                     venue_view, settings):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(drop_request_count=5, endpoints=["POST /api/v3/order"])

    placed = [_place(price=D("90000"), quantity=D("0.001")) for _ in range(5)]
    for order in placed:
        rejected = wait_until(_status_is(order.id, Status.REJECTED), what="REJECTED")
        assert "never received" in rejected.reason

    posts = _order_posts(venue)
    assert sorted(r["client_order_id"] for r in posts) == sorted(o.id for o in placed)  # never resent
    assert {r["outcome"] for r in posts} == {"fault:drop_request"}
    window_ms = settings.OMS_RECV_WINDOW_MS + settings.OMS_UNKNOWN_GRACE_SECONDS * 1000
    for post in posts:
        lookups = [r for r in venue.control.audit(post["client_order_id"]) if r["method"] == "GET"]
        assert lookups and lookups[-1]["ts"] >= post["ts"] + window_ms  # "not found" trusted only after the window
    assert venue_view.fetch_open_orders("BTC/USDT") == []


def test_a_cancel_that_loses_the_race_to_a_fill_ends_filled(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = _place(price=D("99000"))
    wait_until(_status_is(order.id, Status.NEW), what="NEW")
    venue.control.set_price("BTCUSDT", 98000, freeze=True)  # fills on the venue; the ledger has not looked yet

    services.order_cancel(order_id=order.id)
    order = wait_until(_status_is(order.id, Status.FILLED, Status.CANCELLED), what="settled")

    assert order.status == Status.FILLED
    assert sum(f.quantity for f in order.fills.all()) == D("0.01")


def test_a_refused_api_key_disables_the_account_with_the_reason_and_rejects_the_order(venue, venue_account):
    venue.control.set_faults(reject_keys=[venue.api_key])
    order = _place(price=D("90000"))
    order = wait_until(_status_is(order.id, Status.REJECTED), what="REJECTED")

    venue_account.refresh_from_db()
    assert not venue_account.enabled
    assert "API key" in venue_account.disabled_reason and "-2015" in venue_account.disabled_reason
    assert order.reason == venue_account.disabled_reason
    assert venue.api_key not in venue_account.disabled_reason


def test_a_429_bans_the_account_for_retry_after_and_the_order_goes_out_once_the_ban_ends(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(burst_429=1, endpoints=["POST /api/v3/order"])
    order = _place(price=D("90000"))
    order = wait_until(_status_is(order.id, Status.NEW), timeout=10, what="NEW")

    refused, accepted = _order_posts(venue)
    assert refused["outcome"] == "fault:burst_429" and accepted["status"] == 200
    assert accepted["ts"] - refused["ts"] >= 1000  # Retry-After: 1
    during_ban = [r for r in venue.control.audit() if refused["ts"] < r["ts"] < accepted["ts"]]
    assert during_ban == []
