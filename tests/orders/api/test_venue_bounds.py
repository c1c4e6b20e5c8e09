"""The venue's bounds through REST, end to end (real worker, ccxt to the local venue): the same refusals as
gRPC's (tests/orders/grpc/test_venue_bounds.py), as REST errors naming the field and the rule, or REJECTED orders whose
reason names it when the venue refuses."""
from __future__ import annotations

import pytest

from accounts import services as account_services
from exchanges.marketdata import poll_venue
from exchanges.markets import sync_markets
from infra import pubsub
from orders.models import Order
from tests import factories
from tests.orders.api.conftest import token_client

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def desk(venue, venue_account, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 10  # answered as soon as the worker records the venue's reply
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    user = factories.user_create(username="desk")
    account_services.member_add(account="main", user=user)
    return token_client(user)


def place(desk, **fields):
    return desk.post("/api/v1/orders/", {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01",
                                         **fields}, format="json")


def posts(venue) -> list[dict]:
    return [r for r in venue.control.audit() if r["method"] == "POST" and r["path"].endswith("/order")]


def test_price_band_and_max_notional_are_refused_before_the_venue(desk, venue, venue_account):
    poll_venue(venue_account)

    band = place(desk, price="1000")
    perp = place(desk, price="80000", side="SELL", market="futures")
    worth = place(desk, quantity="91", price="99000")

    assert band.status_code == 400 and band.json()["error"]["field"] == "price"
    assert band.json()["error"]["message"].startswith("price band: a BUY limit price on BTCUSDT must be within 0.2× "
                                                      "and 5× of the market price"), band.json()
    assert perp.status_code == 400 and "SELL limit price on BTCUSDT must be within 0.95× and 1.05×" in \
        perp.json()["error"]["message"]
    assert worth.status_code == 400 and worth.json()["error"]["field"] == "quantity"
    assert "above the maximum 9000000 USDT the venue accepts" in worth.json()["error"]["message"]
    assert not Order.objects.exists() and posts(venue) == []


def test_the_venues_band_refusal_is_a_rejection_naming_the_rule(desk, venue):
    pubsub.client().hdel(pubsub.LATEST_PRICES_KEY, "binance:futures:BTCUSDT")  # no market price known

    placed = place(desk, price="80000", side="SELL", market="futures")

    assert placed.status_code == 201, placed.content
    assert placed.json()["status"] == "REJECTED"
    assert placed.json()["reason"] == ("price band: the limit price is below the lowest the venue accepts now: "
                                       "Limit price can't be lower than 95000.0. (code -4024)")


def test_too_many_open_orders_on_a_symbol(desk, venue, venue_account):
    venue.control.set_limits(max_num_orders=2)
    sync_markets(venue_account)
    assert [place(desk, price=str(99000 - n)).json()["status"] for n in range(2)] == ["NEW", "NEW"]

    third = place(desk, price="98000")

    assert third.status_code == 409, third.content
    assert third.json()["error"]["field"] == "symbol"
    assert third.json()["error"]["message"] == ("too many open orders: account 'main' has 2 open orders on BTCUSDT "
                                                "(spot); the venue allows at most 2 per symbol (MAX_NUM_ORDERS)")
    assert Order.objects.count() == 2 and len(posts(venue)) == 2
