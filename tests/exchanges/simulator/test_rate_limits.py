"""Binance's rate limits as ccxt meets them: usage headers, 429 past the weight or order limit, then 418."""
import time

import ccxt
import pytest

from .helpers import hold_price


def fresh_window(seconds: int) -> None:
    """Start the test early in a fixed window, so the counters cannot reset half way through."""
    left = seconds - time.time() % seconds
    if left < 3:
        time.sleep(left + 0.05)


def test_usage_headers_on_every_answer(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue_exchange.fetch_ticker("BTC/USDT")
    assert int(venue_exchange.last_response_headers["X-MBX-USED-WEIGHT-1M"]) >= 2

    venue_exchange.create_order("BTC/USDT", "market", "buy", 0.001)
    headers = venue_exchange.last_response_headers
    assert int(headers["X-MBX-ORDER-COUNT-10S"]) == 1 and int(headers["X-MBX-ORDER-COUNT-1D"]) == 1

    venue_exchange.create_order("BTC/USDT:USDT", "market", "buy", 0.001)
    headers = venue_exchange.last_response_headers
    assert int(headers["X-MBX-ORDER-COUNT-10S"]) == 1 and int(headers["X-MBX-ORDER-COUNT-1M"]) == 1


def test_weight_past_the_limit_gets_429_then_a_418_ban(venue_exchange, venue):
    venue.control.set_limits(spot_weight_1m=20, ban_after=2, ban_seconds=60, reset=True)
    fresh_window(60)

    for _ in range(10):  # ticker weight 2
        venue_exchange.fetch_ticker("BTC/USDT")
    statuses = []
    for _ in range(4):
        with pytest.raises(ccxt.DDoSProtection) as err:
            venue_exchange.fetch_ticker("BTC/USDT")
        statuses.append(str(err.value).split()[1])
        assert '"code":-1003' in str(err.value)
        assert int(venue_exchange.last_response_headers["Retry-After"]) >= 1

    assert statuses == ["429", "429", "418", "418"]
    assert "IP banned until" in str(err.value)
    assert venue_exchange.fetch_ticker("BTC/USDT:USDT")["last"] > 0  # futures weight is counted apart


def test_orders_past_the_10s_limit_get_1015(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_limits(spot_orders_10s=3, reset=True)
    fresh_window(10)

    for _ in range(3):  # resting orders: only unfilled orders count (Binance's unfilled order count)
        venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 99000)
    with pytest.raises(ccxt.DDoSProtection, match='"code":-1015'):
        venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 99000)

    assert len(venue_exchange.fetch_orders("BTC/USDT")) == 3
    assert venue_exchange.fetch_ticker("BTC/USDT")["bid"] > 0  # other requests still served


def test_limits_can_be_switched_off(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_limits(spot_orders_10s=1, enabled=False, reset=True)

    for _ in range(3):
        venue_exchange.create_order("BTC/USDT", "market", "buy", 0.001)

    assert len(venue_exchange.fetch_orders("BTC/USDT")) == 3
    assert int(venue_exchange.last_response_headers["X-MBX-USED-WEIGHT-1M"]) > 0


def test_exchange_info_publishes_the_limits_in_force(venue_exchange, venue):
    def published(fetch) -> dict:
        return {(r["rateLimitType"], r["interval"], r["intervalNum"]): r["limit"] for r in fetch()["rateLimits"]}

    assert published(venue_exchange.publicGetExchangeInfo)[("REQUEST_WEIGHT", "MINUTE", 1)] == 6000  # Binance's own
    venue.control.set_limits(spot_weight_1m=600, spot_orders_10s=10, futures_orders_1m=50)

    spot = published(venue_exchange.publicGetExchangeInfo)
    assert spot[("REQUEST_WEIGHT", "MINUTE", 1)] == 600 and spot[("ORDERS", "SECOND", 10)] == 10
    assert spot[("ORDERS", "DAY", 1)] == 200000
    futures = published(venue_exchange.fapiPublicGetExchangeInfo)
    assert futures[("ORDERS", "MINUTE", 1)] == 50 and futures[("REQUEST_WEIGHT", "MINUTE", 1)] == 2400
