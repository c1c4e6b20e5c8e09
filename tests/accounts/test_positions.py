"""Position figures (mark, unrealized PnL, PnL%): one definition, shown alike by gRPC, REST and the admin."""
from __future__ import annotations

import re
import time
from decimal import Decimal

import grpc
import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Position
from accounts.selectors import position_figures
from infra import pubsub
from orders import services as order_services
from proto import oms_pb2, oms_pb2_grpc
from tests import factories


def position(**fields) -> Position:
    values = {"symbol": "BTCUSDT", "side": "LONG", "size": Decimal("0.5"), "entry_price": Decimal("20000"),
              "mark_price": Decimal("21000"), "unrealized_pnl": Decimal("500"), "leverage": 5, "margin": Decimal("2000")}
    return Position(**(values | fields))


def test_pnl_over_the_initial_margin_when_the_venue_reports_one():
    figures = position_figures(position())
    assert (figures.mark_price, figures.unrealized_pnl, figures.notional, figures.pnl_percentage) == (
        Decimal("21000"), Decimal("500"), Decimal("10500"), Decimal("25"))


def test_pnl_over_the_entry_notional_without_a_margin():
    assert position_figures(position(margin=Decimal(0))).pnl_percentage == Decimal("5")


def test_without_a_mark_price_the_latest_trade_marks_the_position():
    short = position(side="SHORT", mark_price=Decimal(0), unrealized_pnl=Decimal(0), margin=Decimal(0))
    figures = position_figures(short, last_price=Decimal("19000"))
    assert (figures.mark_price, figures.unrealized_pnl, figures.pnl_percentage) == (
        Decimal("19000"), Decimal("500"), Decimal("5"))


def test_unknown_when_neither_margin_nor_entry_is_known():
    assert position_figures(position(margin=Decimal(0), entry_price=Decimal(0))).pnl_percentage is None


@pytest.fixture
def last_trade(no_prices):
    pubsub.publish_price({"exchange": "binance", "market": "futures", "symbol": "ETHUSDT", "bid_price": "990",
                          "bid_quantity": "1", "ask_price": "990", "ask_quantity": "1", "last_price": "990",
                          "timestamp_ms": int(time.time() * 1000)})


def test_grpc_rest_and_the_admin_show_the_same_figures(grpc_server_factory, last_trade, client):
    """REST divided by the margin only (null without one) and ignored the price feed; gRPC fell back to the entry
    notional and the last price; the admin showed neither."""
    trader = factories.user_create(username="trader", is_staff=True, superuser=True)
    factories.account_create(name="acct-p", member=trader)
    order_services.positions_replace(account="acct-p", positions=[
        {"symbol": "BTCUSDT", "side": "LONG", "size": Decimal("0.5"), "entry_price": Decimal("20000"),
         "mark_price": Decimal("21000"), "unrealized_pnl": Decimal("500"), "leverage": 5, "margin": Decimal("0")},
        {"symbol": "ETHUSDT", "side": "SHORT", "size": Decimal("2"), "entry_price": Decimal("1000"),
         "mark_price": Decimal("0"), "unrealized_pnl": Decimal("0"), "leverage": 2, "margin": Decimal("1000")}])
    token = account_services.api_token_create(user=trader)
    rest = APIClient()
    rest.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    address = grpc_server_factory(require_auth=True)

    with grpc.insecure_channel(address) as channel:
        reply = oms_pb2_grpc.OrderServiceStub(channel).GetPositions(
            oms_pb2.GetPositionsRequest(account_id="acct-p"), metadata=[("authorization", f"Bearer {token}")], timeout=10)
    rows = rest.get("/api/v1/positions/", {"account": "acct-p"}).json()["results"]
    client.force_login(trader)
    page = client.get("/admin/accounts/position/").content.decode()

    expected = {"BTCUSDT": ("21000", "500", "5"), "ETHUSDT": ("990", "20", "2")}
    assert {p.symbol: (p.mark_price, p.unrealized_pnl, p.pnl_percentage) for p in reply.positions} == {
        s: tuple(float(v) for v in figures) for s, figures in expected.items()}
    assert {r["symbol"]: (r["mark_price"], r["unrealized_pnl"], r["pnl_percentage"]) for r in rows} == expected
    cells = {name: [Decimal(_exact(cell)) for cell in re.findall(rf'class="field-{name}">(.*?)</td>', page)]
             for name in ("mark", "pnl", "pnl_percentage")}
    shown = dict(zip(re.findall(r'class="field-symbol">([^<]*)<', page), zip(*cells.values(), strict=True), strict=True))
    assert shown == {s: tuple(Decimal(v) for v in figures) for s, figures in expected.items()}


def _exact(cell: str) -> str:
    """An admin cell's exact value: a number's tooltip (the cell shows it at the instrument's tick), else its text."""
    title = re.search(r'title="([^"]*)"', cell)
    return title.group(1) if title else re.sub(r"<[^>]+>", "", cell)
