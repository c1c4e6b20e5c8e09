"""Changing a resting order through ccxt.binance: USD-M Modify Order (`edit_order` → PUT /fapi/v1/order), spot
cancel-replace (`edit_order` → POST /api/v3/order/cancelReplace) and spot's keep-priority amend (PUT
/api/v3/order/amend/keepPriority), with Binance's refusals and the user-stream events each one sends."""
import asyncio
from decimal import Decimal

import ccxt
import pytest

from .helpers import balance, hold_price, run_pro, subscribed, watch_until

PERP = "BTC/USDT:USDT"
SPOT = "BTC/USDT"


def keep_priority(exchange, params: dict) -> dict:
    """ccxt 4.5 has no method for this endpoint: a signed request on its spot API."""
    return exchange.request("order/amend/keepPriority", ["private"], "PUT", params)


def test_usdm_modify_keeps_the_order_id_and_changes_price_and_quantity(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    placed = venue_exchange.create_order(PERP, "limit", "buy", 0.01, 99000, {"clientOrderId": "mod-1"})

    edited = venue_exchange.edit_order(placed["id"], PERP, "limit", "buy", 0.02, 99100)

    assert edited["id"] == placed["id"] and edited["clientOrderId"] == "mod-1"
    assert edited["info"]["price"] == "99100.0" and edited["info"]["origQty"] == "0.020"
    fetched = venue_exchange.fetch_order(placed["id"], PERP)
    assert fetched["status"] == "open" and fetched["price"] == 99100 and fetched["amount"] == 0.02
    assert fetched["info"]["selfTradePreventionMode"] == "NONE"  # Binance: a modified order's STP becomes NONE


def test_usdm_modify_refusals_leave_the_order_as_it_was(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    placed = venue_exchange.create_order(PERP, "limit", "buy", 0.01, 99000)

    with pytest.raises(ccxt.ExchangeError, match='"code":-5027'):
        venue_exchange.edit_order(placed["id"], PERP, "limit", "buy", 0.01, 99000)
    with pytest.raises(ccxt.ExchangeError, match='"code":-4014'):
        venue_exchange.fapiPrivatePutOrder({"symbol": "BTCUSDT", "orderId": placed["id"], "side": "BUY",
                                            "quantity": "0.010", "price": "99000.05"})
    with pytest.raises(ccxt.ExchangeError, match='"code":-1102'):
        venue_exchange.fapiPrivatePutOrder({"symbol": "BTCUSDT", "orderId": placed["id"], "side": "BUY",
                                            "quantity": "0.010"})
    with pytest.raises(ccxt.OrderNotFound, match='"code":-2013'):
        venue_exchange.edit_order("123456789", PERP, "limit", "buy", 0.01, 99100)
    venue_exchange.cancel_order(placed["id"], PERP)
    with pytest.raises(ccxt.OrderNotFound, match='"code":-2013'):
        venue_exchange.edit_order(placed["id"], PERP, "limit", "buy", 0.01, 99100)

    fetched = venue_exchange.fetch_order(placed["id"], PERP)
    assert fetched["price"] == 99000 and fetched["amount"] == 0.01 and fetched["status"] == "canceled"


def test_usdm_modify_to_a_crossing_price_trades_at_once(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    placed = venue_exchange.create_order(PERP, "limit", "buy", 0.01, 99000)

    edited = venue_exchange.edit_order(placed["id"], PERP, "limit", "buy", 0.01, 101000)

    assert edited["id"] == placed["id"] and edited["status"] == "closed" and edited["filled"] == 0.01


def test_usdm_modify_sends_amendment_on_the_user_stream(venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    async def scenario(ex):
        placed = await ex.create_order(PERP, "limit", "sell", 0.01, 101000)
        amended = asyncio.create_task(watch_until(lambda: ex.watch_orders(PERP),
                                                  lambda os: any(o["info"].get("x") == "AMENDMENT" for o in os)))
        await subscribed(venue)
        await ex.edit_order(placed["id"], PERP, "limit", "sell", 0.005, 100900)
        return placed, [o for o in await amended if o["info"].get("x") == "AMENDMENT"][-1]

    placed, event = run_pro(venue, scenario)

    assert event["id"] == placed["id"] and event["info"]["X"] == "NEW"
    assert event["info"]["p"] == "100900.00000000" and event["info"]["q"] == "0.00500000"


def test_spot_cancel_replace_answers_both_halves_and_the_new_order_has_a_new_id(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    placed = venue_exchange.create_order(SPOT, "limit", "buy", 0.01, 99000)

    edited = venue_exchange.edit_order(placed["id"], SPOT, "limit", "buy", 0.02, 98000, {"clientOrderId": "cr-2"})

    assert edited["id"] != placed["id"] and edited["clientOrderId"] == "cr-2" and edited["status"] == "open"
    assert venue_exchange.fetch_order(placed["id"], SPOT)["status"] == "canceled"
    free, locked = balance(venue_exchange, "USDT")
    assert locked == Decimal("1960")  # only the new order's 0.02 × 98000 is held


def test_spot_cancel_replace_of_an_unknown_order_places_nothing(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)

    with pytest.raises(ccxt.BadResponse, match='"code":-2022') as caught:  # how ccxt maps -2022
        venue_exchange.edit_order("123456789", SPOT, "limit", "buy", 0.01, 98000)

    assert '"newOrderResult":"NOT_ATTEMPTED"' in str(caught.value)
    assert venue_exchange.fetch_open_orders(SPOT) == []


def test_spot_cancel_replace_whose_new_order_fails_says_so(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    placed = venue_exchange.create_order(SPOT, "limit", "buy", 0.01, 99000)

    with pytest.raises(ccxt.ExchangeError, match='"code":-2021') as caught:
        venue_exchange.privatePostOrderCancelReplace({
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
            "price": "98000.001", "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": placed["id"]})

    text = str(caught.value)
    assert '"cancelResult":"SUCCESS"' in text and '"newOrderResult":"FAILURE"' in text
    assert venue_exchange.fetch_open_orders(SPOT) == []


def test_spot_keep_priority_amend_decreases_quantity_and_keeps_the_id(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    placed = venue_exchange.create_order(SPOT, "limit", "buy", 0.02, 99000, {"clientOrderId": "kp-1"})

    answer = keep_priority(venue_exchange, {"symbol": "BTCUSDT", "orderId": placed["id"],
                                                              "newQty": "0.01", "newClientOrderId": "kp-2"})

    amended = answer["amendedOrder"]
    assert amended["orderId"] == int(placed["id"]) and amended["qty"] == "0.01000000"
    assert amended["origClientOrderId"] == "kp-1" and amended["clientOrderId"] == "kp-2"
    assert balance(venue_exchange, "USDT")[1] == Decimal("990")
    with pytest.raises(ccxt.ExchangeError, match='"code":-2038'):
        keep_priority(venue_exchange, {"symbol": "BTCUSDT", "orderId": placed["id"],
                                                         "newQty": "0.02"})
    fetched = venue_exchange.fetch_order(placed["id"], SPOT)
    assert fetched["amount"] == 0.01 and fetched["clientOrderId"] == "kp-2"


def test_spot_keep_priority_amend_sends_replaced_on_the_user_stream(venue):
    hold_price(venue, "BTCUSDT", 100000)

    async def scenario(ex):
        placed = await ex.create_order(SPOT, "limit", "sell", 0.02, 101000)
        replaced = asyncio.create_task(watch_until(lambda: ex.watch_orders(SPOT),
                                                   lambda os: any(o["info"].get("x") == "REPLACED" for o in os)))
        await subscribed(venue)
        await ex.request("order/amend/keepPriority", ["private"], "PUT", {"symbol": "BTCUSDT", "orderId": placed["id"], "newQty": "0.015"})
        return placed, [o for o in await replaced if o["info"].get("x") == "REPLACED"][-1]

    placed, event = run_pro(venue, scenario)

    assert event["id"] == placed["id"] and event["info"]["q"] == "0.01500000" and event["info"]["X"] == "NEW"
