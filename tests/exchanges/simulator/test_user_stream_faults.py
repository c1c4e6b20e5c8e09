"""Every user-data stream fault knob, seen by ccxt.pro or a plain websocket client, with its injection counted."""
import asyncio

import aiohttp
import ccxt
import pytest
import requests

from exchanges.simulator.testing import ccxt_pro_client

from .helpers import hold_price, run_pro, subscribed, watch_until

PERP = "BTC/USDT:USDT"


def new_listen_key(venue, api_key=None) -> str:
    response = requests.post(f"{venue.base_url}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": api_key or venue.api_key},
                             timeout=10)
    return response.json()["listenKey"]


async def futures_events(venue, act, count: int) -> list[dict]:
    """Open a USD-M user-data socket, run `act()` (blocking, in a thread), return the first `count` events."""
    url = "ws://" + venue.base_url.split("://", 1)[1] + f"/fws/private/ws?listenKey={new_listen_key(venue)}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await subscribed(venue)
        await asyncio.to_thread(act)
        return [await asyncio.wait_for(ws.receive_json(), 20) for _ in range(count)]


def test_close_count_closes_the_user_data_connection_of_one_key_only(venue):
    venue.control.add_key("second-key", "second-secret")

    async def scenario(ex):
        other = ccxt_pro_client(venue, "second-key", "second-secret")
        try:
            await other.load_markets()
            mine = asyncio.create_task(ex.watch_orders("BTC/USDT"))
            theirs = asyncio.create_task(other.watch_orders("BTC/USDT"))
            await subscribed(venue, 2)
            await asyncio.to_thread(venue.control.set_faults, user_stream_close_count=1, user_stream_keys=[venue.api_key])
            with pytest.raises(ccxt.NetworkError):
                await mine
            left = (await asyncio.to_thread(venue.control.user_streams))["connections"]
            theirs.cancel()
            return left
        finally:
            await other.close()

    left = run_pro(venue, scenario)

    assert [c["api_key"] for c in left] == ["second-key"]
    assert venue.control.fault_counts()["user_stream_close"] == 1
    assert venue.control.faults()["user_stream_close_count"] == 0


def test_listen_key_expire_count_expires_the_key_now(venue):
    key = new_listen_key(venue)

    async def scenario():
        url = "ws://" + venue.base_url.split("://", 1)[1] + f"/fws/private/ws?listenKey={key}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await subscribed(venue)
            await asyncio.to_thread(venue.control.set_faults, listen_key_expire_count=1)
            return await asyncio.wait_for(ws.receive_json(), 20), await asyncio.wait_for(ws.receive(), 20)

    expired, closing = asyncio.run(scenario())

    assert expired["e"] == "listenKeyExpired" and expired["listenKey"] == key
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert venue.control.fault_counts()["listen_key_expire"] == 1
    keep_alive = requests.put(f"{venue.base_url}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": venue.api_key}, timeout=10)
    assert keep_alive.json()["code"] == -1125
    assert new_listen_key(venue) != key


def test_drop_count_loses_one_event_of_the_chosen_market(venue):
    hold_price(venue, "BTCUSDT", 100000)
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue.control.set_faults(user_event_drop_count=1, user_stream_markets=["futures"])

    async def scenario(ex):
        spot = asyncio.create_task(watch_until(lambda: ex.watch_orders("BTC/USDT"), lambda os: len(os) > 0))
        perp = asyncio.create_task(watch_until(lambda: ex.watch_orders(PERP), lambda os: len(os) > 0))
        await subscribed(venue, 2)
        spot_order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 90000)
        perp_order = await ex.create_order(PERP, "limit", "buy", 0.01, 96000)
        await ex.cancel_order(perp_order["id"], PERP)
        return spot_order, perp_order, await spot, await perp

    spot_order, perp_order, spot, perp = run_pro(venue, scenario)

    assert [(o["id"], o["status"]) for o in spot] == [(spot_order["id"], "open")]  # spot untouched
    assert [(o["id"], o["status"]) for o in perp] == [(perp_order["id"], "canceled")]  # its NEW was dropped
    assert venue.control.fault_counts()["user_event_drop"] == 1


def test_duplicate_count_sends_an_event_twice(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue.control.set_faults(user_event_duplicate_count=1)
    trader = _trader(venue)

    def act():
        order = trader.create_order(PERP, "limit", "buy", 0.01, 96000)
        trader.cancel_order(order["id"], PERP)

    events = asyncio.run(futures_events(venue, act, 3))

    assert [e["o"]["x"] for e in events] == ["NEW", "NEW", "CANCELED"]
    assert events[0] == events[1]
    assert venue.control.fault_counts()["user_event_duplicate"] == 1


def test_reorder_count_swaps_an_event_with_the_next_one(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue.control.set_faults(user_event_reorder_count=1)
    trader = _trader(venue)
    placed = []

    def act():
        placed.extend(trader.create_order(PERP, "limit", "buy", 0.01, price)["id"] for price in (96000, 96100, 96200))

    events = asyncio.run(futures_events(venue, act, 3))

    assert [str(e["o"]["i"]) for e in events] == [placed[1], placed[0], placed[2]]
    assert venue.control.fault_counts()["user_event_reorder"] == 1


def test_a_reordered_event_with_no_successor_still_arrives(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue.control.set_faults(user_event_reorder_count=1)
    trader = _trader(venue)
    placed = []

    events = asyncio.run(futures_events(venue, lambda: placed.append(
        trader.create_order(PERP, "limit", "buy", 0.01, 96000)["id"]), 1))

    assert str(events[0]["o"]["i"]) == placed[0]


def test_delay_holds_events_back_in_order(venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_faults(user_event_delay_ms=2000)

    async def scenario(ex):
        watching = asyncio.create_task(watch_until(lambda: ex.watch_orders("BTC/USDT"),
                                                   lambda os: any(o["status"] == "canceled" for o in os)))
        await subscribed(venue)
        order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 90000)
        await ex.cancel_order(order["id"], "BTC/USDT")
        answered_first = not watching.done()  # both REST answers came back while the events were held
        return answered_first, await watching

    answered_first, orders = run_pro(venue, scenario)

    assert answered_first
    assert [o["status"] for o in orders][-1] == "canceled"
    assert venue.control.fault_counts()["user_event_delay"] >= 2  # NEW, CANCELED (and the balance events)


def test_bad_user_stream_knobs_are_refused(venue):
    from exchanges.simulator.control import VenueControlError

    for knobs in ({"listen_key_ttl_s": 0}, {"user_event_drop_rate": 2}, {"user_stream_markets": ["margin"]},
                  {"user_stream_close_count": -1}):
        with pytest.raises(VenueControlError):
            venue.control.set_faults(**knobs)


def _trader(venue):
    from exchanges.simulator.testing import ccxt_client

    exchange = ccxt_client(venue, venue.api_key, venue.secret)
    exchange.load_markets()
    return exchange
