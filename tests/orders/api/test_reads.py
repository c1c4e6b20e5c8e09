"""Fills, balances, positions, accounts, instruments, prices and the dashboard summary."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from accounts import services as account_services
from accounts.models import AccountMember
from infra import pubsub
from orders import services as order_services
from tests import factories
from tests.orders.api.conftest import error_of, order_acked, order_filled


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_fills_of_the_callers_accounts_newest_first(client_a, acct_a, acct_b):
    first = order_filled(acct_a, trade_id="a-1")
    second = order_filled(acct_a, trade_id="a-2", price="20001")
    order_filled(acct_b, trade_id="b-1")

    rows = results(client_a.get("/api/v1/fills/"))

    assert [r["trade_id"] for r in rows] == ["a-2", "a-1"]
    assert rows[0] | {"executed_at": None, "id": None} == {
        "id": None, "order_id": second.id, "account": "acct-a", "market": "spot", "symbol": "BTCUSDT", "side": "BUY",
        "trade_id": "a-2", "price": "20001", "quantity": "0.01", "fee": "0.02", "fee_asset": "USDT", "is_maker": True,
        "executed_at": None}
    assert [r["trade_id"] for r in results(client_a.get("/api/v1/fills/", {"order": first.id}))] == ["a-1"]
    assert client_a.get("/api/v1/fills/", {"account": "acct-b"}).status_code == 404  # as a missing account


def test_symbol_filters_take_every_spelling_the_services_take(client_a, acct_a, prices):
    """Fills, positions, instruments and prices filter by the one normalizer (venues.symbols), as orders and gRPC
    do: `BTC/USDT` used to match nothing (upper-cased only, or compared case-insensitively)."""
    order_filled(acct_a, trade_id="a-1")
    factories.instrument_create(symbol="BTCUSDT", market="futures")
    order_services.positions_replace(account="acct-a", positions=[{
        "symbol": "BTCUSDT", "side": "LONG", "size": Decimal("0.5"), "entry_price": Decimal("20000"),
        "mark_price": Decimal("21000"), "unrealized_pnl": Decimal("500"), "leverage": 5, "margin": Decimal("2000")}])

    for spelling in ("BTCUSDT", "btcusdt", "BTC/USDT", "btc/usdt:usdt"):
        assert [r["trade_id"] for r in results(client_a.get("/api/v1/fills/", {"symbol": spelling}))] == ["a-1"]
        assert [r["symbol"] for r in results(client_a.get("/api/v1/positions/", {"symbol": spelling}))] == ["BTCUSDT"]
        assert [r["market"] for r in results(client_a.get("/api/v1/instruments/", {"symbol": spelling}))] == [
            "spot", "futures"]
        assert [r["symbol"] for r in client_a.get("/api/v1/prices/", {"symbols": f"{spelling},eth/usdt"}).json()] == [
            "BTCUSDT", "ETHUSDT"]
    assert results(client_a.get("/api/v1/fills/", {"symbol": "ETH/USDT"})) == []


def test_balances_per_account_and_market_with_totals(client_a, acct_a, acct_b):
    order_services.balances_replace(account="acct-a", market="spot", balances=[
        {"asset": "USDT", "free": Decimal("1000.5"), "locked": Decimal("200")},
        {"asset": "BTC", "free": Decimal("0.1"), "locked": Decimal("0")}])
    order_services.balances_replace(account="acct-a", market="futures", balances=[
        {"asset": "USDT", "free": Decimal("50"), "locked": Decimal("0")}])
    order_services.balances_replace(account="acct-b", market="spot", balances=[
        {"asset": "USDT", "free": Decimal("9"), "locked": Decimal("0")}])

    rows = results(client_a.get("/api/v1/balances/", {"market": "spot"}))

    assert sorted((r["account"], r["asset"], r["free"], r["locked"], r["total"]) for r in rows) == [
        ("acct-a", "BTC", "0.1", "0", "0.1"), ("acct-a", "USDT", "1000.5", "200", "1200.5")]
    assert len(results(client_a.get("/api/v1/balances/", {"account": "acct-a"}))) == 3
    assert client_a.get("/api/v1/balances/", {"account": "acct-b"}).status_code == 404  # as a missing account


def test_positions_with_mark_price_notional_and_pnl(client_a, acct_a, acct_b):
    order_services.positions_replace(account="acct-a", positions=[{
        "symbol": "BTCUSDT", "side": "LONG", "size": Decimal("0.5"), "entry_price": Decimal("20000"),
        "mark_price": Decimal("21000"), "unrealized_pnl": Decimal("500"), "leverage": 5, "margin": Decimal("2000")}])
    order_services.positions_replace(account="acct-b", positions=[{
        "symbol": "ETHUSDT", "side": "SHORT", "size": Decimal("1"), "entry_price": Decimal("1000"),
        "mark_price": Decimal("1000"), "unrealized_pnl": Decimal("0"), "leverage": 1, "margin": Decimal("1000")}])

    rows = results(client_a.get("/api/v1/positions/"))

    assert len(rows) == 1
    assert {k: rows[0][k] for k in ("account", "symbol", "side", "size", "mark_price", "notional", "unrealized_pnl",
                                    "pnl_percentage", "leverage")} == {
        "account": "acct-a", "symbol": "BTCUSDT", "side": "LONG", "size": "0.5", "mark_price": "21000",
        "notional": "10500", "unrealized_pnl": "500", "pnl_percentage": "25", "leverage": 5}


def test_accounts_the_caller_may_see_with_role(client_a, alice, acct_a, acct_b):
    account_services.member_add(account="acct-b", user=alice, role=AccountMember.Role.VIEWER)
    account_services.credential_set(account="acct-a", api_key="key-1234", secret="s3cret-value")
    factories.account_create(name="acct-c")

    rows = results(client_a.get("/api/v1/accounts/"))

    assert [(r["name"], r["role"], r["credentials_set"]) for r in rows] == [
        ("acct-a", "trader", True), ("acct-b", "viewer", False)]
    assert "s3cret" not in str(rows) and "1234" not in str(rows)
    assert client_a.get("/api/v1/accounts/acct-a/").json()["exchange"] == "binance"
    assert client_a.get("/api/v1/accounts/acct-c/").status_code == 404


def test_instruments_filter_and_search(client_a, instrument):
    factories.instrument_create(symbol="ETHUSDT")
    factories.instrument_create(symbol="BTCUSDT", market="futures")

    assert [r["symbol"] for r in results(client_a.get("/api/v1/instruments/", {"market": "spot"}))] == ["BTCUSDT", "ETHUSDT"]
    rows = results(client_a.get("/api/v1/instruments/", {"search": "ETH/"}))
    assert [(r["symbol"], r["tick_size"], r["min_notional"]) for r in rows] == [("ETHUSDT", "0.01", "5")]


@pytest.fixture
def prices(no_prices):
    now = int(time.time() * 1000)
    for symbol, last in (("BTCUSDT", "20000.5"), ("ETHUSDT", "1000")):
        pubsub.publish_price({"exchange": "binance", "market": "spot", "symbol": symbol, "bid_price": last,
                              "bid_quantity": "1", "ask_price": last, "ask_quantity": "2", "last_price": last,
                              "timestamp_ms": now})


def test_latest_prices(client_a, prices):
    rows = client_a.get("/api/v1/prices/").json()
    assert [(r["symbol"], r["last_price"]) for r in rows] == [("BTCUSDT", "20000.5"), ("ETHUSDT", "1000")]
    assert [r["symbol"] for r in client_a.get("/api/v1/prices/", {"symbols": "ethusdt"}).json()] == ["ETHUSDT"]
    assert client_a.get("/api/v1/prices/", {"market": "futures"}).json() == []


def test_summary_counts_only_the_callers_accounts(client_a, acct_a, acct_b):
    order_acked(acct_a)
    factories.order_place(acct_a, price=Decimal("20001"))
    order_filled(acct_a, trade_id="s-1", price="20000")  # 0.01 × 20000 = 200 notional, fee 0.02 USDT
    order_acked(acct_b)
    order_filled(acct_b, trade_id="s-2")
    order_services.balances_replace(account="acct-a", market="spot", balances=[
        {"asset": "USDT", "free": Decimal("100"), "locked": Decimal("5")}])
    order_services.positions_replace(account="acct-a", positions=[{
        "symbol": "BTCUSDT", "side": "SHORT", "size": Decimal("0.1"), "entry_price": Decimal("20000"),
        "mark_price": Decimal("21000"), "unrealized_pnl": Decimal("-100"), "leverage": 2, "margin": Decimal("1000")}])

    body = client_a.get("/api/v1/summary/").json()

    assert body == {
        "open_orders": 2,
        "filled_notional_today": [{"symbol": "BTCUSDT", "notional": "200"}],
        "fees_today": [{"asset": "USDT", "amount": "0.02"}],
        "balance_exposure": [{"asset": "USDT", "amount": "105"}],
        "position_exposure": [{"symbol": "BTCUSDT", "notional": "-2100"}],
        "unrealized_pnl": [{"account": "acct-a", "unrealized_pnl": "-100"}],
    }


def test_per_user_throttling_answers_429_in_the_error_shape(client_a, acct_a, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min"})
    codes = [client_a.get("/api/v1/accounts/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    error = error_of(client_a.get("/api/v1/accounts/"))
    assert error["code"] == "rate_limited"


def test_method_not_allowed_in_the_error_shape(client_a, acct_a):
    response = client_a.delete("/api/v1/accounts/acct-a/")

    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_malformed_json_is_400_in_the_error_shape(client_a, acct_a):
    response = client_a.post("/api/v1/orders/", "{not json", content_type="application/json")

    assert response.status_code == 400 and error_of(response)["code"] == "invalid"


def test_schema_and_swagger_ui_are_served_without_internet(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/").content.decode()

    assert schema.status_code == 200 and "/api/v1/orders/" in schema.json()["paths"]
    assert "swagger-ui" in docs and "cdn" not in docs and "/api/schema/" in docs


def test_schema_generates_without_warnings_and_validates(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/v1/orders/{id}/cancel/" in (tmp_path / "schema.yaml").read_text()
