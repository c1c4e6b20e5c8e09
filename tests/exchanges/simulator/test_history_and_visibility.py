"""History limits in venue time (exchanges/simulator/history.py, venue_clock.py) and late visibility
(`visibility_delay_ms`, exchanges/simulator/visibility.py), through ccxt.binance."""
import time

import ccxt
import pytest

from tests.waiting import wait_until

from .helpers import hold_price

BTC, PERP = "BTC/USDT", "BTC/USDT:USDT"
DAY_MS = 86_400_000


def found(exchange, order_id: str, symbol: str) -> bool:
    try:
        exchange.fetch_order(order_id, symbol)
    except ccxt.OrderNotFound:
        return False
    return True


# ---- (4) history limits ------------------------------------------------------------------------------
def test_futures_unfilled_cancelled_orders_vanish_after_three_days_filled_ones_stay(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    cancelled = venue_exchange.create_order(PERP, "limit", "buy", 0.01, 99000)
    venue_exchange.cancel_order(cancelled["id"], PERP)
    filled = venue_exchange.create_order(PERP, "market", "buy", 0.01)
    resting = venue_exchange.create_order(PERP, "limit", "buy", 0.01, 98000)

    venue.control.set_clock(advance_ms=3 * DAY_MS - 60_000)
    assert found(venue_exchange, cancelled["id"], PERP)
    venue.control.set_clock(advance_ms=120_000)

    assert not found(venue_exchange, cancelled["id"], PERP)
    assert found(venue_exchange, filled["id"], PERP) and found(venue_exchange, resting["id"], PERP)
    ids = {o["id"] for o in venue_exchange.fetch_orders(PERP)}
    assert ids == {filled["id"], resting["id"]}
    assert len(venue.control.records(venue.api_key, "futures")["orders"]) == 3  # the venue still holds it


def test_futures_queries_cover_the_last_seven_days_and_windows_of_at_most_seven(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    filled = venue_exchange.create_order(PERP, "market", "buy", 0.01)
    assert len(venue_exchange.fetch_my_trades(PERP)) == 1

    venue.control.set_clock(advance_ms=8 * DAY_MS)

    assert venue_exchange.fetch_my_trades(PERP) == []  # no bounds: the last 7 days of venue time
    assert venue_exchange.fetch_orders(PERP) == []
    assert found(venue_exchange, filled["id"], PERP)  # a filled order is kept (90 days)
    now = int(time.time() * 1000)
    for method in (venue_exchange.fetch_orders, venue_exchange.fetch_my_trades):
        with pytest.raises(ccxt.ExchangeError, match='"code":-1127'):
            method(PERP, params={"startTime": now - 8 * DAY_MS, "endTime": now})


def test_spot_archives_unfilled_cancelled_orders_after_ninety_days(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    cancelled = venue_exchange.create_order(BTC, "limit", "buy", 0.001, 99000)
    venue_exchange.cancel_order(cancelled["id"], BTC)
    filled = venue_exchange.create_order(BTC, "market", "buy", 0.001)

    venue.control.set_clock(advance_ms=91 * DAY_MS)

    with pytest.raises(ccxt.InvalidOrder, match='"code":-2026'):
        venue_exchange.fetch_order(cancelled["id"], BTC)
    assert [o["id"] for o in venue_exchange.fetch_orders(BTC)] == [filled["id"]]
    now = int(time.time() * 1000)
    with pytest.raises(ccxt.ExchangeError, match='"code":-1127,"msg":"More than 24 hours between startTime and endTime."'):
        venue_exchange.fetch_orders(BTC, params={"startTime": now - DAY_MS - 1000, "endTime": now})


def test_clock_speed_passes_three_days_in_moments(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    cancelled = venue_exchange.create_order(PERP, "limit", "buy", 0.01, 99000)
    venue_exchange.cancel_order(cancelled["id"], PERP)

    venue.control.set_clock(speed=1_000_000)  # about 11.6 days a second

    wait_until(lambda: not found(venue_exchange, cancelled["id"], PERP), what="the cancelled order to age out")
    venue.control.set_clock(speed=1)
    assert venue.control.clock()["ahead_ms"] > 3 * DAY_MS


# ---- (1) late visibility ------------------------------------------------------------------------------
def test_an_accepted_order_is_invisible_to_queries_for_the_delay(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_faults(visibility_delay_ms=1500)

    order = venue_exchange.create_order(BTC, "limit", "buy", 0.001, 99000, params={"clientOrderId": "late-1"})
    taken = venue_exchange.create_order(BTC, "market", "buy", 0.001, params={"clientOrderId": "late-2"})

    assert order["status"] == "open" and taken["status"] == "closed"
    with pytest.raises(ccxt.OrderNotFound, match='"code":-2013'):
        venue_exchange.fetch_order(None, BTC, params={"clientOrderId": "late-1"})
    with pytest.raises(ccxt.OrderNotFound, match='"code":-2011'):
        venue_exchange.cancel_order(order["id"], BTC)
    assert venue_exchange.fetch_open_orders(BTC) == []
    assert venue_exchange.fetch_orders(BTC) == [] and venue_exchange.fetch_my_trades(BTC) == []
    assert len(venue.control.records(venue.api_key)["orders"]) == 2  # the venue holds both

    wait_until(lambda: found(venue_exchange, order["id"], BTC), what="the order to become visible")
    assert venue_exchange.fetch_order(order["id"], BTC)["status"] == "open"  # the refused cancel changed nothing
    assert len(venue_exchange.fetch_my_trades(BTC)) >= 1
    assert {o["clientOrderId"] for o in venue_exchange.fetch_orders(BTC)} == {"late-1", "late-2"}


def test_the_delay_is_at_most_the_requests_recv_window(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue.control.set_faults(visibility_delay_ms=600_000)

    order = venue_exchange.create_order(PERP, "limit", "buy", 0.01, 99000, params={"recvWindow": 1000})

    assert not found(venue_exchange, order["id"], PERP)
    wait_until(lambda: found(venue_exchange, order["id"], PERP), timeout=10, what="visible after recvWindow")
