"""Each Binance error code the venue answers with, and the ccxt exception ccxt maps it to."""
import ccxt
import pytest

from exchanges.simulator.testing import ccxt_client

from .helpers import hold_price

SPOT_LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
              "price": "99000"}
FUT_LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
             "price": "99000"}


def spot_order(exchange, **changes):
    params = {**SPOT_LIMIT, **changes}
    return exchange.privatePostOrder({k: v for k, v in params.items() if v is not None})


def futures_order(exchange, **changes):
    params = {**FUT_LIMIT, **changes}
    return exchange.fapiPrivatePostOrder({k: v for k, v in params.items() if v is not None})


@pytest.mark.parametrize("changes, code, exc", [
    ({"quantity": "0.000015"}, -1013, ccxt.InvalidOrder),  # LOT_SIZE
    ({"price": "99000.005"}, -1013, ccxt.InvalidOrder),  # PRICE_FILTER
    ({"quantity": "0.00001", "price": "100"}, -1013, ccxt.BadRequest),  # NOTIONAL
    ({"quantity": "0.000000001"}, -1111, ccxt.BadRequest),
    ({"symbol": "FOOUSDT"}, -1121, ccxt.BadSymbol),
    ({"quantity": None}, -1102, ccxt.BadRequest),
    ({"quantity": "1e-3"}, -1100, ccxt.BadRequest),
    ({"newClientOrderId": "not allowed!"}, -1100, ccxt.BadRequest),
    ({"type": "STOP"}, -1116, ccxt.BadRequest),
    ({"side": "HOLD"}, -1117, ccxt.BadRequest),
    ({"timeInForce": "GTD"}, -1115, ccxt.BadRequest),
    ({"recvWindow": "70000"}, -1131, ccxt.BadRequest),
    ({"quantity": "5"}, -2010, ccxt.InsufficientFunds),  # ccxt matches the message first
])
def test_spot_order_errors(venue_exchange, venue, changes, code, exc):
    hold_price(venue, "BTCUSDT", 100000)

    with pytest.raises(exc) as err:
        spot_order(venue_exchange, **changes)

    assert f'"code":{code}' in str(err.value) or (code == -2010 and "insufficient balance" in str(err.value))
    assert venue_exchange.fetch_orders("BTC/USDT") == []


@pytest.mark.parametrize("changes, code, exc", [
    ({"quantity": "0"}, -4003, ccxt.BadRequest),
    ({"quantity": "0.0015"}, -1111, ccxt.BadRequest),
    ({"price": "99000.05"}, -4014, ccxt.BadRequest),
    ({"quantity": "0.001", "price": "96000"}, -4164, ccxt.InvalidOrder),
    ({"quantity": "50"}, -2019, ccxt.InsufficientFunds),
    ({"positionSide": "LONG"}, -4061, ccxt.OperationRejected),
    ({"reduceOnly": "true"}, -2022, ccxt.InvalidOrder),
    ({"timeInForce": "GTX", "price": "101000"}, -5022, ccxt.OrderNotFillable),
    ({"timeInForce": "FOK", "quantity": "500", "price": "101000"}, -5021, ccxt.OrderNotFillable),
    ({"symbol": "FOOUSDT"}, -1121, ccxt.BadSymbol),
])
def test_futures_order_errors(venue_exchange, venue, changes, code, exc):
    venue.control.fund(venue.api_key, "futures", "USDT", 10_000_000)
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    if code == -2019:
        venue.control.fund(venue.api_key, "futures", "USDT", -10_000_000)

    with pytest.raises(exc) as err:
        futures_order(venue_exchange, **changes)

    assert f'"code":{code}' in str(err.value)
    assert venue_exchange.fetch_orders("BTC/USDT:USDT") == []


def test_unknown_orders_raise_order_not_found(venue_exchange):
    with pytest.raises(ccxt.OrderNotFound, match='"code":-2013'):
        venue_exchange.fetch_order("123", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound, match='"code":-2011'):
        venue_exchange.cancel_order("123", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound, match='"code":-2013'):
        venue_exchange.fetch_order(None, "BTC/USDT:USDT", params={"clientOrderId": "never-sent"})
    with pytest.raises(ccxt.OrderNotFound, match='"code":-2011'):
        venue_exchange.cancel_order("123", "BTC/USDT:USDT")


def test_wrong_secret_is_an_invalid_signature(venue):
    exchange = ccxt_client(venue, venue.api_key, "not-the-secret")

    with pytest.raises(ccxt.AuthenticationError, match='"code":-1022'):
        exchange.fetch_balance()


def test_unknown_key_is_refused(venue):
    exchange = ccxt_client(venue, "someone-else", "secret")

    with pytest.raises(ccxt.AuthenticationError, match='"code":-2015'):
        exchange.fetch_balance()


def test_malformed_key_is_refused(venue):
    exchange = ccxt_client(venue, "bad key!", "secret")

    with pytest.raises(ccxt.AuthenticationError, match='"code":-2014'):
        exchange.fetch_balance()


@pytest.mark.parametrize("skew_ms, message", [
    (20_000, "outside of the recvWindow"),
    (-5_000, "ahead of the server's time"),
])
def test_timestamps_outside_the_window_are_invalid_nonces(venue_exchange, venue, skew_ms, message):
    venue.control.set_faults(clock_skew_ms=skew_ms)

    with pytest.raises(ccxt.InvalidNonce, match=message):
        venue_exchange.fetch_balance()

    venue.control.clear_faults()
    assert venue_exchange.fetch_balance()["USDT"]["free"] == 100000


def test_unsigned_private_call_is_refused(venue_exchange, venue):
    url = f"{venue.base_url}/api/v3/account?timestamp={venue_exchange.milliseconds()}"

    with pytest.raises(ccxt.BadRequest, match="Mandatory parameter 'signature'"):
        venue_exchange.fetch(url, "GET", {"X-MBX-APIKEY": venue.api_key})
