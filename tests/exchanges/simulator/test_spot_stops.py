"""Spot conditional orders through ccxt.binance: STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT wait
armed (listed NEW, not working) until the last price reaches `stopPrice`, then trade as MARKET or LIMIT orders;
Binance's refusals; the executionReports a trigger sends."""
import asyncio
from decimal import Decimal

import ccxt
import pytest

from exchanges.simulator.testing import ccxt_client, start_venue

from .helpers import balance, hold_price, run_pro, subscribed

D = Decimal


def _info(exchange, order_id):
    return exchange.fetch_order(order_id, "BTC/USDT")["info"]


@pytest.mark.parametrize(("otype", "side", "stop", "limit", "move_to"), [
    ("STOP_LOSS", "sell", 95000, None, 94900),
    ("STOP_LOSS_LIMIT", "sell", 95000, 94000, 94900),
    ("TAKE_PROFIT", "sell", 105000, None, 105100),
    ("TAKE_PROFIT_LIMIT", "buy", 95000, 96000, 94900),
])
def test_each_type_waits_armed_then_fills_when_the_last_price_crosses(venue_exchange, venue, otype, side, stop,
                                                                       limit, move_to):
    hold_price(venue, "BTCUSDT", 100000)
    order = venue_exchange.create_order("BTC/USDT", otype, side, 0.01, limit, params={"stopPrice": stop})

    info = _info(venue_exchange, order["id"])
    assert (info["type"], info["status"], info["isWorking"], info["workingTime"]) == (otype, "NEW", False, -1)
    assert D(info["stopPrice"]) == stop and D(info["executedQty"]) == 0
    assert [o["id"] for o in venue_exchange.fetch_open_orders("BTC/USDT")] == [order["id"]]
    held = balance(venue_exchange, "BTC" if side == "sell" else "USDT")[1]
    assert held == (D("0.01") if side == "sell" else (D("0.01") * limit if limit else 0))

    hold_price(venue, "BTCUSDT", move_to)

    info = _info(venue_exchange, order["id"])
    assert info["status"] == "FILLED" and D(info["executedQty"]) == D("0.01") and info["isWorking"] is True
    assert info["type"] == otype and info["workingTime"] >= info["time"]
    assert venue_exchange.fetch_open_orders("BTC/USDT") == []
    assert balance(venue_exchange, "BTC")[1] == 0 and balance(venue_exchange, "USDT")[1] == 0


