"""USD-M futures through ccxt.binance against the local venue: orders, leverage, margin, one-way
positions with entry/mark price, unrealized and realized PnL, liquidation price, reduce-only, post-only."""
from decimal import ROUND_HALF_UP, Decimal

import ccxt
import pytest

from .helpers import balance, hold_price

D = Decimal
BTC = "BTC/USDT:USDT"


def futures_account(exchange) -> dict:
    return exchange.fapiPrivateV3GetAccount()


def test_limit_order_reserves_margin_then_cancel_releases_it(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    order = venue_exchange.create_order(BTC, "limit", "buy", 0.01, 99000)

    assert order["status"] == "open" and order["info"]["positionSide"] == "BOTH"
    assert balance(venue_exchange, "USDT", {"type": "future"}) == (D("100000") - D("49.5"), D("49.5"))
    assert [o["id"] for o in venue_exchange.fetch_open_orders(None, params={"type": "swap"})] == [order["id"]]

    cancelled = venue_exchange.cancel_order(order["id"], BTC)

    assert cancelled["status"] == "canceled"
    assert balance(venue_exchange, "USDT", {"type": "future"}) == (D("100000"), D("0"))
    with pytest.raises(ccxt.OrderNotFound):
        venue_exchange.cancel_order(order["id"], BTC)


def test_market_order_opens_a_position_with_entry_mark_and_unrealized_pnl(venue_exchange, venue):
    ask = D(hold_price(venue, "BTCUSDT", 100000, market="futures")["ask"])
    assert venue_exchange.set_leverage(10, BTC)["leverage"] == 10

    order = venue_exchange.create_order(BTC, "market", "buy", 0.1)

    assert order["status"] == "closed" and D(order["info"]["avgPrice"]) == ask
    fee = D("0.1") * ask * D("0.0005")
    venue.control.set_price("BTCUSDT", 110000, market="futures")
    [position] = venue_exchange.fetch_positions([BTC])
    assert (position["side"], position["contracts"], position["entryPrice"]) == ("long", 0.1, float(ask))
    assert position["markPrice"] == 110000
    assert D(position["info"]["unRealizedProfit"]) == D("0.1") * (D("110000") - ask)
    assert D(position["info"]["initialMargin"]) == D("0.1") * D("110000") / 10
    account = futures_account(venue_exchange)
    assert D(account["totalWalletBalance"]) == D("100000") - fee
    assert D(account["totalUnrealizedProfit"]) == D("0.1") * (D("110000") - ask)


def test_closing_a_position_realizes_pnl_into_the_wallet(venue_exchange, venue):
    ask = D(hold_price(venue, "ETHUSDT", 4000, market="futures")["ask"])
    venue_exchange.create_order("ETH/USDT:USDT", "market", "buy", 1)
    bid = D(hold_price(venue, "ETHUSDT", 4200, market="futures")["bid"])

    close = venue_exchange.create_order("ETH/USDT:USDT", "market", "sell", 1, params={"reduceOnly": True})

    assert close["status"] == "closed" and close["reduceOnly"] is True
    trades = venue_exchange.fetch_my_trades("ETH/USDT:USDT")
    assert [D(t["info"]["realizedPnl"]) for t in trades] == [D("0"), bid - ask]
    fees = (ask + bid) * D("0.0005")
    assert D(futures_account(venue_exchange)["totalWalletBalance"]) == D("100000") + (bid - ask) - fees
    assert venue_exchange.fetch_positions(["ETH/USDT:USDT"]) == []


def test_liquidation_price_follows_binance_cross_margin_formula(venue_exchange, venue):
    venue.control.fund(venue.api_key, "futures", "USDT", -99000)
    ask = D(hold_price(venue, "BTCUSDT", 100000, market="futures")["ask"])

    venue_exchange.create_order(BTC, "market", "buy", 0.1)

    wallet = D("1000") - D("0.1") * ask * D("0.0005")
    expected = ((D("0.1") * ask - wallet) / (D("0.1") * (1 - D("0.004")))).quantize(D("0.1"), ROUND_HALF_UP)
    [position] = venue_exchange.fetch_positions([BTC])
    assert D(position["info"]["liquidationPrice"]) == expected
    assert D(position["info"]["maintMargin"]) == D("0.1") * D(position["info"]["markPrice"]) * D("0.004")


def test_resting_limit_fills_as_maker_when_the_price_crosses(venue_exchange, venue):
    hold_price(venue, "SOLUSDT", 200, market="futures")
    order = venue_exchange.create_order("SOL/USDT:USDT", "limit", "sell", 10, 205)

    venue.control.set_price("SOLUSDT", 210, market="futures")

    assert venue_exchange.fetch_order(order["id"], "SOL/USDT:USDT")["status"] == "closed"
    [trade] = venue_exchange.fetch_my_trades("SOL/USDT:USDT")
    assert trade["takerOrMaker"] == "maker" and trade["price"] == 205
    assert D(trade["info"]["commission"]) == D("2050") * D("0.0002")
    [position] = venue_exchange.fetch_positions(["SOL/USDT:USDT"])
    assert position["side"] == "short" and position["contracts"] == 10


def test_reduce_only_without_a_position_is_rejected(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    with pytest.raises(ccxt.InvalidOrder, match="ReduceOnly Order is rejected"):
        venue_exchange.create_order(BTC, "market", "sell", 0.01, params={"reduceOnly": True})

    assert venue_exchange.fetch_orders(BTC) == []


def test_post_only_that_would_take_is_rejected(venue_exchange, venue):
    book = hold_price(venue, "BTCUSDT", 100000, market="futures")

    with pytest.raises(ccxt.OrderNotFillable):
        venue_exchange.create_order(BTC, "limit", "buy", 0.01, float(book["ask"]), params={"postOnly": True})

    resting = venue_exchange.create_order(BTC, "limit", "buy", 0.01, 99000, params={"postOnly": True})
    assert resting["info"]["timeInForce"] == "GTX" and resting["status"] == "open"
    assert len(venue_exchange.fetch_orders(BTC)) == 1


def test_margin_insufficient_is_refused(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    with pytest.raises(ccxt.InsufficientFunds, match="Margin is insufficient"):
        venue_exchange.create_order(BTC, "limit", "buy", 30, 99000)

    assert venue_exchange.fetch_orders(BTC) == []
    assert balance(venue_exchange, "USDT", {"type": "future"}) == (D("100000"), D("0"))


def test_notional_below_minimum_is_refused(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    with pytest.raises(ccxt.InvalidOrder, match="notional must be no smaller than 100"):
        venue_exchange.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001",
                                             "price": "96000", "timeInForce": "GTC"})

    assert venue_exchange.fetch_orders(BTC) == []


def test_duplicate_client_order_id_while_open_is_refused_then_accepted_once_closed(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    first = venue_exchange.create_order(BTC, "limit", "buy", 0.01, 99000, params={"clientOrderId": "oms-f1"})

    with pytest.raises(ccxt.InvalidOrder, match="ClientOrderId is duplicated"):
        venue_exchange.create_order(BTC, "limit", "buy", 0.01, 98000, params={"clientOrderId": "oms-f1"})
    assert len(venue_exchange.fetch_open_orders(BTC)) == 1

    venue_exchange.cancel_order(None, BTC, params={"clientOrderId": "oms-f1"})
    again = venue_exchange.create_order(BTC, "limit", "buy", 0.01, 98000, params={"clientOrderId": "oms-f1"})

    assert again["id"] != first["id"]
    assert venue_exchange.fetch_order(None, BTC, params={"clientOrderId": "oms-f1"})["id"] == again["id"]


def test_leverage_outside_the_brackets_is_refused(venue_exchange):
    with pytest.raises(ccxt.BadRequest, match="Leverage 76 is not valid"):
        venue_exchange.fapiPrivatePostLeverage({"symbol": "XRPUSDT", "leverage": 76})
    with pytest.raises(ccxt.BadRequest, match="Leverage 126 is not valid"):
        venue_exchange.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": 126})

    assert venue_exchange.set_leverage(125, BTC)["leverage"] == 125
    brackets = venue_exchange.fapiPrivateGetLeverageBracket({"symbol": "BTCUSDT"})
    assert brackets[0]["brackets"][0]["initialLeverage"] == 125


def test_ack_answers_before_matching_result_after(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    ack = venue_exchange.create_order(BTC, "market", "buy", 0.01, params={"newOrderRespType": "ACK"})
    result = venue_exchange.create_order(BTC, "market", "buy", 0.01)

    assert (ack["info"]["status"], ack["info"]["executedQty"]) == ("NEW", "0.000")
    assert venue_exchange.fetch_order(ack["id"], BTC)["status"] == "closed"
    assert (result["info"]["status"], result["info"]["executedQty"]) == ("FILLED", "0.010")
    [position] = venue_exchange.fetch_positions([BTC])
    assert position["contracts"] == 0.02


def test_a_position_past_its_liquidation_price_is_closed_at_the_mark(venue_exchange, venue):
    venue.control.fund(venue.api_key, "futures", "USDT", -99000)
    ask = D(hold_price(venue, "BTCUSDT", 100000, market="futures")["ask"])
    venue_exchange.create_order(BTC, "market", "buy", 0.1)
    resting = venue_exchange.create_order(BTC, "limit", "sell", 0.01, 104000)  # inside the 5 % band
    liquidation = D(venue_exchange.fetch_positions([BTC])[0]["info"]["liquidationPrice"])

    venue.control.set_price("BTCUSDT", liquidation + 100, market="futures")
    assert len(venue_exchange.fetch_positions([BTC])) == 1
    venue.control.set_price("BTCUSDT", liquidation - 10, market="futures")

    assert venue_exchange.fetch_positions([BTC]) == []
    assert venue_exchange.fetch_order(resting["id"], BTC)["status"] == "canceled"
    autoclose = venue_exchange.fetch_orders(BTC)[-1]
    assert autoclose["clientOrderId"].startswith("autoclose-") and autoclose["status"] == "closed"
    mark = liquidation - 10
    fees = D("0.1") * ask * D("0.0005") + D("0.1") * mark * D("0.0005")
    expected = max(D("0"), D("1000") + D("0.1") * (mark - ask) - fees)
    assert D(futures_account(venue_exchange)["totalWalletBalance"]) == expected
