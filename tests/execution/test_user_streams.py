"""User-data streams against the real stack: the in-process worker consumes the venue's streams through
ccxt.pro, and the ledger learns of fills as they happen, with no poll and no sweep (the live sweep's pace is
set to an hour and no beat runs here). Faults on the stream (dropped, duplicated, reordered events, a closed
connection, an expired listenKey) leave ledger == venue by the reliability invariants."""
from decimal import Decimal

import pytest

from exchanges import stream_state
from execution import sweeps, venue_orders
from orders import services, venue_wait
from orders.models import Fill, Order, OrderEvent, Status
from tests.faults.ledger_venue import compare, ledger_balances, venue_balances
from tests.infra.test_metrics import sample, scrape
from tests.waiting import wait_until

WINDOW_MS = 1200  # recvWindow 1 s + grace 0.2 s (venue_account)
PRICE = Decimal("100000")


@pytest.fixture
def streaming(venue_account, settings, venue):
    """`main` on the venue with its spot and USD-M streams live; sweeps only once an hour."""
    settings.OMS_SYNC_SWEEP_LIVE_SECONDS = 3600
    for market in ("spot", "futures"):
        venue.control.set_price("BTCUSDT", PRICE, market=market, freeze=True)
        wait_until(lambda m=market: stream_state.is_live(venue_account.pk, m), timeout=30,
                   what=f"the {market} user stream live")
    return venue_account


def _rest(account, *, market="spot", quantity="0.01", price=PRICE - 1000, **extra) -> Order:
    order = services.order_place(account=account.name, symbol="BTCUSDT", side="BUY", order_type="LIMIT",
                                 quantity=Decimal(quantity), price=Decimal(price), market=market, **extra)
    return wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.NEW).first(), timeout=15,
                      what="the order resting")


def _settled(venue, account, market="spot"):
    return wait_until(lambda: compare(venue, account, window_ms=WINDOW_MS, market=market), timeout=20,
                      what="ledger == venue")


@pytest.mark.e2e
@pytest.mark.parametrize("market", ["spot", "futures"])
def test_a_resting_order_filled_by_the_venue_is_filled_in_the_ledger_from_the_stream(streaming, venue, market):
    # given a BUY resting below the market
    order = _rest(streaming, market=market)
    # when the venue's price moves through it
    venue.control.set_price("BTCUSDT", PRICE - 2000, market=market, freeze=True)
    # then the ledger has it FILLED, learned from the stream (nothing polled or swept)
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).exists(), timeout=10, what="FILLED")
    fill_events = OrderEvent.objects.filter(order_id=order.id, kind="FILL")
    assert set(fill_events.values_list("source", flat=True)) == {"stream"}
    assert _settled(venue, streaming, market).ok


@pytest.mark.e2e
def test_metrics_show_each_stream_live_with_its_last_event_and_the_sync_weight(streaming, venue, client):
    # given a sweep of a resting order (its weight spent), then the order filled on the stream
    order = _rest(streaming)
    sweeps.sweep(streaming.pk, "spot")
    venue.control.set_price("BTCUSDT", PRICE - 2000, freeze=True)
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).exists(), timeout=10, what="FILLED")
    # then /metrics has both streams live, the spot one's last event seconds ago, its catch-up, the sweep's weight
    samples = scrape(client)
    labels = {"account": "main", "market": "spot"}
    assert sample(samples, "oms_user_stream_live", **labels) == 1
    assert sample(samples, "oms_user_stream_live", account="main", market="futures") == 1
    assert 0 <= samples[("oms_user_stream_last_event_age_seconds", tuple(sorted(labels.items())))] < 60
    assert sample(samples, "oms_user_stream_catch_ups_total", **labels) >= 1
    assert sample(samples, "oms_sync_weight_total", **labels) >= 6  # one open-orders request


def _no_order_moved_backwards(order: Order) -> None:
    """Along the order's events the filled quantity never decreases and nothing follows a terminal status."""
    rank = {Status.PENDING_NEW: 0, Status.NEW: 1, Status.PARTIALLY_FILLED: 2, Status.FILLED: 3}
    statuses = list(order.events.order_by("sequence").values_list("to_status", flat=True))
    ranks = [rank[s] for s in statuses if s in rank]
    assert ranks == sorted(ranks), statuses


@pytest.mark.e2e
def test_fills_the_stream_never_delivered_are_caught_up_page_by_page_when_it_reconnects(streaming, venue, settings):
    # given a large BUY resting, a stream that loses every event, and trades read 50 at a time (the page size is a
    # setting: 60 fills make two pages as 600 did at Binance's 500)
    settings.OMS_TRADES_PAGE = 50
    order = _rest(streaming, quantity="0.06", price="99000")
    venue.control.set_faults(user_event_drop_count=100_000, user_stream_markets=["spot"])
    # when 60 takers fill it while the events are lost, and then the stream breaks and comes back
    assert venue.control.trickle("BTCUSDT", "SELL", 60, "0.001")["fills"] == 60
    before = stream_state.snapshot(streaming.pk, "spot")
    venue.control.clear_faults()
    venue.control.set_faults(user_stream_close_count=1, user_stream_markets=["spot"])
    # then the reconnect's catch-up finds every fill (two pages of trades): the ledger equals the venue, no poll
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).exists(), timeout=30, what="FILLED")
    assert Fill.objects.filter(order_id=order.id).count() == 60
    assert _settled(venue, streaming).ok
    wait_until(lambda: stream_state.snapshot(streaming.pk, "spot")["catch_ups"] > before["catch_ups"], timeout=10,
               what="the catch-up counted")
    trade_reads = [r for r in venue.control.audit() if r["path"] == "/api/v3/myTrades"]
    assert len(trade_reads) >= 2, trade_reads


