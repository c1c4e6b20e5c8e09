"""Websocket streams through ccxt.pro's binance: book tickers, tickers, and order updates on the
spot (websocket API) and USD-M (listenKey) user-data streams."""
import asyncio

import ccxt
import pytest

from .helpers import hold_price, subscribed, watch_until
from .helpers import run_pro as run


def test_book_tickers_and_tickers_stream(venue):
    async def scenario(ex):
        spot = await ex.watch_bids_asks(["BTC/USDT"])
        perp = await ex.watch_bids_asks(["ETH/USDT:USDT"])
        mini = await ex.watch_ticker("SOL/USDT")
        full = await ex.watch_ticker("BNB/USDT", {"name": "ticker"})
        return spot["BTC/USDT"], perp["ETH/USDT:USDT"], mini, full

    spot, perp, mini, full = run(venue, scenario)

    assert 0 < spot["bid"] < spot["ask"] and spot["bidVolume"] > 0
    assert 0 < perp["bid"] < perp["ask"]
    assert mini["symbol"] == "SOL/USDT" and mini["last"] == pytest.approx(200, rel=0.05)
    assert full["symbol"] == "BNB/USDT" and full["bid"] < full["ask"]


def test_book_ticker_follows_set_price(venue):
    async def scenario(ex):
        await ex.watch_bids_asks(["XRP/USDT"])
        await asyncio.to_thread(hold_price, venue, "XRPUSDT", 3.5)
        return await watch_until(lambda: ex.watch_bids_asks(["XRP/USDT"]),
                                 lambda r: r["XRP/USDT"]["bid"] == pytest.approx(3.5, rel=0.001))

    assert run(venue, scenario)["XRP/USDT"]["ask"] == pytest.approx(3.5, rel=0.001)


def test_spot_order_updates_from_new_to_filled(venue):
    hold_price(venue, "BTCUSDT", 100000)

    async def scenario(ex):
        watching = asyncio.create_task(watch_until(lambda: ex.watch_orders("BTC/USDT"),
                                                   lambda orders: any(o["status"] == "closed" for o in orders)))
        await subscribed(venue)  # the stream is open before the order it must report
        order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 99000, params={"clientOrderId": "ws-1"})
        await asyncio.to_thread(venue.control.set_price, "BTCUSDT", 98000)
        return order, await watching

    order, updates = run(venue, scenario)

    closed = [o for o in updates if o["status"] == "closed"][-1]
    assert closed["id"] == order["id"] and closed["clientOrderId"] == "ws-1"
    assert closed["filled"] == 0.01 and closed["average"] == 99000


def test_futures_order_updates_through_the_listen_key(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    async def scenario(ex):
        watching = asyncio.create_task(watch_until(lambda: ex.watch_orders("BTC/USDT:USDT"),
                                                   lambda orders: any(o["status"] == "canceled" for o in orders)))
        await subscribed(venue)  # the stream is open before the order it must report
        order = await ex.create_order("BTC/USDT:USDT", "limit", "sell", 0.01, 101000)
        await ex.cancel_order(order["id"], "BTC/USDT:USDT")
        return order, await watching

    order, updates = run(venue, scenario)

    assert [o["id"] for o in updates if o["status"] == "canceled"] == [order["id"]]


def test_user_stream_with_a_bad_signature_is_refused(venue):
    async def scenario(ex):
        return await ex.watch_orders("BTC/USDT")

    # ccxt 4.5.90 maps the -1022 answer to AuthenticationError, then trips over its own cleanup (KeyError)
    with pytest.raises((ccxt.AuthenticationError, KeyError)):
        run(venue, scenario, secret="wrong-secret")  # accepted, it would wait for order events and time out
