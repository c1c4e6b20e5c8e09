"""Spot orders through ccxt.binance against the local venue: limit/market, time in force, post-only,
partial and resting fills, fees, balances, client order ids, queries and response types."""
from decimal import Decimal

import ccxt
import pytest

from tests.waiting import wait_until

from .helpers import balance, hold_price

D = Decimal


def test_limit_order_rests_locks_funds_and_cancels(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    free_before, _ = balance(venue_exchange, "USDT")

    order = venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 99000)

    assert order["status"] == "open" and order["filled"] == 0 and order["price"] == 99000
    free, locked = balance(venue_exchange, "USDT")
    assert (free, locked) == (free_before - D("990"), D("990"))
    fetched = venue_exchange.fetch_order(order["id"], "BTC/USDT")
    assert fetched["clientOrderId"] == order["clientOrderId"] and fetched["status"] == "open"

    cancelled = venue_exchange.cancel_order(order["id"], "BTC/USDT")

    assert cancelled["status"] == "canceled"
    assert balance(venue_exchange, "USDT") == (free_before, D("0"))
    assert venue_exchange.fetch_order(order["id"], "BTC/USDT")["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        venue_exchange.cancel_order(order["id"], "BTC/USDT")


def test_market_buy_fills_at_the_ask_with_taker_fee_in_base(venue_exchange, venue):
    book = hold_price(venue, "BTCUSDT", 100000)
    ask = D(book["ask"])

    order = venue_exchange.create_order("BTC/USDT", "market", "buy", 0.01)

    assert order["status"] == "closed" and order["filled"] == 0.01
    assert D(order["info"]["cummulativeQuoteQty"]) == ask * D("0.01")
    fill = order["info"]["fills"][0]
    assert (D(fill["commission"]), fill["commissionAsset"]) == (D("0.00001"), "BTC")
    assert balance(venue_exchange, "BTC")[0] == D("2") + D("0.01") - D("0.00001")
    assert balance(venue_exchange, "USDT")[0] == D("100000") - ask * D("0.01")


def test_market_sell_pays_fee_in_quote(venue_exchange, venue):
    book = hold_price(venue, "ETHUSDT", 4000)
    bid = D(book["bid"])

    order = venue_exchange.create_order("ETH/USDT", "market", "sell", 1)

    proceeds = bid * 1
    assert order["status"] == "closed"
    trades = venue_exchange.fetch_my_trades("ETH/USDT")
    assert len(trades) == 1 and trades[0]["takerOrMaker"] == "taker" and trades[0]["side"] == "sell"
    assert D(trades[0]["info"]["commission"]) == proceeds * D("0.001")
    assert trades[0]["info"]["commissionAsset"] == "USDT"
    assert balance(venue_exchange, "USDT")[0] == D("100000") + proceeds - proceeds * D("0.001")
    assert balance(venue_exchange, "ETH")[0] == D("19")


def test_market_buy_by_quote_quantity_spends_at_most_that_quote(venue_exchange, venue):
    ask = D(hold_price(venue, "BTCUSDT", 100000.005)["ask"])

    order = venue_exchange.create_order("BTC/USDT", "market", "buy", None, params={"quoteOrderQty": 1000})

    assert order["status"] == "closed"
    assert D(order["info"]["origQuoteOrderQty"]) == D("1000")
    spent = D(order["info"]["cummulativeQuoteQty"])
    assert D("990") < spent <= D("1000")
    assert D(order["info"]["executedQty"]) == (D("1000") / ask).quantize(D("0.00001"), rounding="ROUND_DOWN")
    assert spent == D(order["info"]["executedQty"]) * ask


def test_resting_limit_fills_as_maker_when_the_price_crosses_it(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    order = venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 99000)

    venue.control.set_price("BTCUSDT", 98000)

    filled = venue_exchange.fetch_order(order["id"], "BTC/USDT")
    assert filled["status"] == "closed" and filled["average"] == 99000
    trade = venue_exchange.fetch_my_trades("BTC/USDT")[0]
    assert trade["takerOrMaker"] == "maker" and trade["price"] == 99000
    assert D(trade["info"]["commission"]) == D("0.00001")
    assert balance(venue_exchange, "USDT") == (D("100000") - D("990"), D("0"))


def test_resting_limit_fills_when_the_random_walk_crosses_it(venue_exchange):
    bid = venue_exchange.fetch_bids_asks(["XRP/USDT"])["XRP/USDT"]["bid"]
    order = venue_exchange.create_order("XRP/USDT", "limit", "buy", 10, bid)
    assert order["status"] == "open"

    filled = wait_until(lambda: venue_exchange.fetch_order(order["id"], "XRP/USDT")["status"] == "closed", timeout=30)

    assert filled
    assert venue_exchange.fetch_my_trades("XRP/USDT")[0]["takerOrMaker"] == "maker"


def test_limit_crossing_part_of_the_depth_fills_partly_then_rests(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.fund(venue.api_key, "spot", "USDT", 400000)
    book = venue_exchange.fetch_order_book("BTC/USDT")
    ask, ask_qty = book["asks"][0]

    order = venue_exchange.create_order("BTC/USDT", "limit", "buy", ask_qty + 0.5, ask)

    assert order["status"] == "open" and order["info"]["status"] == "PARTIALLY_FILLED"
    assert D(order["info"]["executedQty"]) == D(str(ask_qty))
    assert order["remaining"] == pytest.approx(0.5)
    open_orders = venue_exchange.fetch_open_orders("BTC/USDT")
    assert [o["id"] for o in open_orders] == [order["id"]]

    venue.control.set_price("BTCUSDT", 99000)

    done = venue_exchange.fetch_order(order["id"], "BTC/USDT")
    assert done["status"] == "closed" and done["filled"] == pytest.approx(ask_qty + 0.5)
    makers = [t["takerOrMaker"] for t in venue_exchange.fetch_my_trades("BTC/USDT")]
    assert makers == ["taker", "maker"]


def test_ioc_takes_what_it_can_and_expires_the_rest(venue_exchange, venue):
    hold_price(venue, "SOLUSDT", 200)
    ask = venue_exchange.fetch_order_book("SOL/USDT")["asks"][0]

    order = venue_exchange.create_order("SOL/USDT", "limit", "buy", ask[1] + 5, ask[0], params={"timeInForce": "IOC"})

    assert order["info"]["status"] == "EXPIRED" and D(order["info"]["executedQty"]) == D(str(ask[1]))
    assert venue_exchange.fetch_open_orders("SOL/USDT") == []
    assert balance(venue_exchange, "USDT")[1] == 0


def test_fok_that_cannot_fill_completely_expires_with_nothing_filled(venue_exchange, venue):
    hold_price(venue, "SOLUSDT", 200)
    ask = venue_exchange.fetch_order_book("SOL/USDT")["asks"][0]

    order = venue_exchange.create_order("SOL/USDT", "limit", "buy", ask[1] + 5, ask[0], params={"timeInForce": "FOK"})

    assert order["info"]["status"] == "EXPIRED" and order["filled"] == 0
    assert venue_exchange.fetch_my_trades("SOL/USDT") == []
    assert balance(venue_exchange, "USDT") == (D("100000"), D("0"))


def test_post_only_that_would_take_is_rejected_and_nothing_changes(venue_exchange, venue):
    book = hold_price(venue, "BTCUSDT", 100000)

    with pytest.raises(ccxt.OrderImmediatelyFillable):
        venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.01, float(book["ask"]), params={"postOnly": True})

    assert venue_exchange.fetch_orders("BTC/USDT") == []
    resting = venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 99000, params={"postOnly": True})
    assert resting["info"]["type"] == "LIMIT_MAKER" and resting["status"] == "open"


