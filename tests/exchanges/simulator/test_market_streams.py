"""Public trade and candle streams through ccxt.pro's binance (`@trade`, `@aggTrade`, `@kline_<interval>`, spot
and USD-M), carrying what the REST answers carry."""
import asyncio

import pytest

from .helpers import hold_price, watch_until
from .helpers import run_pro as run


@pytest.mark.parametrize("unified, name", [("ETH/USDT", "trade"), ("ETH/USDT", "aggTrade"),
                                           ("ETH/USDT:USDT", "trade"), ("ETH/USDT:USDT", "aggTrade")])
def test_watch_trades_streams_the_tape_with_our_own_fill(venue, unified, name):
    symbol, market = "ETHUSDT", "futures" if ":" in unified else "spot"

    async def scenario(ex):
        await ex.watch_trades(unified, params={"name": name})  # the synthetic flow arrives first
        await asyncio.to_thread(hold_price, venue, symbol, 4000, market)
        order = await ex.create_order(unified, "market", "buy", 0.5)
        mine = await ex.fetch_my_trades(unified, params={"orderId": order["id"]})
        ids = {m["id"] for m in mine} if name == "trade" else None
        streamed = await watch_until(lambda: ex.watch_trades(unified, params={"name": name}),
                                     lambda ts: any(t["price"] == mine[-1]["price"] and t["side"] == "buy"
                                                    and (ids is None or t["id"] in ids) for t in ts))
        rest = await ex.fetch_trades(unified, limit=1000, params={} if name == "aggTrade" else {
            "fetchTradesMethod": "publicGetTrades" if market == "spot" else "fapiPublicGetTrades"})
        return mine, streamed, rest

    mine, streamed, rest = run(venue, scenario)

    by_id = {t["id"]: t for t in rest}
    for trade in streamed:  # every streamed trade is the REST one with the same id
        if trade["id"] in by_id:
            assert (trade["price"], trade["amount"], trade["side"], trade["timestamp"]) == \
                (by_id[trade["id"]]["price"], by_id[trade["id"]]["amount"], by_id[trade["id"]]["side"],
                 by_id[trade["id"]]["timestamp"])
    assert sum(1 for t in streamed if t["id"] in by_id) >= 1
    if name == "trade":
        assert {m["id"] for m in mine} <= {t["id"] for t in streamed}


@pytest.mark.parametrize("unified", ["SOL/USDT", "SOL/USDT:USDT"])
def test_watch_ohlcv_streams_the_open_candle_as_rest_has_it(venue, unified):
    market = "futures" if ":" in unified else "spot"

    async def scenario(ex):
        await asyncio.to_thread(hold_price, venue, "SOLUSDT", 210, market)
        await ex.create_order(unified, "market", "buy", 1)
        last_trade = (await ex.fetch_trades(unified, limit=1))[-1]
        streamed = await watch_until(lambda: ex.watch_ohlcv(unified, "1m"), lambda cs: cs[-1][4] == last_trade["price"])
        rest = await ex.fetch_ohlcv(unified, "1m", limit=3)
        hourly = await watch_until(lambda: ex.watch_ohlcv(unified, "1h"), lambda cs: cs[-1][4] == last_trade["price"])
        rest_hourly = await ex.fetch_ohlcv(unified, "1h", limit=2)
        return streamed[-1], rest, hourly[-1], rest_hourly[-1]

    streamed, rest, hourly, rest_hourly = run(venue, scenario)

    assert streamed in rest[-2:]  # the same candle (the minute may have turned since: then it was the one before)
    assert hourly == rest_hourly


def test_a_kline_stream_sends_a_closed_candle_once_then_the_next(venue):
    market_data = venue.server.venue.market_data
    now = venue.server.venue.now()
    minute = now - now % 60_000

    first = market_data.stream_payloads("spot", "XRPUSDT", "kline_1m", minute + 30_000, 10_001, [])
    turned = market_data.stream_payloads("spot", "XRPUSDT", "kline_1m", minute + 60_001, 10_002, [])
    later = market_data.stream_payloads("spot", "XRPUSDT", "kline_1m", minute + 61_000, 10_005, [])

    assert [(e["k"]["t"], e["k"]["x"]) for e in first] == [(minute, False)]
    assert [(e["k"]["t"], e["k"]["x"]) for e in turned] == [(minute, True), (minute + 60_000, False)]
    assert [(e["k"]["t"], e["k"]["x"]) for e in later] == [(minute + 60_000, False)]
    assert {"o", "h", "l", "c", "v", "n", "q", "V", "Q", "f", "L", "i", "T"} <= set(first[0]["k"])