@pytest.mark.e2e
def test_a_lost_event_mid_order_has_its_trades_fetched_from_the_next_one(streaming, venue):
    # given a BUY resting, and a stream that loses one event
    order = _rest(streaming, quantity="0.005", price="99000")
    venue.control.set_faults(user_event_drop_count=1, user_stream_markets=["spot"])
    # when five takers fill it
    venue.control.trickle("BTCUSDT", "SELL", 5, "0.001")
    # then the ledger has all five trades, learned on the stream (the later events fetch what the lost one carried)
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).exists(), timeout=10, what="FILLED")
    assert Fill.objects.filter(order_id=order.id).count() == 5
    assert venue.control.fault_counts()["user_event_drop"] == 1
    assert _settled(venue, streaming).ok


@pytest.mark.e2e
def test_duplicated_and_reordered_events_record_each_fill_once_and_never_move_an_order_back(streaming, venue):
    # given two BUYs resting, and a stream that repeats and swaps events
    first = _rest(streaming, quantity="0.004", price="99000")
    second = _rest(streaming, quantity="0.004", price="98999")
    venue.control.set_faults(user_event_duplicate_count=5, user_event_reorder_count=5, user_stream_markets=["spot"])
    # when eight takers fill both
    venue.control.trickle("BTCUSDT", "SELL", 8, "0.001")
    # then each trade is one fill, both orders are FILLED, and neither moved backwards on the way
    for order in (first, second):
        wait_until(lambda o=order: Order.objects.filter(pk=o.id, status=Status.FILLED).exists(), timeout=10,
                   what="FILLED")
        assert Fill.objects.filter(order_id=order.id).count() == 4
        _no_order_moved_backwards(order)
    counts = venue.control.fault_counts()
    assert counts["user_event_duplicate"] >= 3 and counts["user_event_reorder"] >= 3
    assert _settled(venue, streaming).ok


@pytest.mark.e2e
def test_an_expired_listen_key_is_replaced_and_the_stream_goes_on(streaming, venue):
    # given the USD-M stream live, and its listenKey expired by the venue
    reconnects = stream_state.snapshot(streaming.pk, "futures")["reconnects"]
    venue.control.set_faults(listen_key_expire_count=1)
    wait_until(lambda: stream_state.snapshot(streaming.pk, "futures")["reconnects"] > reconnects, timeout=15,
               what="a reconnection")
    wait_until(lambda: stream_state.is_live(streaming.pk, "futures"), timeout=15, what="live again")
    # when a resting order fills
    order = _rest(streaming, market="futures")
    venue.control.set_price("BTCUSDT", PRICE - 2000, market="futures", freeze=True)
    # then the new stream tells the ledger
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).exists(), timeout=10, what="FILLED")
    assert set(OrderEvent.objects.filter(order_id=order.id, kind="FILL").values_list("source", flat=True)) == {"stream"}
    assert _settled(venue, streaming, "futures").ok


@pytest.mark.e2e
def test_spot_balances_follow_the_streams_balance_events_without_asking_the_venue(streaming, venue):
    # given the ledger's spot balances as the venue has them, and the catch-ups' balance syncs done
    wait_until(lambda: not venue_orders.balance_sync_busy(streaming.pk), timeout=15, what="no balance sync pending")
    wait_until(lambda: ledger_balances(streaming) == venue_balances(venue), timeout=15, what="balances synced")
    seen = len(venue.control.audit())
    # when an order is placed (funds locked) and then fills (funds moved)
    order = _rest(streaming, quantity="0.02")
    venue.control.set_price("BTCUSDT", PRICE - 2000, freeze=True)
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).exists(), timeout=10, what="FILLED")
    # then the ledger's balances equal the venue's again, taken from the stream: no balance request was made
    wait_until(lambda: ledger_balances(streaming) == venue_balances(venue), timeout=10, what="balances equal")
    asked = [r["path"] for r in venue.control.audit()[seen:] if r["path"] == "/api/v3/account"]
    assert asked == []


@pytest.mark.e2e
def test_a_market_order_is_answered_filled_even_when_the_stream_says_new_first(streaming, venue):
    # given the spot stream live, and the placement's own answer held back (then lost) so the stream's NEW comes first
    venue.control.set_faults(drop_response_count=1, drop_hold_ms=1500, endpoints=["POST /api/v3/order"])
    # when a MARKET order is placed and its answer awaited by the rule gRPC and REST share
    order = services.order_place(account=streaming.name, symbol="BTCUSDT", side="BUY", order_type="MARKET",
                                 quantity=Decimal("0.001"))
    answered = venue_wait.order_answered(order, pending=Status.PENDING_NEW)
    # then the answer is the fill the venue made in that request, not the stream's NEW on the way to it
    assert answered.status == Status.FILLED, answered.status
    assert OrderEvent.objects.filter(order_id=order.id, kind="ACCEPTED", source="stream").exists()