def test_insufficient_balance_is_refused_and_nothing_is_locked(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)

    with pytest.raises(ccxt.InsufficientFunds):
        venue_exchange.create_order("BTC/USDT", "limit", "buy", 2, 99000)
    with pytest.raises(ccxt.InsufficientFunds):
        venue_exchange.create_order("BTC/USDT", "market", "sell", 3)

    assert balance(venue_exchange, "USDT") == (D("100000"), D("0"))
    assert balance(venue_exchange, "BTC") == (D("2"), D("0"))
    assert venue_exchange.fetch_orders("BTC/USDT") == []


def test_sell_limit_locks_base_until_filled(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)

    order = venue_exchange.create_order("BTC/USDT", "limit", "sell", 0.5, 101000)
    assert balance(venue_exchange, "BTC") == (D("1.5"), D("0.5"))

    venue.control.set_price("BTCUSDT", 102000)

    assert venue_exchange.fetch_order(order["id"], "BTC/USDT")["status"] == "closed"
    assert balance(venue_exchange, "BTC") == (D("1.5"), D("0"))
    proceeds = D("0.5") * D("101000")
    assert balance(venue_exchange, "USDT")[0] == D("100000") + proceeds - proceeds * D("0.001")


def test_client_order_id_is_unique_only_among_open_orders(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    first = venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 99000, params={"clientOrderId": "oms-1"})
    assert first["clientOrderId"] == "oms-1"

    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 98000, params={"clientOrderId": "oms-1"})
    assert len(venue_exchange.fetch_open_orders("BTC/USDT")) == 1

    by_client_id = venue_exchange.fetch_order(None, "BTC/USDT", params={"clientOrderId": "oms-1"})
    assert by_client_id["id"] == first["id"]
    venue_exchange.cancel_order(None, "BTC/USDT", params={"clientOrderId": "oms-1"})

    again = venue_exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 98000, params={"clientOrderId": "oms-1"})

    assert again["id"] != first["id"]
    assert venue_exchange.fetch_order(None, "BTC/USDT", params={"clientOrderId": "oms-1"})["id"] == again["id"]
    assert [o["status"] for o in venue_exchange.fetch_orders("BTC/USDT")] == ["canceled", "open"]


