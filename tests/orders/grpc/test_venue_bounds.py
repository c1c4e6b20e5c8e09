"""The venue's bounds through gRPC, end to end (real server, worker, ccxt to the local venue): the price band
(spot PERCENT_PRICE_BY_SIDE, USD-M PERCENT_PRICE), spot maxNotional and MAX_NUM_ORDERS are refused before
sending, naming the field and the rule, once the catalog has the venue's filters and a market price is known;
a refusal the venue still makes (no market price known, a limit lowered since the catalog was read) ends the
order REJECTED with the rule first in its reason."""
from decimal import Decimal

import grpc
import pytest

from clients.python.oms_client import OMSClient
from exchanges.marketdata import poll_venue
from exchanges.markets import sync_markets
from exchanges.models import Instrument
from infra import pubsub
from orders.models import Order, Status
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def client(grpc_server, venue, venue_account, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 10  # answered as soon as the worker records the venue's reply
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    with OMSClient(grpc_server, timeout=15) as oms:
        yield oms


def posts(venue) -> list[dict]:
    return [r for r in venue.control.audit() if r["method"] == "POST" and r["path"].endswith("/order")]


def refused(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def test_the_catalog_holds_the_venues_bounds(client, venue_account):
    spot = Instrument.objects.get(exchange="binance", market="spot", symbol="BTCUSDT")
    perp = Instrument.objects.get(exchange="binance", market="futures", symbol="BTCUSDT")

    assert (spot.bid_multiplier_down, spot.bid_multiplier_up, spot.ask_multiplier_down, spot.ask_multiplier_up) == (
        Decimal("0.2"), Decimal("5"), Decimal("0.2"), Decimal("5"))
    assert (perp.bid_multiplier_down, perp.bid_multiplier_up) == (Decimal("0.95"), Decimal("1.05"))
    assert (spot.max_notional, spot.max_open_orders, perp.max_notional, perp.max_open_orders) == (
        Decimal("9000000"), 200, None, 200)


def test_a_price_outside_the_band_is_refused_before_the_venue(client, venue, venue_account):
    poll_venue(venue_account)  # the market price is known

    spot = refused(lambda: client.place_order("BTCUSDT", "BUY", 0.01, price=1000))
    perp = refused(lambda: client.place_order("BTCUSDT", "BUY", 0.01, price=120000, market="futures"))

    assert spot.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert spot.details().startswith("price: price band: a BUY limit price on BTCUSDT must be within 0.2× and 5× of "
                                     "the market price"), spot.details()
    assert perp.code() == grpc.StatusCode.INVALID_ARGUMENT and "within 0.95× and 1.05×" in perp.details()
    assert not Order.objects.exists() and posts(venue) == []
    assert client.place_order("BTCUSDT", "BUY", 0.01, price=96000, market="futures")["status"] == "NEW"


def test_the_venues_band_refusal_is_a_rejection_naming_the_rule(client, venue, venue_account):
    pubsub.client().hdel(pubsub.LATEST_PRICES_KEY, "binance:spot:BTCUSDT", "binance:futures:BTCUSDT")  # no price

    spot = client.place_order("BTCUSDT", "SELL", 0.001, price=900000)
    perp = client.place_order("BTCUSDT", "BUY", 0.01, price=120000, market="futures")

    assert spot["status"] == "REJECTED" and spot["reason"].startswith(
        "price band: the limit price is too far from the market price: Filter failure: PERCENT_PRICE_BY_SIDE"), spot
    assert perp["status"] == "REJECTED" and perp["reason"] == (
        "price band: the limit price is above the highest the venue accepts now: "
        "Limit price can't be higher than 105000.0. (code -4016)"), perp
    assert len(posts(venue)) == 2 and venue.control.records(venue.api_key, "futures")["orders"] == []


def test_a_limit_order_worth_more_than_the_venues_maximum_is_refused(client, venue):
    err = refused(lambda: client.place_order("BTCUSDT", "BUY", 91, price=99000))

    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == ("quantity: order value 9009000 USDT (quantity × price) is above the maximum 9000000 USDT "
                             "the venue accepts for a LIMIT order on BTCUSDT")
    assert not Order.objects.exists() and posts(venue) == []


def test_too_many_open_orders_on_a_symbol(client, venue, venue_account):
    venue.control.set_limits(max_num_orders=3)
    sync_markets(venue_account)
    for n in range(3):
        assert client.place_order("BTCUSDT", "BUY", 0.001, price=99000 - n)["status"] == "NEW"

    err = refused(lambda: client.place_order("BTCUSDT", "BUY", 0.001, price=98000))

    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.details() == ("symbol: too many open orders: account 'main' has 3 open orders on BTCUSDT (spot); the "
                             "venue allows at most 3 per symbol (MAX_NUM_ORDERS)")
    assert Order.objects.count() == 3 and len(posts(venue)) == 3
    assert client.place_order("ETHUSDT", "BUY", 0.01, price=4000)["status"] == "NEW"  # per symbol

    venue.control.set_limits(max_num_orders=2)  # lowered since the catalog was read: the venue refuses
    cancelled = client.cancel_order(Order.objects.filter(symbol="BTCUSDT").first().id)
    wait_until(lambda: Order.objects.get(pk=cancelled["order_id"]).status == Status.CANCELLED, what="cancelled")
    late = client.place_order("BTCUSDT", "BUY", 0.001, price=98000)
    assert late["status"] == Status.REJECTED
    assert late["reason"] == "too many open orders on the symbol: Filter failure: MAX_NUM_ORDERS (code -2010)"
