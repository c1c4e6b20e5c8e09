"""Per endpoint: every field ccxt's binance parser reads is present and typed as Binance sends it
(decimals as strings, times as integer milliseconds). Fixtures in `shapes.py`."""
import re
import time

import pytest

from . import shapes
from .helpers import hold_price

DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def check(value, shape, where: str = "") -> None:
    if isinstance(shape, dict):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        for name, sub in shape.items():
            assert name in value, f"{where}.{name} missing"
            check(value[name], sub, f"{where}.{name}")
    elif isinstance(shape, list):
        assert isinstance(value, list), f"{where}: expected a list, got {value!r}"
        for n, item in enumerate(value):
            check(item, shape[0], f"{where}[{n}]")
    elif shape == "dec":
        assert isinstance(value, str) and DECIMAL.match(value), f"{where}: {value!r} is not a decimal string"
    elif shape == "int":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r} is not an int"
    elif shape == "num":
        assert isinstance(value, int | float) and not isinstance(value, bool), f"{where}: {value!r} is not a number"
    elif shape == "ms":
        now = time.time() * 1000
        assert isinstance(value, int) and now - 2 * 86_400_000 <= value <= now + 5_000, f"{where}: {value!r} is not ms now"
    elif shape == "str":
        assert isinstance(value, str) and value, f"{where}: {value!r} is not a string"
    elif shape == "bool":
        assert isinstance(value, bool), f"{where}: {value!r} is not a bool"
    elif shape == "levels":
        assert value and all(len(lv) == 2 and all(DECIMAL.match(x) for x in lv) for lv in value), f"{where}: {value!r}"
    else:
        raise AssertionError(f"unknown shape {shape!r}")


def check_rows(rows, shape, where: str) -> None:
    assert isinstance(rows, list) and rows, f"{where}: expected a non-empty list"
    for n, row in enumerate(rows):
        check(row, shape, f"{where}[{n}]")


def test_exchange_info_shapes(venue_exchange):
    for raw, symbol_shape, filters in (
        (venue_exchange.publicGetExchangeInfo(), shapes.SPOT_SYMBOL, shapes.SPOT_FILTERS),
        (venue_exchange.fapiPublicGetExchangeInfo(), shapes.FUTURES_SYMBOL, shapes.FUTURES_FILTERS),
    ):
        check(raw, shapes.EXCHANGE_INFO, "exchangeInfo")
        check_rows(raw["symbols"], symbol_shape, "symbols")
        for sym in raw["symbols"]:
            by_type = {f["filterType"]: f for f in sym["filters"]}
            for name, shape in filters.items():
                check(by_type.get(name), shape, f"{sym['symbol']}.{name}")


def test_spot_order_endpoint_shapes(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    full = venue_exchange.privatePostOrder({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01",
                                            "newOrderRespType": "FULL"})
    check(full, shapes.SPOT_NEW_ORDER_FULL, "POST order")
    assert full["fills"]
    resting = venue_exchange.privatePostOrder({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                               "quantity": "0.01", "price": "96000"})

    check(venue_exchange.privateGetOrder({"symbol": "BTCUSDT", "orderId": resting["orderId"]}), shapes.SPOT_ORDER, "GET order")
    check_rows(venue_exchange.privateGetOpenOrders({"symbol": "BTCUSDT"}), shapes.SPOT_ORDER, "openOrders")
    check_rows(venue_exchange.privateGetAllOrders({"symbol": "BTCUSDT"}), shapes.SPOT_ORDER, "allOrders")
    check_rows(venue_exchange.privateGetMyTrades({"symbol": "BTCUSDT"}), shapes.SPOT_TRADE, "myTrades")
    check(venue_exchange.privateGetAccount(), shapes.SPOT_ACCOUNT, "account")
    check(venue_exchange.privateDeleteOrder({"symbol": "BTCUSDT", "orderId": resting["orderId"]}), shapes.SPOT_CANCEL,
          "DELETE order")


def test_futures_order_endpoint_shapes(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    check(venue_exchange.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": 10}), shapes.LEVERAGE, "leverage")
    filled = venue_exchange.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01",
                                                  "newOrderRespType": "RESULT"})
    check(filled, shapes.FUTURES_NEW_ORDER, "POST order")
    resting = venue_exchange.fapiPrivatePostOrder({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                                   "quantity": "0.01", "price": "96000"})

    check(venue_exchange.fapiPrivateGetOrder({"symbol": "BTCUSDT", "orderId": resting["orderId"]}), shapes.FUTURES_ORDER, "GET")
    check_rows(venue_exchange.fapiPrivateGetOpenOrders({}), shapes.FUTURES_ORDER, "openOrders")
    check_rows(venue_exchange.fapiPrivateGetAllOrders({"symbol": "BTCUSDT"}), shapes.FUTURES_ORDER, "allOrders")
    check_rows(venue_exchange.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"}), shapes.FUTURES_TRADE, "userTrades")
    account = venue_exchange.fapiPrivateV3GetAccount()
    check(account, shapes.FUTURES_ACCOUNT, "account v3")
    assert account["positions"]
    check_rows(venue_exchange.fapiPrivateV3GetPositionRisk({}), shapes.POSITION_RISK, "positionRisk v3")
    check_rows(venue_exchange.fapiPrivateGetLeverageBracket({}), shapes.LEVERAGE_BRACKET, "leverageBracket")
    check(venue_exchange.fapiPrivateDeleteOrder({"symbol": "BTCUSDT", "orderId": resting["orderId"]}),
          shapes.FUTURES_NEW_ORDER, "DELETE order")


@pytest.mark.parametrize("method, params, shape, many", [
    ("publicGetTicker24hr", {"symbol": "BTCUSDT"}, shapes.SPOT_TICKER, False),
    ("publicGetTicker24hr", {"symbols": '["BTCUSDT","ETHUSDT"]'}, shapes.SPOT_TICKER, True),
    ("publicGetTickerBookTicker", {"symbols": '["BTCUSDT","ETHUSDT"]'}, shapes.SPOT_BOOK_TICKER, True),
    ("publicGetDepth", {"symbol": "BTCUSDT"}, shapes.DEPTH, False),
    ("fapiPublicGetTicker24hr", {"symbol": "BTCUSDT"}, shapes.FUTURES_TICKER, False),
    ("fapiPublicGetTicker24hr", {}, shapes.FUTURES_TICKER, True),
    ("fapiPublicGetTickerBookTicker", {"symbol": "BTCUSDT"}, shapes.FUTURES_BOOK_TICKER, False),
    ("fapiPublicGetTickerBookTicker", {}, shapes.FUTURES_BOOK_TICKER, True),
    ("fapiPublicGetDepth", {"symbol": "BTCUSDT"}, shapes.DEPTH, False),
    ("publicGetTime", {}, {"serverTime": "ms"}, False),
])
def test_market_data_shapes(venue_exchange, method, params, shape, many):
    raw = getattr(venue_exchange, method)(params)

    if many:
        check_rows(raw, shape, method)
    else:
        check(raw, shape, method)
