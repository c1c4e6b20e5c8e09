"""The ledger's computed books against the local venue, end to end (real PostgreSQL, Redis, Celery worker, ccxt over
HTTP): USD-M fills placed through the OMS fold to the venue's own position (size, entry price, realized PnL, fees);
reconciliation reports a difference between the computed books and the venue with both numbers, and --fix books
an adjustment (history untouched) after which they agree."""
from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from orders import services
from orders.models import FundingPayment, Order, Status
from orders.models_portfolio import PortfolioAdjustment, PortfolioHolding, PortfolioPosition
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal
E8 = D("1e-8")


def reconcile(market: str, *args) -> tuple[int, list[dict]]:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("reconcile", "--account", "main", "--market", market, "--settle", "0", "--json", *args, stdout=out)
    return exit_.value.code, json.loads(out.getvalue())


def drift_of(runs: list[dict], kind: str) -> list[dict]:
    return [d for d in runs[0]["drift"] if d["kind"] == kind]


def market_order(side: str, quantity: str, market: str = "futures") -> Order:
    order = services.order_place(account="main", symbol="BTCUSDT", side=side, quantity=D(quantity),
                                 order_type="MARKET", market=market)
    return wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).first()
                      if Order.objects.get(pk=order.id).fills.exists() else None, what=f"{order.id} FILLED")


def venue_position(venue_view) -> tuple[Decimal, Decimal]:
    """(signed size, entry price) of BTCUSDT as positionRisk says."""
    rows = venue_view.fapiPrivateV3GetPositionRisk({"symbol": "BTCUSDT"})
    return (D(rows[0]["positionAmt"]), D(rows[0]["entryPrice"])) if rows else (D(0), D(0))


def ledger_position(account) -> tuple[Decimal, Decimal]:
    pos = PortfolioPosition.objects.filter(account=account, symbol="BTCUSDT").first()
    return (pos.amount, pos.entry_price.quantize(E8)) if pos else (D(0), D(0))


def test_fills_through_the_oms_fold_to_the_venues_position(venue, venue_account, venue_view):
    steps = [("BUY", "0.030", 100000), ("BUY", "0.020", 101000), ("SELL", "0.040", 99000),  # add, add, partial close
             ("SELL", "0.030", 102000), ("BUY", "0.010", 100500), ("BUY", "0.010", 98000)]  # through zero, reduce, close
    for side, quantity, price in steps:
        venue.control.set_price("BTCUSDT", price, market="futures", freeze=True)
        market_order(side, quantity)
        assert ledger_position(venue_account) == venue_position(venue_view), (side, quantity, price)
    assert ledger_position(venue_account) == (D(0), D(0))
    # realized PnL and fees equal the venue's income history (REALIZED_PNL, COMMISSION), to the last decimal
    income = venue_view.fapiPrivateGetIncome({"symbol": "BTCUSDT", "limit": 1000})
    realized = sum((D(r["income"]) for r in income if r["incomeType"] == "REALIZED_PNL"), D(0))
    fees = -sum((D(r["income"]) for r in income if r["incomeType"] == "COMMISSION"), D(0))
    pos = PortfolioPosition.objects.get(account=venue_account, symbol="BTCUSDT")
    assert (pos.realized_pnl, pos.fees) == (realized, fees) and realized != 0
    code, runs = reconcile("futures")
    assert drift_of(runs, "ledger_position") == [], runs


