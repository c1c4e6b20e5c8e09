"""Forged or oversized input on the REST edge: a 4xx with the error shape naming what was wrong, never a 500
and never a traceback in the log (issue 19, item 7)."""
from __future__ import annotations

import base64
import logging
from datetime import timedelta, timezone
from urllib.parse import urlencode

import pytest

from orders.models import Order
from tests import factories
from tests.orders.api.conftest import error_of


@pytest.fixture
def no_traceback(caplog):
    caplog.set_level(logging.INFO)
    yield
    logged = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not logged, [r.getMessage() for r in logged]


def cursor(**fields) -> str:
    return base64.b64encode(urlencode(fields).encode()).decode()


@pytest.mark.parametrize("forged", [
    cursor(o=0, r=0, p="not a date"),
    cursor(o=0, r=0, p="2026-11-26T00:00:00\x00"),
    cursor(o=0, r=0, p="9999-12-31T23:59:59.999999-14:00"),
    cursor(o=0, r=0, p="x" * 5000),
    cursor(o=10**30, r=0, p=""),
    "é",
])
def test_a_forged_cursor_is_400_naming_the_cursor(client_a, acct_a, no_traceback, forged):
    factories.order_place(acct_a)

    response = client_a.get("/api/v1/orders/", {"cursor": forged})

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["field"] == "cursor" and "cursor" in error["message"]


def test_a_cursor_offset_postgresql_refuses_is_read_as_the_instant_it_names(client_a, acct_a, no_traceback):
    order = factories.order_place(acct_a)
    after = order.created_at.astimezone(timezone(-timedelta(hours=23, minutes=59))) + timedelta(seconds=1)

    response = client_a.get("/api/v1/orders/", {"cursor": cursor(o=0, r=0, p=after.isoformat())})

    assert response.status_code == 200, response.content
    assert [o["id"] for o in response.json()["results"]] == [order.id]


def test_a_forged_cursor_on_fills_is_400(client_a, acct_a, no_traceback):
    response = client_a.get("/api/v1/fills/", {"cursor": cursor(o=0, r=0, p="2026-11-26T00:00:00+99:00")})

    assert response.status_code == 400 and error_of(response)["field"] == "cursor"


def test_a_nul_in_the_path_or_query_is_400(client_a, acct_a, no_traceback):
    for url in ("/api/v1/orders/abc%00def/", "/api/v1/accounts/acct%00a/", "/api/v1/orders/?symbol=BTC%00USDT",
                "/api/v1/orders/?search=%00"):
        response = client_a.get(url)
        assert response.status_code == 400, (url, response.content)
        assert "NUL" in error_of(response)["message"], url


def test_a_body_over_the_limit_is_413_and_places_nothing(client_a, acct_a, no_traceback, settings):
    body = b'{"account": "acct-a", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": "20000", "x": "'
    body += b"a" * (10 * 1024 * 1024) + b'"}'

    response = client_a.generic("POST", "/api/v1/orders/", body, content_type="application/json")

    assert response.status_code == 413, response.content[:200]
    error = error_of(response)
    assert error["code"] == "too_large" and str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error["message"]
    assert not Order.objects.exists()


def test_deeply_nested_json_is_400_and_places_nothing(client_a, acct_a, no_traceback):
    body = '{"account": "acct-a", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": "20000", "x": '
    body += "[" * 100_000 + "]" * 100_000 + "}"

    response = client_a.generic("POST", "/api/v1/orders/", body, content_type="application/json")

    assert response.status_code == 400, response.content[:200]
    assert "nest" in error_of(response)["message"]
    assert not Order.objects.exists()
