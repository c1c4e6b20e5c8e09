"""Fees, status and funding through ccxt.binance: tradeFee and commissionRate (per key once set through the
control API, and charged on fills), system status, premiumIndex and the funding-rate history."""
from decimal import Decimal as D

import ccxt
import pytest

from exchanges.simulator.control import VenueControlError
from exchanges.simulator.funding_rates import FUNDING_INTERVAL_MS, funding_rate

from .helpers import hold_price


def test_trading_fees_are_the_venues_rates_and_follow_the_control_api(venue_exchange, venue):
    assert venue_exchange.fetch_trading_fee("BTC/USDT")["maker"] == 0.001
    assert venue_exchange.fetch_trading_fee("BTC/USDT:USDT")[("maker")] == 0.0002
    assert venue_exchange.fetch_trading_fee("BTC/USDT:USDT")["taker"] == 0.0005
    fees = venue_exchange.fetch_trading_fees()
    assert set(fees) >= {"BTC/USDT", "ETH/USDT", "XRP/USDT"} and all(f["taker"] == 0.001 for f in fees.values())

    venue.control.set_fees(venue.api_key, "0.0002", "0.0004", market="spot", symbol="ETHUSDT")
    venue.control.set_fees(venue.api_key, "0.0001", "0.0003", market="futures")

    assert (venue_exchange.fetch_trading_fee("ETH/USDT")["maker"], venue_exchange.fetch_trading_fee("ETH/USDT")["taker"]) \
        == (0.0002, 0.0004)
    assert venue_exchange.fetch_trading_fee("BTC/USDT")["taker"] == 0.001  # another symbol keeps the venue's
    assert venue_exchange.fetch_trading_fee("SOL/USDT:USDT")["taker"] == 0.0003
    hold_price(venue, "ETHUSDT", 4000)
    order = venue_exchange.create_order("ETH/USDT", "market", "buy", 1)
    trade = venue_exchange.fetch_my_trades("ETH/USDT", params={"orderId": order["id"]})[0]
    assert D(trade["info"]["commission"]) == D(trade["info"]["qty"]) * D("0.0004")  # in ETH, the asset received


def test_fee_control_refuses_bad_input(venue):
    for kwargs, text in (({"api_key": "nobody", "maker": "0.001", "taker": "0.001"}, "api_key is not configured"),
                         ({"api_key": venue.api_key, "maker": "0.5", "taker": "0.001"}, "maker must be a rate"),
                         ({"api_key": venue.api_key, "maker": "x", "taker": "0.001"}, "maker must be a decimal"),
                         ({"api_key": venue.api_key, "maker": "0", "taker": "0", "symbol": "DOGEUSDT"}, "symbol must be")):
        with pytest.raises(VenueControlError, match=text):
            venue.control.set_fees(**kwargs)


def test_fees_need_a_signed_request(venue):
    from exchanges.simulator.testing import ccxt_client

    with pytest.raises(ccxt.AuthenticationError):
        ccxt_client(venue, venue.api_key, "wrong-secret").sapiGetAssetTradeFee({})


def test_system_status_is_normal(venue_exchange):
    assert venue_exchange.fetch_status()["status"] == "ok"
    assert venue_exchange.sapiGetSystemStatus() == {"status": 0, "msg": "normal"}


def test_premium_index_and_funding_history_follow_the_schedule(venue_exchange, venue):
    hold_price(venue, "ETHUSDT", 4100, market="futures")
    now = venue_exchange.milliseconds()

    current = venue_exchange.fetch_funding_rate("ETH/USDT:USDT")
    assert current["markPrice"] == 4100 and current["fundingTimestamp"] % FUNDING_INTERVAL_MS == 0
    assert 0 < current["fundingTimestamp"] - now <= FUNDING_INTERVAL_MS
    assert D(current["info"]["lastFundingRate"]) == funding_rate(1, "ETHUSDT", current["fundingTimestamp"])
    assert len(venue_exchange.fapiPublicGetPremiumIndex()) == 5

    history = venue_exchange.fetch_funding_rate_history("ETH/USDT:USDT", limit=30)
    times = [h["timestamp"] for h in history]
    assert len(history) == 30 and times == sorted(times) and times[-1] <= now < times[-1] + FUNDING_INTERVAL_MS
    assert all(b - a == FUNDING_INTERVAL_MS for a, b in zip(times, times[1:], strict=False))
    assert all(D(h["info"]["fundingRate"]) == funding_rate(1, "ETHUSDT", h["timestamp"]) for h in history)
    for h in history[-3:]:  # the mark price at each funding time is the mark candle's close then
        candle = venue_exchange.fapiPublicGetMarkPriceKlines({"symbol": "ETHUSDT", "interval": "1m",
                                                             "endTime": str(h["timestamp"] - 1), "limit": "1"})[0]
        assert D(h["info"]["markPrice"]) == D(candle[4])
    since = venue_exchange.fetch_funding_rate_history("ETH/USDT:USDT", since=times[3], limit=4)
    assert [h["timestamp"] for h in since] == times[3:7]