def test_reconcile_books_an_adjustment_for_a_position_the_fills_cannot_explain(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    market_order("BUY", "0.010")
    # a trade on the venue behind the OMS's back, older than the look-back the reconciliation reads trades from
    behind = venue_view.create_order("BTC/USDT:USDT", "market", "buy", 0.02)
    since_ms = behind["timestamp"] + 1  # the first millisecond after that trade
    wait_until(lambda: time.time() * 1000 >= since_ms, what="the clock past the trade")
    since = datetime.fromtimestamp(since_ms / 1000, tz=UTC).isoformat()
    ledger_before, venue_now = ledger_position(venue_account), venue_position(venue_view)
    assert ledger_before[0] == D("0.01") and venue_now[0] == D("0.03")

    code, runs = reconcile("futures", "--since", since)
    (found,) = drift_of(runs, "ledger_position")
    assert code == 1 and not found["fixed"]
    assert (found["ledger"]["size"], found["venue"]["size"]) == ("0.01", "0.03")
    assert D(found["venue"]["entry_price"]) == venue_now[1]
    assert not PortfolioAdjustment.objects.exists(), "reporting books nothing"

    code, runs = reconcile("futures", "--since", since, "--fix")
    (found,) = drift_of(runs, "ledger_position")
    assert found["fixed"] and "adjustment" in found["note"], found
    size = PortfolioAdjustment.objects.get(account=venue_account, field="size")
    assert (size.symbol, size.ledger_value, size.venue_value, size.delta) == ("BTCUSDT", D("0.01"), D("0.03"), D("0.02"))
    assert "venue" in size.reason
    assert ledger_position(venue_account) == venue_position(venue_view)
    assert Order.objects.filter(account=venue_account, market="futures").count() == 1, "no trade invented"

    code, runs = reconcile("futures", "--since", since)
    assert drift_of(runs, "ledger_position") == [], runs


def test_spot_books_opened_then_holdings_equal_balances_until_money_moves(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    code, runs = reconcile("spot", "--open-books")
    assert drift_of(runs, "ledger_holding") == []
    opening = {a.asset: a.delta for a in PortfolioAdjustment.objects.filter(account=venue_account, market="spot")}
    assert opening["USDT"] == D(100000) and opening["BTC"] == D(2)

    market_order("BUY", "0.01", market="spot")  # fee in BTC, taken from what was bought
    code, runs = reconcile("spot")
    assert drift_of(runs, "ledger_holding") == [], runs
    balances = {r["asset"]: D(r["free"]) + D(r["locked"]) for r in venue_view.fetch_balance()["info"]["balances"]}
    held = {h.asset: h.quantity for h in PortfolioHolding.objects.filter(account=venue_account)}
    assert held["BTC"] == balances["BTC"] and held["USDT"] == balances["USDT"]

    venue.control.fund(venue.api_key, "spot", "USDT", 1234)
    code, runs = reconcile("spot")
    (found,) = drift_of(runs, "ledger_holding")
    assert (found["reference"], D(found["venue"]["quantity"]) - D(found["ledger"]["quantity"])) == ("USDT", D(1234))
    code, runs = reconcile("spot", "--fix")
    assert all(d["fixed"] for d in drift_of(runs, "ledger_holding"))
    assert PortfolioHolding.objects.get(account=venue_account, asset="USDT").quantity == balances["USDT"] + 1234


def test_the_futures_wallet_is_its_opening_plus_realized_less_fees_plus_funding(venue, venue_account, venue_view):
    from execution import funding

    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    code, runs = reconcile("futures", "--open-books")
    (opening,) = PortfolioAdjustment.objects.filter(account=venue_account, market="futures", field="wallet")
    assert (opening.asset, opening.ledger_value, opening.venue_value) == ("USDT", D(0), D(100000))

    market_order("BUY", "0.020")
    venue.control.set_price("BTCUSDT", 101000, market="futures", freeze=True)
    market_order("SELL", "0.010")  # realizes about +10
    assert venue.control.settle_funding(["BTCUSDT"]), "a funding payment on the open 0.010 long"
    funding.sync(venue_account.pk)  # (the stream's funding event may have asked for the same sync already)
    assert FundingPayment.objects.filter(account=venue_account).count() == 1
    code, runs = reconcile("futures")
    assert drift_of(runs, "ledger_wallet") == [] and drift_of(runs, "ledger_position") == [], runs
    pos = PortfolioPosition.objects.get(account=venue_account, symbol="BTCUSDT")
    assert pos.realized_pnl > 0 and pos.fees > 0 and pos.funding != 0

    venue.control.fund(venue.api_key, "futures", "USDT", 500)  # a transfer the fills know nothing of
    code, runs = reconcile("futures")
    (found,) = drift_of(runs, "ledger_wallet")
    assert D(found["venue"]["wallet"]) - D(found["ledger"]["wallet"]) == D(500) and not found["fixed"]
    code, runs = reconcile("futures", "--fix")
    assert all(d["fixed"] for d in drift_of(runs, "ledger_wallet"))
    code, runs = reconcile("futures")
    assert drift_of(runs, "ledger_wallet") == [], runs
