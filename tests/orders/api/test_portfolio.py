"""REST /api/v1/positions/ (the ledger's positions beside the venue's, spot holdings) and /api/v1/pnl/ on a worked
example: fills and funding recorded through the real services, the figures worked out by hand below."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orders import services as order_services
from tests import factories
from tests.orders.api.conftest import error_of, order_acked

D = Decimal


def fill(account, *, side: str, quantity: str, price: str, fee: str, trade_id: str, market: str = "futures",
         at: datetime | None = None):
    order = order_acked(account, side=side, quantity=D(quantity), price=D(price), market=market)
    order_services.fill_record(order_id=order.id, trade_id=trade_id, price=D(price), quantity=D(quantity), fee=D(fee),
                               fee_asset="USDT", is_maker=False, executed_at=at or datetime.now(UTC))


@pytest.fixture
def book(acct_a, acct_b, no_prices):
    """acct-a on USD-M: BUY 0.01 BTCUSDT at 20000 (fee 0.08), SELL 0.004 at 21000 (fee 0.0336), funding +0.5 received:
    long 0.006 at 20000, realized (21000 - 20000) × 0.004 = 4, fees 0.1136, net 4 - 0.1136 + 0.5 = 4.3864, volume
    200 + 84 = 284. On spot it bought 0.5 ETH at 1000 (fee 0.02 USDT). The venue reports a long of 0.006 at 20000
    and an ETHUSDT short the ledger never traded. acct-b (bob's) traded too: never in alice's answers."""
    factories.instrument_create(symbol="BTCUSDT", market="futures")
    factories.instrument_create(symbol="ETHUSDT", tick_size="0.01", step_size="0.0001")
    fill(acct_a, side="BUY", quantity="0.01", price="20000", fee="0.08", trade_id="f-1")
    fill(acct_a, side="SELL", quantity="0.004", price="21000", fee="0.0336", trade_id="f-2")
    order = order_acked(acct_a, symbol="ETHUSDT", quantity=D("0.5"), price=D("1000"))
    order_services.fill_record(order_id=order.id, trade_id="s-1", price=D("1000"), quantity=D("0.5"), fee=D("0.02"),
                               fee_asset="USDT", is_maker=False, executed_at=datetime.now(UTC))
    fill(acct_b, side="BUY", quantity="0.01", price="20000", fee="0.08", trade_id="b-1")
    order_services.funding_record(account="acct-a", payments=[{
        "venue_id": "tran-1", "symbol": "BTCUSDT", "asset": "USDT", "amount": D("0.5"), "paid_at": datetime.now(UTC)}])
    order_services.positions_replace(account="acct-a", positions=[
        {"symbol": "BTCUSDT", "side": "LONG", "size": D("0.006"), "entry_price": D("20000"), "mark_price": D("20500"),
         "unrealized_pnl": D("3"), "leverage": 5, "margin": D("24")},
        {"symbol": "ETHUSDT", "side": "SHORT", "size": D("1"), "entry_price": D("1000"), "mark_price": D("1000"),
         "unrealized_pnl": D(0), "leverage": 2, "margin": D("500")}])


def test_positions_show_the_ledger_beside_the_venue_and_the_holdings(client_a, book):
    body = client_a.get("/api/v1/positions/").json()

    assert (body["next"], body["previous"]) == (None, None)
    btc, eth = body["results"]
    assert {k: btc[k] for k in ("account", "market", "symbol", "source", "side", "size", "entry_price", "realized_pnl",
                                "fees", "other_fees", "funding", "venue_side", "venue_size", "venue_entry_price",
                                "leverage", "margin")} == {
        "account": "acct-a", "market": "futures", "symbol": "BTCUSDT", "source": "ledger", "side": "LONG",
        "size": "0.006", "entry_price": "20000", "realized_pnl": "4", "fees": "0.1136", "other_fees": {},
        "funding": "0.5", "venue_side": "LONG", "venue_size": "0.006", "venue_entry_price": "20000", "leverage": 5,
        "margin": "24"}
    # ETHUSDT was traded outside the OMS: the venue's figures, as before the ledger computed positions
    assert {k: eth[k] for k in ("symbol", "source", "side", "size", "mark_price", "unrealized_pnl", "pnl_percentage",
                                "realized_pnl", "venue_side")} == {
        "symbol": "ETHUSDT", "source": "venue", "side": "SHORT", "size": "1", "mark_price": "1000",
        "unrealized_pnl": "0", "pnl_percentage": "0", "realized_pnl": "0", "venue_side": "SHORT"}
    # the quote asset's own holding is what trading moved: 500 spent and the 0.02 fee (deposits are not fills)
    assert [{k: h[k] for k in ("account", "asset", "quantity", "average_cost", "quote_asset")}
            for h in body["holdings"]] == [
        {"account": "acct-a", "asset": "ETH", "quantity": "0.5", "average_cost": "1000", "quote_asset": "USDT"},
        {"account": "acct-a", "asset": "USDT", "quantity": "-500.02", "average_cost": "1", "quote_asset": "USDT"}]

    only_eth = client_a.get("/api/v1/positions/", {"symbol": "eth/usdt", "account": "acct-a"}).json()
    only_btc = client_a.get("/api/v1/positions/", {"symbol": "BTCUSDT"}).json()
    assert [r["symbol"] for r in only_eth["results"]] == ["ETHUSDT"] and [h["asset"] for h in only_eth["holdings"]] == ["ETH"]
    assert [r["symbol"] for r in only_btc["results"]] == ["BTCUSDT"] and only_btc["holdings"] == []


def test_pnl_total_per_day_and_per_symbol(client_a, book):
    total = client_a.get("/api/v1/pnl/").json()  # today so far, every account alice may see
    by_symbol = client_a.get("/api/v1/pnl/", {"since": "7d", "group_by": "symbol", "account": "acct-a"}).json()
    by_day = client_a.get("/api/v1/pnl/", {"since": "7d", "group_by": "day"}).json()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    empty = client_a.get("/api/v1/pnl/", {"since": tomorrow, "until": "2099-01-01T00:00:00+01:00"}).json()

    futures = {"key": "BTCUSDT", "realized_pnl": "4", "fees": "0.1136", "funding": "0.5", "net_pnl": "4.3864",
               "volume": "284", "trade_count": 2}
    spot = {"key": "ETHUSDT", "realized_pnl": "0", "fees": "0.02", "funding": "0", "net_pnl": "-0.02", "volume": "500",
            "trade_count": 1}  # a buy realizes nothing
    whole = {"realized_pnl": "4", "fees": "0.1336", "funding": "0.5", "net_pnl": "4.3664", "volume": "784",
             "trade_count": 3, "other_fees": {}}
    assert total["accounts"] == ["acct-a"] and total["group_by"] == "" and total["rows"] == []
    assert total["since"] == datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
    assert {k: total["total"][k] for k in whole} == whole
    assert total["total"]["key"] == ""
    assert [{k: row[k] for k in futures} for row in by_symbol["rows"]] == [futures, spot]
    assert {k: by_symbol["total"][k] for k in whole} == whole
    assert [r["key"] for r in by_day["rows"]] == [datetime.now(UTC).strftime("%Y-%m-%d")]
    assert {k: by_day["rows"][0][k] for k in whole} == whole and by_day["rows"][0]["unrealized_pnl"] == "0"
    assert {k: empty["total"][k] for k in ("realized_pnl", "fees", "volume", "trade_count")} == {
        "realized_pnl": "0", "fees": "0", "volume": "0", "trade_count": 0}
    assert empty["until"] == "2098-12-31T23:00:00Z"  # an offset is read and answered in UTC


@pytest.mark.parametrize(("query", "status", "field", "rule"), [
    ({"account": "acct-b"}, 404, "account", "not found"),
    ({"group_by": "month"}, 400, "group_by", "must be one of"),
    ({"since": "last tuesday"}, 400, "since", "ISO 8601"),
    ({"since": "2026-13-01"}, 400, "since", "ISO 8601"),
    ({"until": "2026-12-01T00:00:00+15:00"}, 400, "until", "ISO 8601"),
    ({"since": "1d", "until": "2d"}, 400, "since", "before until"),
])
def test_pnl_refusals_name_the_field_and_the_rule(client_a, book, query, status, field, rule):
    response = client_a.get("/api/v1/pnl/", query)

    assert response.status_code == status, response.content
    error = error_of(response)
    assert error["field"] == field and rule in error["message"], error


def test_positions_of_an_account_the_caller_may_not_see_are_404(client_a, book):
    for name in ("acct-b", "nobody"):
        response = client_a.get("/api/v1/positions/", {"account": name})
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": f"account '{name}' not found", "field": "account"}
