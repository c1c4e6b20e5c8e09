"""Where the venue used to be kinder than Binance: price bands, MAX_NUM_ORDERS, maxNotional, the unfilled order
count, the query string over the body, microsecond timestamps and decimal recvWindow, -2039. Through ccxt.binance
(raw signed requests where ccxt cannot send what is tested)."""
import hashlib
import hmac
import time
from decimal import Decimal as D
from urllib.parse import urlencode

import ccxt
import pytest
import requests

from .helpers import hold_price

BTC, PERP = "BTC/USDT", "BTC/USDT:USDT"


def signed(venue, method: str, path: str, query: dict | None = None, body: dict | None = None) -> requests.Response:
    """A signed request with `query` in the URL and `body` as a form; the signature covers query then body."""
    query_text, body_text = urlencode(query or {}), urlencode(body or {})
    payload = query_text + body_text if query_text and body_text else (query_text or body_text)
    signature = hmac.new(venue.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if body_text:
        body_text += f"&signature={signature}"
    else:
        query_text += f"&signature={signature}"
    return requests.request(method, f"{venue.base_url}{path}?{query_text}" if query_text else f"{venue.base_url}{path}",
                            data=body_text or None, timeout=10,
                            headers={"X-MBX-APIKEY": venue.api_key, "Content-Type": "application/x-www-form-urlencoded"})


def filters(exchange, symbol: str) -> dict:
    return {f["filterType"]: f for f in exchange.market(symbol)["info"]["filters"]}


# ---- (2) price bands -------------------------------------------------------------------------------
def test_spot_percent_price_by_side_is_published_and_enforced(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    band = filters(venue_exchange, BTC)["PERCENT_PRICE_BY_SIDE"]
    assert band == {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
                    "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5}

    with pytest.raises(ccxt.InvalidOrder, match="Filter failure: PERCENT_PRICE_BY_SIDE"):  # -1013
        venue_exchange.create_order(BTC, "limit", "buy", 0.01, 1000)  # 1 % of the market
    venue_exchange.load_markets()
    with pytest.raises(ccxt.InvalidOrder, match="PERCENT_PRICE_BY_SIDE"):
        venue_exchange.create_order(BTC, "limit", "sell", 0.001, 900000)  # 9x the market

    assert venue_exchange.fetch_orders(BTC) == []
    inside = venue_exchange.create_order(BTC, "limit", "buy", 0.001, 20001)  # just inside 0.2x
    assert inside["status"] == "open"


def test_futures_percent_price_is_enforced_against_the_mark(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    assert filters(venue_exchange, PERP)["PERCENT_PRICE"]["multiplierUp"] == "1.0500"

    with pytest.raises(ccxt.BadRequest, match=r'"code":-4016,"msg":"Limit price can\'t be higher than 105000.0."'):
        venue_exchange.create_order(PERP, "limit", "buy", 0.01, 120000)  # 20 % above the mark: used to fill
    with pytest.raises(ccxt.BadRequest, match=r'"code":-4024,"msg":"Limit price can\'t be lower than 95000.0."'):
        venue_exchange.create_order(PERP, "limit", "sell", 0.01, 80000)

    assert venue_exchange.fetch_orders(PERP) == []
    assert venue_exchange.fetch_positions([PERP]) == []
    assert venue_exchange.create_order(PERP, "limit", "buy", 0.01, 95000)["status"] == "open"


# ---- (5) MAX_NUM_ORDERS and maxNotional ------------------------------------------------------------
@pytest.mark.parametrize("symbol, market, price, code, exc", [
    (BTC, "spot", 99000, '"code":-2010,"msg":"Filter failure: MAX_NUM_ORDERS"', ccxt.InvalidOrder),
    (PERP, "futures", 99000, '"code":-2025,"msg":"Reach max open order limit."', ccxt.OperationRejected),
])
def test_the_201st_open_order_on_a_symbol_is_refused(venue_exchange, venue, symbol, market, price, code, exc):
    hold_price(venue, "BTCUSDT", 100000, market=market)
    venue.control.set_limits(enabled=False, reset=True)
    published = filters(venue_exchange, symbol)["MAX_NUM_ORDERS"]
    assert published.get("maxNumOrders", published.get("limit")) == 200
    for _ in range(200):
        venue_exchange.create_order(symbol, "limit", "buy", 0.001 if market == "spot" else 0.002, price)

    with pytest.raises(exc, match=code):
        venue_exchange.create_order(symbol, "limit", "buy", 0.001 if market == "spot" else 0.002, price)

    opened = venue_exchange.fetch_open_orders(symbol)
    assert len(opened) == 200
    venue_exchange.cancel_order(opened[0]["id"], symbol)  # one closed: room for one more
    venue_exchange.create_order(symbol, "limit", "buy", 0.001 if market == "spot" else 0.002, price)
    if market == "spot":  # another symbol has its own 200
        hold_price(venue, "ETHUSDT", 4000)
        venue_exchange.create_order("ETH/USDT", "limit", "buy", 0.01, 3900)


def test_spot_max_notional_refuses_a_limit_order_worth_more(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    assert filters(venue_exchange, BTC)["NOTIONAL"]["maxNotional"] == "9000000.00000000"

    with pytest.raises(ccxt.BadRequest, match='"code":-1013,"msg":"Filter failure: NOTIONAL"'):
        venue_exchange.create_order(BTC, "limit", "buy", 91, 99000)  # 9 009 000 USDT

    assert venue_exchange.fetch_orders(BTC) == []


# ---- (7) unfilled order count ------------------------------------------------------------------------
def test_filled_orders_leave_the_spot_unfilled_order_count(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_limits(spot_orders_10s=3, reset=True)
    while time.time() % 10 > 6:  # room for the whole test in one 10 s window
        time.sleep(0.05)

    for _ in range(6):  # filled at once: none stays counted
        venue_exchange.create_order(BTC, "market", "buy", 0.001)
    for _ in range(3):
        venue_exchange.create_order(BTC, "limit", "buy", 0.001, 99000)
    with pytest.raises(ccxt.DDoSProtection, match='"code":-1015'):
        venue_exchange.create_order(BTC, "limit", "buy", 0.001, 99000)

    assert len(venue_exchange.fetch_orders(BTC)) == 9


# ---- (8) parameters ------------------------------------------------------------------------------------
def test_the_query_string_wins_over_the_body(venue):
    hold_price(venue, "BTCUSDT", 100000)
    now = int(time.time() * 1000)
    answer = signed(venue, "POST", "/api/v3/order",
                    query={"quantity": "0.001"},
                    body={"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": "99000",
                          "quantity": "0.002", "timestamp": now})
    assert answer.status_code == 200, answer.text
    assert D(answer.json()["origQty"]) == D("0.001")


def test_spot_takes_microsecond_timestamps_and_decimal_recv_window(venue):
    micro = int(time.time() * 1_000_000)
    answer = signed(venue, "GET", "/api/v3/account", query={"timestamp": micro, "recvWindow": "5000.125"})
    assert answer.status_code == 200, answer.text
    stale = signed(venue, "GET", "/api/v3/account", query={"timestamp": micro - 10_000_000, "recvWindow": "5000.5"})
    assert stale.json()["code"] == -1021  # 10 s old in microseconds: outside the window

    futures = signed(venue, "GET", "/fapi/v2/balance", query={"timestamp": int(time.time() * 1000),
                                                                "recvWindow": "5000.5"})
    assert futures.status_code == 400 and futures.json()["code"] == -1100  # USD-M: whole milliseconds only
    spot_bad = signed(venue, "GET", "/api/v3/account", query={"timestamp": int(time.time() * 1000),
                                                               "recvWindow": "5000.1234"})
    assert spot_bad.json()["code"] == -1100


def test_a_client_order_id_not_matching_the_order_id_is_2039_on_spot(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    order = venue_exchange.create_order(BTC, "limit", "buy", 0.001, 99000, params={"clientOrderId": "mine-1"})

    both = {"symbol": "BTCUSDT", "orderId": order["id"], "origClientOrderId": "other-1"}

    for method in ("GET", "DELETE"):  # ccxt sends one of the two ids, so the request is made by hand
        answer = signed(venue, method, "/api/v3/order", query={**both, "timestamp": int(time.time() * 1000)})
        assert answer.status_code == 400
        assert answer.json() == {"code": -2039, "msg": "Client order ID is not correct for this order ID."}
    futures = signed(venue, "GET", "/fapi/v1/order", query={**both, "timestamp": int(time.time() * 1000)})
    assert futures.json()["code"] == -2013  # USD-M names no mismatch: -2013

    assert venue_exchange.fetch_order(order["id"], BTC)["status"] == "open"  # the failed cancel changed nothing
