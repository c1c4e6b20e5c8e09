"""The USD-M user-data stream: ACCOUNT_UPDATE (balances and positions, with its reason) read by ccxt.pro's
watch_balance / watch_positions, and the listenKey lifecycle (create, keep alive, close, expire, 24 h)."""
import asyncio
from decimal import Decimal

import aiohttp
import ccxt
import pytest
import requests

from .helpers import hold_price, run_pro, subscribed, watch_until

PERP = "BTC/USDT:USDT"


def listen_key(venue, method: str) -> requests.Response:
    return requests.request(method, f"{venue.base_url}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": venue.api_key},
                            timeout=10)


def socket_url(venue, key: str) -> str:
    return "ws://" + venue.base_url.split("://", 1)[1] + f"/fws/private/ws?listenKey={key}"


def test_a_fill_sends_account_update_with_the_position_and_wallet(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    async def scenario(ex):
        positions = asyncio.create_task(watch_until(lambda: ex.watch_positions([PERP]),
                                                    lambda ps: any(p["contracts"] for p in ps)))
        balances = asyncio.create_task(watch_until(lambda: ex.watch_balance({"type": "future"}),
                                                   lambda b: b["info"]["a"]["m"] == "ORDER"))
        await subscribed(venue)
        order = await ex.create_order(PERP, "market", "buy", 0.01)
        return order, await positions, await balances

    order, positions, balance = run_pro(venue, scenario, fetchPositionsSnapshot=False)

    position = next(p for p in positions if p["symbol"] == PERP)
    raw = position["info"]
    assert set(raw) == {"s", "pa", "ep", "bep", "cr", "up", "mt", "iw", "ps", "ma"}
    assert raw["s"] == "BTCUSDT" and raw["pa"] == "0.010" and raw["ps"] == "BOTH" and raw["mt"] == "cross"
    assert all(isinstance(raw[k], str) for k in ("pa", "ep", "bep", "cr", "up", "iw"))
    assert position["contracts"] == 0.01 and position["side"] == "long"
    assert position["entryPrice"] == pytest.approx(order["average"])
    event = balance["info"]
    assert event["e"] == "ACCOUNT_UPDATE" and isinstance(event["E"], int) and isinstance(event["T"], int)
    [usdt] = event["a"]["B"]
    assert usdt["a"] == "USDT" and usdt["bc"] == "0.00000000"
    wallet = Decimal(venue.control.records(venue.api_key, "futures")["balances"]["USDT"][0])
    assert Decimal(usdt["wb"]) == Decimal(usdt["cw"]) == wallet
    assert balance["USDT"]["total"] == float(wallet)


def test_funding_sends_account_update_with_its_reason_and_no_position(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    async def scenario(ex):
        watching = asyncio.create_task(watch_until(lambda: ex.watch_balance({"type": "future"}),
                                                   lambda b: b["info"]["a"]["m"] == "FUNDING_FEE"))
        await subscribed(venue)
        # an order that never fills changes no balance or position: Binance sends no ACCOUNT_UPDATE for it
        order = await ex.create_order(PERP, "limit", "buy", 0.01, 96000)
        await ex.cancel_order(order["id"], PERP)
        await asyncio.to_thread(venue.control.fund, venue.api_key, "futures", "USDT", "-1.25", "FUNDING_FEE")
        return await watching

    balance = run_pro(venue, scenario)

    update = balance["info"]["a"]
    assert update["P"] == [] and update["B"][0]["bc"] == "-1.25000000"
    assert balance["USDT"]["total"] == pytest.approx(100000 - 1.25)


def test_deposit_reason_and_no_account_update_for_an_unfilled_order(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    async def scenario(ex):
        watching = asyncio.create_task(ex.watch_balance({"type": "future"}))
        await subscribed(venue)
        order = await ex.create_order(PERP, "limit", "buy", 0.01, 96000)
        await ex.cancel_order(order["id"], PERP)
        await asyncio.to_thread(venue.control.fund, venue.api_key, "futures", "USDT", "10")
        return await watching

    balance = run_pro(venue, scenario)

    assert balance["info"]["a"]["m"] == "DEPOSIT"  # the first ACCOUNT_UPDATE after the order: none came for it


def test_listen_key_post_returns_the_open_key_put_keeps_it_delete_closes_it(venue):
    first = listen_key(venue, "POST").json()["listenKey"]
    assert listen_key(venue, "POST").json()["listenKey"] == first
    assert listen_key(venue, "PUT").json() == {"listenKey": first}

    assert listen_key(venue, "DELETE").json() == {}
    refused = listen_key(venue, "PUT")
    assert refused.status_code == 400 and refused.json() == {"code": -1125, "msg": "This listenKey does not exist."}
    assert listen_key(venue, "POST").json()["listenKey"] != first


def test_keep_alive_extends_the_listen_key_by_the_ttl_of_venue_time(venue):
    key = listen_key(venue, "POST").json()["listenKey"]
    venue.control.set_faults(clock_skew_ms=3_000_000)  # 50 min later
    assert listen_key(venue, "PUT").json() == {"listenKey": key}
    venue.control.set_faults(clock_skew_ms=6_000_000)  # 100 min after creation, 50 min after the keep-alive
    assert listen_key(venue, "PUT").json() == {"listenKey": key}

    venue.control.set_faults(clock_skew_ms=9_700_000)  # 61.7 min after the last keep-alive
    refused = listen_key(venue, "PUT")
    assert refused.json()["code"] == -1125


def test_an_expired_listen_key_sends_listen_key_expired_and_the_socket_closes(venue):
    key = listen_key(venue, "POST").json()["listenKey"]

    async def scenario():
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(venue, key)) as ws:
            await asyncio.to_thread(venue.control.set_faults, listen_key_ttl_s=0.5)
            message = await asyncio.wait_for(ws.receive_json(), 20)
            closing = await asyncio.wait_for(ws.receive(), 20)
            return message, closing

    message, closing = asyncio.run(scenario())

    assert message["e"] == "listenKeyExpired" and message["listenKey"] == key and isinstance(message["E"], str)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    refused = requests.get(socket_url(venue, key).replace("ws://", "http://"), timeout=10)
    assert refused.status_code == 400 and refused.json()["code"] == -1125


def test_the_venue_closes_a_user_data_connection_at_its_maximum_age_and_ccxt_reconnects(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    async def scenario(ex):
        first = asyncio.create_task(ex.watch_orders(PERP))
        await subscribed(venue)
        await asyncio.to_thread(venue.control.set_faults, user_stream_max_age_s=0.5)
        with pytest.raises(ccxt.NetworkError):
            await first
        await asyncio.to_thread(venue.control.set_faults, user_stream_max_age_s=86400)
        again = asyncio.create_task(watch_until(lambda: ex.watch_orders(PERP), lambda orders: True))
        await subscribed(venue)
        order = await ex.create_order(PERP, "limit", "buy", 0.01, 96000)
        return order, await again

    order, updates = run_pro(venue, scenario)

    assert [o["id"] for o in updates] == [order["id"]]


def test_after_listen_key_expired_a_new_key_restores_the_stream(venue):
    """ccxt.pro reads no `listenKeyExpired` and reuses its cached key for 20 minutes: a consumer forgets the
    key (lastAuthenticatedTime 0) so the next watch POSTs for a new one and connects with it."""
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    async def scenario(ex):
        first = asyncio.create_task(ex.watch_orders(PERP))
        await subscribed(venue)
        expired_key = ex.options["linear"]["listenKey"]
        await asyncio.to_thread(venue.control.set_faults, listen_key_expire_count=1)
        with pytest.raises(ccxt.NetworkError):
            await first
        ex.options["linear"]["lastAuthenticatedTime"] = 0
        again = asyncio.create_task(watch_until(lambda: ex.watch_orders(PERP), lambda orders: True))
        await subscribed(venue)
        order = await ex.create_order(PERP, "limit", "buy", 0.01, 96000)
        return expired_key, ex.options["linear"]["listenKey"], order, await again

    expired_key, new_key, order, updates = run_pro(venue, scenario)

    assert new_key != expired_key
    assert [o["id"] for o in updates] == [order["id"]]
