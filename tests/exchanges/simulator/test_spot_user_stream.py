"""The spot user-data stream on the websocket API: executionReport, outboundAccountPosition after every
balance change, balanceUpdate for deposits and withdrawals, read by ccxt.pro; and the session methods
(`session.subscriptions`, `userDataStream.unsubscribe`)."""
import asyncio
import hashlib
import hmac
import time
from decimal import Decimal

import aiohttp
import pytest

from .helpers import balance_messages, hold_price, run_pro, subscribed, watch_until


def test_placing_cancelling_and_filling_send_outbound_account_position(venue):
    hold_price(venue, "BTCUSDT", 100000)

    async def scenario(ex):
        seen = []

        async def collect():
            while True:
                seen.append(dict(await ex.watch_balance()))
        collector = asyncio.create_task(collect())
        await subscribed(venue)
        order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 99000)
        await _until(lambda: any(b["USDT"]["used"] == 990 for b in seen))
        await ex.cancel_order(order["id"], "BTC/USDT")
        await _until(lambda: seen[-1]["USDT"]["used"] == 0)
        await ex.create_order("BTC/USDT", "market", "sell", 0.01)
        await _until(lambda: seen[-1]["BTC"]["free"] < 2)
        collector.cancel()
        return seen

    seen = run_pro(venue, scenario)

    event = seen[-1]["info"]
    assert event["e"] == "outboundAccountPosition" and isinstance(event["E"], int) and isinstance(event["u"], int)
    assert {row["a"] for row in event["B"]} == {"BTC", "USDT"}
    assert all(set(row) == {"a", "f", "l"} and isinstance(row["f"], str) for row in event["B"])
    held = venue.control.records(venue.api_key)["balances"]
    for row in event["B"]:
        assert [row["f"], row["l"]] == [format(Decimal(v), ".8f") for v in held[row["a"]]]
    assert seen[-1]["BTC"]["free"] == pytest.approx(1.99)


def test_a_fill_is_read_by_watch_my_trades_and_watch_orders(venue):
    hold_price(venue, "ETHUSDT", 4000)

    async def scenario(ex):
        trades = asyncio.create_task(watch_until(lambda: ex.watch_my_trades("ETH/USDT"), lambda ts: len(ts) > 0))
        orders = asyncio.create_task(watch_until(lambda: ex.watch_orders("ETH/USDT"),
                                                 lambda os: any(o["status"] == "closed" for o in os)))
        await subscribed(venue)
        order = await ex.create_order("ETH/USDT", "market", "buy", 0.5)
        return order, await trades, await orders

    order, trades, orders = run_pro(venue, scenario)

    venue_trades = venue.control.records(venue.api_key)["trades"]
    [trade] = [t for t in trades if t["order"] == order["id"]][:1]
    assert trade["id"] == str(venue_trades[0]["trade_id"]) and trade["side"] == "buy"
    assert trade["fee"]["currency"] == "ETH" and trade["takerOrMaker"] == "taker"
    report = trade["info"]
    assert report["e"] == "executionReport" and report["x"] == "TRADE" and isinstance(report["t"], int)
    assert isinstance(report["E"], int) and isinstance(report["T"], int) and isinstance(report["i"], int)
    closed = [o for o in orders if o["status"] == "closed"][-1]
    assert closed["id"] == order["id"] and closed["filled"] == 0.5


def test_a_deposit_sends_balance_update_then_the_new_position(venue):
    async def scenario(ex):
        seen = balance_messages(ex)
        watcher = asyncio.create_task(ex.watch_balance())  # subscribes the stream
        await subscribed(venue)
        await asyncio.to_thread(venue.control.fund, venue.api_key, "spot", "XRP", "100")
        await asyncio.to_thread(venue.control.fund, venue.api_key, "spot", "SOL", "-2.5")
        await _until(lambda: len(seen) >= 4)
        watcher.cancel()
        return seen

    seen = run_pro(venue, scenario)

    deposit, after_deposit, withdrawal, after_withdrawal = seen[:4]
    assert deposit["e"] == "balanceUpdate" and deposit["a"] == "XRP" and deposit["d"] == "100.00000000"
    assert isinstance(deposit["E"], int) and isinstance(deposit["T"], int)
    assert after_deposit["e"] == "outboundAccountPosition"
    assert after_deposit["B"] == [{"a": "XRP", "f": "5100.00000000", "l": "0.00000000"}]
    assert withdrawal["d"] == "-2.50000000" and after_withdrawal["B"][0]["f"] == "47.50000000"


def test_session_subscriptions_and_unsubscribe(venue):
    url = "ws://" + venue.base_url.split("://", 1)[1] + "/ws-api/v3"

    def signed() -> dict:
        params = {"apiKey": venue.api_key, "timestamp": int(time.time() * 1000)}
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
        return {**params, "signature": hmac.new(venue.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()}

    async def scenario():
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            async def call(method, params=None, ident=None):
                await ws.send_json({"id": ident or method, "method": method, "params": params or {}})
                answers = []
                while not answers or "id" not in answers[-1]:
                    answers.append(await asyncio.wait_for(ws.receive_json(), 10))
                return answers
            first = await call("userDataStream.subscribe.signature", signed(), "s1")
            second = await call("userDataStream.subscribe.signature", signed(), "s2")
            listed = await call("session.subscriptions")
            one = await call("userDataStream.unsubscribe", {"subscriptionId": 0}, "u1")
            left = await call("session.subscriptions", ident="l2")
            rest = await call("userDataStream.unsubscribe", ident="u2")
            return first, second, listed, one, left, rest

    first, second, listed, one, left, rest = asyncio.run(scenario())

    assert first == [{"id": "s1", "status": 200, "result": {"subscriptionId": 0}}]
    assert second[-1]["result"] == {"subscriptionId": 1}
    assert listed[-1]["result"] == [{"subscriptionId": 0}, {"subscriptionId": 1}]
    terminated, answer = one
    assert terminated["subscriptionId"] == 0 and terminated["event"]["e"] == "eventStreamTerminated"
    assert answer == {"id": "u1", "status": 200, "result": {}}
    assert left[-1]["result"] == [{"subscriptionId": 1}]
    assert [m["subscriptionId"] for m in rest[:-1]] == [1] and rest[-1]["result"] == {}


async def _until(check):
    """Yield to the event loop until `check()` holds (the scenario's timeout bounds it)."""
    while not check():
        await asyncio.sleep(0.01)