def test_open_orders_all_orders_and_trades_listings(venue_exchange, venue):
    hold_price(venue, "ETHUSDT", 4000)
    hold_price(venue, "BTCUSDT", 100000)
    resting_eth = venue_exchange.create_order("ETH/USDT", "limit", "buy", 0.1, 3900)
    resting_btc = venue_exchange.create_order("BTC/USDT", "limit", "sell", 0.01, 101000)
    filled = venue_exchange.create_order("ETH/USDT", "market", "buy", 0.1)

    assert {o["id"] for o in venue_exchange.fetch_open_orders()} == {resting_eth["id"], resting_btc["id"]}
    assert [o["id"] for o in venue_exchange.fetch_open_orders("ETH/USDT")] == [resting_eth["id"]]
    assert [o["id"] for o in venue_exchange.fetch_orders("ETH/USDT")] == [resting_eth["id"], filled["id"]]
    assert [o["id"] for o in venue_exchange.fetch_closed_orders("ETH/USDT")] == [filled["id"]]
    assert [o["id"] for o in venue_exchange.fetch_orders("ETH/USDT", limit=1)] == [filled["id"]]
    trades = venue_exchange.fetch_my_trades("ETH/USDT")
    assert [t["order"] for t in trades] == [filled["id"]]
    assert venue_exchange.fetch_my_trades("ETH/USDT", since=trades[0]["timestamp"] + 1) == []


@pytest.mark.parametrize("resp_type, keys", [
    ("ACK", {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}),
    ("RESULT", {"price", "origQty", "executedQty", "cummulativeQuoteQty", "status", "timeInForce", "type", "side"}),
    ("FULL", {"fills", "status", "executedQty"}),
])
def test_new_order_response_types(venue_exchange, venue, resp_type, keys):
    hold_price(venue, "BTCUSDT", 100000)

    order = venue_exchange.create_order("BTC/USDT", "market", "buy", 0.001, params={"newOrderRespType": resp_type})

    assert keys <= set(order["info"])
    assert ("fills" in order["info"]) == (resp_type == "FULL")
    assert ("status" in order["info"]) == (resp_type != "ACK")
    assert venue_exchange.fetch_order(order["id"], "BTC/USDT")["status"] == "closed"
