"""Candles through ccxt.binance: every interval at start, Binance's paging, agreement between intervals, and
candles against the venue's own records (the public tape and the key's trades)."""
from decimal import Decimal as D

import ccxt
import pytest

from exchanges.simulator.candles import HISTORY_DAYS, INTERVALS, Candles, next_open, open_time
from tests.waiting import wait_until

from .helpers import hold_price


def rows(exchange, market: str, **params) -> list[list]:
    """Raw kline rows (exact decimal strings) through ccxt's binance."""
    call = exchange.publicGetKlines if market == "spot" else exchange.fapiPublicGetKlines
    return call({k: str(v) for k, v in params.items()})


def combined(candles: list[list]) -> tuple:
    """(open, high, low, close, volume, trades, taker-buy volume) of consecutive kline rows, exactly."""
    return (D(candles[0][1]), max(D(c[2]) for c in candles), min(D(c[3]) for c in candles), D(candles[-1][4]),
            sum(D(c[5]) for c in candles), sum(c[8] for c in candles), sum(D(c[9]) for c in candles))


@pytest.mark.parametrize("symbol", ["BTC/USDT", "ETH/USDT:USDT"])
def test_a_bot_gets_a_thousand_past_candles_of_every_interval_at_start(venue_exchange, symbol):
    for timeframe in INTERVALS:
        candles = venue_exchange.fetch_ohlcv(symbol, timeframe, limit=1000)

        expected = {"1w": HISTORY_DAYS // 7, "1M": HISTORY_DAYS // 31}.get(timeframe, 1000)
        assert len(candles) >= expected, timeframe
        opens = [c[0] for c in candles]
        assert all(next_open(timeframe, a) == b for a, b in zip(opens, opens[1:], strict=False)), timeframe
        assert all(c[3] <= min(c[1], c[4]) <= max(c[1], c[4]) <= c[2] and c[5] >= 0 for c in candles), timeframe
        assert candles[-1][0] == open_time(timeframe, venue_exchange.milliseconds())  # the open candle is the last


def test_every_interval_agrees_with_the_finer_ones(venue_exchange):
    hours = rows(venue_exchange, "spot", symbol="BTCUSDT", interval="1h", limit=30)[:-2]  # closed, before the venue
    for hour in hours[-3:]:
        minutes = rows(venue_exchange, "spot", symbol="BTCUSDT", interval="1m", startTime=hour[0], limit=60)
        assert len(minutes) == 60 and minutes[0][0] == hour[0] and minutes[-1][6] == hour[6]
        assert combined(minutes) == combined([hour])
        fives = rows(venue_exchange, "spot", symbol="BTCUSDT", interval="5m", startTime=hour[0], endTime=hour[6])
        assert len(fives) == 12 and combined(fives) == combined([hour])
    days = rows(venue_exchange, "futures", symbol="ETHUSDT", interval="1d", limit=20)[:-1]
    day = days[-5]
    assert combined(rows(venue_exchange, "futures", symbol="ETHUSDT", interval="1h", startTime=day[0], limit=24)) \
        == combined([day])
    week = rows(venue_exchange, "futures", symbol="ETHUSDT", interval="1w", limit=5)[-3]
    assert combined(rows(venue_exchange, "futures", symbol="ETHUSDT", interval="1d", startTime=week[0], limit=7)) \
        == combined([week])
    assert all(D(r[7]) > 0 and r[11] == "0" and r[6] == next_open("1d", r[0]) - 1 for r in days)


def test_paging_as_binance(venue_exchange):
    now = venue_exchange.milliseconds()
    start = open_time("1h", now) - 50 * 3_600_000 + 123  # inside an hour: the first candle opens after it
    page = rows(venue_exchange, "spot", symbol="XRPUSDT", interval="1h", startTime=start, limit=10)
    assert [r[0] for r in page] == [open_time("1h", start) + 3_600_000 * (k + 1) for k in range(10)]
    until = page[4][0] + 5
    tail = rows(venue_exchange, "spot", symbol="XRPUSDT", interval="1h", endTime=until, limit=3)
    assert [r[0] for r in tail] == [r[0] for r in page[2:5]]
    both = rows(venue_exchange, "spot", symbol="XRPUSDT", interval="1h", startTime=start, endTime=until)
    assert both == page[:5]
    assert len(rows(venue_exchange, "spot", symbol="XRPUSDT", interval="1m")) == 500  # Binance's default
    assert len(rows(venue_exchange, "futures", symbol="XRPUSDT", interval="1m", limit=1500)) == 1500
    assert rows(venue_exchange, "spot", symbol="XRPUSDT", interval="1m", startTime=now + 3_600_000) == []
    ui = venue_exchange.publicGetUiKlines({"symbol": "XRPUSDT", "interval": "1h", "startTime": str(start), "limit": "10"})
    assert ui == page
    since = venue_exchange.fetch_ohlcv("XRP/USDT", "1h", since=start, limit=10)
    assert [c[0] for c in since] == [r[0] for r in page]


@pytest.mark.parametrize("params, code, error", [
    ({"symbol": "BTCUSDT", "interval": "7m"}, -1120, ccxt.BadRequest),
    ({"symbol": "BTCUSDT"}, -1102, ccxt.BadRequest),
    ({"symbol": "BTCUSDT", "interval": "1m", "limit": "1001"}, -1100, ccxt.BadRequest),
    ({"symbol": "BTCUSDT", "interval": "1m", "limit": "0"}, -1100, ccxt.BadRequest),
    ({"symbol": "BTCUSDT", "interval": "1m", "startTime": "2000", "endTime": "1000"}, -1023, ccxt.ExchangeError),
    ({"symbol": "BTCUSDT", "interval": "1m", "startTime": "soon"}, -1100, ccxt.BadRequest),
    ({"symbol": "DOGEUSDT", "interval": "1m"}, -1121, ccxt.BadSymbol),
])
def test_bad_kline_requests_get_binance_errors(venue_exchange, params, code, error):
    with pytest.raises(error, match=str(code)):
        venue_exchange.publicGetKlines(params)


def test_candles_are_the_trades_in_their_window_and_the_last_close_is_the_last_trade(venue_exchange, venue):
    wait_until(lambda: len(venue_exchange.publicGetTrades({"symbol": "SOLUSDT"})) >= 5, what="the synthetic flow", interval=0.25)
    own = venue_exchange.create_order("SOL/USDT", "market", "buy", 2)
    hold_price(venue, "SOLUSDT", venue_exchange.fetch_ticker("SOL/USDT")["bid"])  # the flow stops: nothing moves on
    mine = venue_exchange.fetch_my_trades("SOL/USDT", params={"orderId": own["id"]})

    tape = venue_exchange.publicGetTrades({"symbol": "SOLUSDT", "limit": "1000"})  # every trade since the start
    anchor = venue.server.venue.market_data.candles.anchor  # the venue's first minute: candles from trades on
    candles = rows(venue_exchange, "spot", symbol="SOLUSDT", interval="1m", startTime=anchor)

    ids = [t["id"] for t in tape]
    assert ids == sorted(set(ids)) and {int(t["id"]) for t in mine} <= set(ids)  # increasing; our fills are on it
    by_id = {t["id"]: t for t in tape}
    for trade in mine:
        assert (D(by_id[int(trade["id"])]["price"]), D(by_id[int(trade["id"])]["qty"])) == \
            (D(trade["info"]["price"]), D(trade["info"]["qty"]))
    live = [c for c in candles if c[0] >= anchor]
    assert sum(len([t for t in tape if c[0] <= t["time"] <= c[6]]) for c in live) == len(tape)
    for candle in live:
        inside = [t for t in tape if candle[0] <= t["time"] <= candle[6]]
        if not inside:
            assert D(candle[5]) == 0 and candle[1] == candle[2] == candle[3] == candle[4]
            continue
        prices = [D(t["price"]) for t in inside]
        assert D(candle[5]) == sum(D(t["qty"]) for t in inside)
        assert D(candle[7]) == sum(D(t["quoteQty"]) for t in inside)
        assert candle[8] == len(inside)
        assert D(candle[9]) == sum(D(t["qty"]) for t in inside if not t["isBuyerMaker"])
        assert (D(candle[1]), D(candle[2]), D(candle[3]), D(candle[4])) == (prices[0], max(prices), min(prices), prices[-1])
    assert D(candles[-1][4]) == D(tape[-1]["price"])
    assert venue_exchange.fetch_ohlcv("SOL/USDT", "1d", limit=1)[-1][4] == float(tape[-1]["price"])


def test_mark_price_candles_follow_the_mark(venue_exchange, venue):
    hold_price(venue, "BNBUSDT", 900, market="futures")

    def last_mark():
        return venue_exchange.fapiPublicGetMarkPriceKlines({"symbol": "BNBUSDT", "interval": "1m", "limit": "2"})[-1]

    candle = wait_until(lambda: (c := last_mark())[4] == "900.00" and c, what="a mark sample at 900")
    assert candle[5] == candle[7] == "0" and candle[8] >= 1
    assert D(venue_exchange.fapiPublicGetPremiumIndex({"symbol": "BNBUSDT"})["markPrice"]) == 900
    ohlcv = venue_exchange.fetch_ohlcv("BNB/USDT:USDT", "1h", limit=3, params={"price": "mark"})
    assert ohlcv[-1][4] == 900 and ohlcv[-1][5] == 0
    history = venue_exchange.fetch_ohlcv("BNB/USDT:USDT", "1d", limit=5, params={"price": "mark"})[:-1]
    assert [c[:5] for c in history] == [c[:5] for c in venue_exchange.fetch_ohlcv("BNB/USDT:USDT", "1d", limit=5)[:-1]]


def test_history_is_the_same_for_the_same_seed_and_start(venue_exchange, venue):
    md = venue.server.venue.market_data
    anchor = md.candles.anchor
    start_price = md.candles.history[("spot", "ETHUSDT")].price
    now = venue_exchange.milliseconds()

    def history(seed):
        candles = Candles(seed, anchor, {("spot", "ETHUSDT"): start_price})
        return [c.c for c in candles.klines(("spot", "ETHUSDT"), "15m", None, anchor - 1, 200, now)]

    served = rows(venue_exchange, "spot", symbol="ETHUSDT", interval="15m", endTime=anchor - 1, limit=200)
    assert [D(r[4]) for r in served] == history(1) == history(1)  # the venue's seed is 1
    assert history(2) != history(1)