def test_a_stop_limit_whose_limit_the_book_does_not_reach_rests_after_the_trigger(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    order = venue_exchange.create_order("BTC/USDT", "STOP_LOSS_LIMIT", "sell", 0.01, 96000,
                                        params={"stopPrice": 95000})
    hold_price(venue, "BTCUSDT", 94000)  # through the stop, and the book's bids are below the limit

    info = _info(venue_exchange, order["id"])
    assert (info["status"], info["isWorking"], D(info["executedQty"])) == ("NEW", True, 0)
    hold_price(venue, "BTCUSDT", 97000)
    assert _info(venue_exchange, order["id"])["status"] == "FILLED"


def test_cancelling_an_armed_stop_releases_its_funds_and_it_never_triggers(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    free_before = balance(venue_exchange, "BTC")[0]
    order = venue_exchange.create_order("BTC/USDT", "STOP_LOSS", "sell", 0.01, None, params={"stopPrice": 95000})
    assert balance(venue_exchange, "BTC") == (free_before - D("0.01"), D("0.01"))

    assert venue_exchange.cancel_order(order["id"], "BTC/USDT")["status"] == "canceled"
    hold_price(venue, "BTCUSDT", 94000)

    info = _info(venue_exchange, order["id"])
    assert info["status"] == "CANCELED" and D(info["executedQty"]) == 0
    assert balance(venue_exchange, "BTC") == (free_before, D("0"))


@pytest.mark.parametrize(("otype", "side", "stop", "limit"), [
    ("STOP_LOSS", "sell", 100500, None),  # a sell stop above the last price
    ("STOP_LOSS_LIMIT", "buy", 99500, 99600),  # a buy stop below it
    ("TAKE_PROFIT", "sell", 99500, None),
    ("TAKE_PROFIT_LIMIT", "buy", 100500, 100400),
])
def test_a_stop_that_would_trigger_immediately_is_refused(venue_exchange, venue, otype, side, stop, limit):
    hold_price(venue, "BTCUSDT", 100000)
    with pytest.raises(ccxt.InvalidOrder, match="Stop price would trigger immediately"):
        venue_exchange.create_order("BTC/USDT", otype, side, 0.01, limit, params={"stopPrice": stop})
    assert venue_exchange.fetch_open_orders("BTC/USDT") == []


def test_binance_refusals_for_missing_or_extra_parameters(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    request = venue_exchange.privatePostOrder
    base = {"symbol": "BTCUSDT", "side": "SELL", "quantity": "0.01"}
    with pytest.raises(ccxt.BadRequest, match="stopPrice"):
        request({**base, "type": "STOP_LOSS"})
    with pytest.raises(ccxt.BadRequest, match="price"):
        request({**base, "type": "STOP_LOSS", "stopPrice": "95000", "price": "94000"})
    with pytest.raises(ccxt.BadRequest, match="timeInForce"):
        request({**base, "type": "STOP_LOSS_LIMIT", "stopPrice": "95000", "price": "94000"})
    with pytest.raises(ccxt.BadRequest, match="stopPrice"):
        request({**base, "type": "LIMIT", "price": "101000", "timeInForce": "GTC", "stopPrice": "95000"})
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
        request({**base, "type": "STOP_LOSS", "stopPrice": "95000.001"})


def test_a_trigger_sends_new_again_now_working_then_the_trade(venue):
    hold_price(venue, "BTCUSDT", 100000)

    async def scenario(ex):
        reports = []

        async def collect():
            while True:
                for order in await ex.watch_orders("BTC/USDT"):
                    reports.append(dict(order["info"]))
        collector = asyncio.create_task(collect())
        await subscribed(venue)
        await ex.create_order("BTC/USDT", "STOP_LOSS_LIMIT", "sell", 0.01, 94000, params={"stopPrice": 95000})
        while not reports:
            await asyncio.sleep(0.02)
        await asyncio.to_thread(hold_price, venue, "BTCUSDT", 94900)
        while not any(r["X"] == "FILLED" for r in reports):
            await asyncio.sleep(0.02)
        collector.cancel()
        return reports

    reports = run_pro(venue, scenario)
    steps = []  # ccxt hands back its cached orders on each watch: keep each distinct report once
    for r in reports:
        if (r["x"], r["X"], r["w"]) not in steps:
            steps.append((r["x"], r["X"], r["w"]))
    assert steps[:2] == [("NEW", "NEW", False), ("NEW", "NEW", True)]
    assert steps[-1] == ("TRADE", "FILLED", False)
    assert all(r["o"] == "STOP_LOSS_LIMIT" and r["P"] == "95000.00000000" for r in reports)
    armed, working = (next(r for r in reports if r["w"] is w and r["x"] == "NEW") for w in (False, True))
    assert armed["W"] == -1 and working["W"] >= armed["O"]


def test_a_restart_from_a_snapshot_keeps_an_armed_stop_armed_and_its_funds_held(tmp_path):
    path = str(tmp_path / "venue.json")
    first = start_venue(seed=3, keys={"snap": "shot"}, snapshot_path=path)
    exchange = ccxt_client(first, "snap", "shot")
    hold_price(first, "BTCUSDT", 100000)
    order = exchange.create_order("BTC/USDT", "STOP_LOSS", "sell", 0.01, None, params={"stopPrice": 95000})
    held = balance(exchange, "BTC")
    first.stop()

    second = start_venue(seed=3, keys={"snap": "shot"}, snapshot_path=path)
    try:
        again = ccxt_client(second, "snap", "shot")
        info = _info(again, order["id"])
        assert (info["status"], info["isWorking"]) == ("NEW", False) and balance(again, "BTC") == held
        hold_price(second, "BTCUSDT", 94900)
        assert _info(again, order["id"])["status"] == "FILLED"
    finally:
        second.stop()
