"""GET /api/v1/candles: the venue's candles through the gateway, scoped to the caller's accounts, cached a few
seconds, with clear refusals; and in the OpenAPI schema."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from accounts import services as account_services
from tests import factories
from tests.orders.api.conftest import token_client


@pytest.fixture
def desk(account_on_venue):
    user = factories.user_create(username="chart")
    account_services.member_add(account="main", user=user)
    return token_client(user)


def test_candles_come_from_the_venue(desk, venue, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    own = venue_view.create_order("BTC/USDT", "market", "buy", 0.01)
    last = venue_view.fetch_my_trades("BTC/USDT", params={"orderId": own["id"]})[-1]

    answer = desk.get("/api/v1/candles/", {"exchange": "binance", "market": "spot", "symbol": "BTC/USDT",
                                           "interval": "1m", "limit": 100})

    assert answer.status_code == 200
    rows = answer.json()
    raw = venue_view.publicGetKlines({"symbol": "BTCUSDT", "interval": "1m", "limit": "100"})
    assert len(rows) == 100 and [r["open_time"] for r in rows] == [k[0] for k in raw]
    assert all(r["close_time"] == k[6] for r, k in zip(rows, raw, strict=True))
    assert [(D(r["open"]), D(r["high"]), D(r["low"]), D(r["close"]), D(r["volume"])) for r in rows[:-1]] == \
        [(D(k[1]), D(k[2]), D(k[3]), D(k[4]), D(k[5])) for k in raw[:-1]]
    assert D(rows[-1]["close"]) == D(last["info"]["price"])  # the open candle ends at our own trade (the book is held)


def test_since_pages_and_futures_and_months(desk, venue_view):
    since = venue_view.publicGetKlines({"symbol": "ETHUSDT", "interval": "1h", "limit": "50"})[0][0]

    rows = desk.get("/api/v1/candles/", {"symbol": "ETHUSDT", "interval": "1h", "since": since, "limit": 10}).json()
    perp = desk.get("/api/v1/candles/", {"market": "futures", "symbol": "ETHUSDT", "interval": "1d", "limit": 3}).json()
    months = desk.get("/api/v1/candles/", {"symbol": "ETHUSDT", "interval": "1M", "limit": 2}).json()

    assert [r["open_time"] for r in rows] == [since + k * 3_600_000 for k in range(10)]
    raw = venue_view.fapiPublicGetKlines({"symbol": "ETHUSDT", "interval": "1d", "limit": "3"})
    assert [(r["open_time"], D(r["open"])) for r in perp] == [(k[0], D(k[1])) for k in raw]
    assert months[0]["close_time"] + 1 == months[1]["open_time"]


def test_candles_are_cached_briefly(desk, venue, settings):
    settings.OMS_CANDLES_CACHE_SECONDS = 60
    query = {"symbol": "SOLUSDT", "interval": "1d", "limit": 5}
    first = desk.get("/api/v1/candles/", query).json()
    asked = len([r for r in venue.control.audit() if r["path"] == "/api/v3/klines"])

    again = desk.get("/api/v1/candles/", query).json()

    assert again == first
    assert len([r for r in venue.control.audit() if r["path"] == "/api/v3/klines"]) == asked


@pytest.mark.parametrize("query, field", [
    ({"symbol": "BTCUSDT", "interval": "7m"}, "interval"),
    ({"symbol": "BTCUSDT", "limit": 1001}, "limit"),
    ({"symbol": "BTCUSDT", "since": -1}, "since"),
    ({"symbol": "BTCUSDT", "since": "yesterday"}, "since"),
    ({"symbol": "BTCUSDT", "market": "options"}, "market"),
    ({"interval": "1m"}, "symbol"),
])
def test_bad_queries_are_refused_naming_the_field(desk, query, field):
    answer = desk.get("/api/v1/candles/", query)

    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field


def test_unknown_symbol_exchange_and_strangers(desk, account_on_venue):
    assert desk.get("/api/v1/candles/", {"symbol": "DOGEUSDT"}).json()["error"]["field"] == "symbol"
    assert desk.get("/api/v1/candles/", {"symbol": "DOGEUSDT"}).status_code == 404
    assert desk.get("/api/v1/candles/", {"symbol": "BTCUSDT", "exchange": "okx"}).json()["error"]["field"] == "exchange"
    stranger = token_client(factories.user_create(username="stranger"))
    assert stranger.get("/api/v1/candles/", {"symbol": "BTCUSDT"}).status_code == 404  # no account of theirs


def test_anonymous_callers_are_refused(account_on_venue):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/candles/", {"symbol": "BTCUSDT"}).status_code == 401


def test_candles_are_in_the_openapi_schema(desk):
    schema = desk.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/candles/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"exchange", "market", "symbol", "interval", "since", "limit"}


def test_a_venue_outage_is_503_and_nothing_is_cached(desk, venue, venue_view):
    venue.control.set_faults(error_count=1, error_kind="unavailable", endpoints=["GET /api/v3/klines"])

    down = desk.get("/api/v1/candles/", {"symbol": "XRPUSDT", "interval": "1h", "limit": 3})
    up = desk.get("/api/v1/candles/", {"symbol": "XRPUSDT", "interval": "1h", "limit": 3})

    assert down.status_code == 503 and "XRP/USDT" in down.json()["error"]["message"]
    assert up.status_code == 200
    assert [r["open_time"] for r in up.json()] == \
        [k[0] for k in venue_view.publicGetKlines({"symbol": "XRPUSDT", "interval": "1h", "limit": "3"})]
