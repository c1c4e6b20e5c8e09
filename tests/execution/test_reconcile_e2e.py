"""Reconciliation against the local venue: drift made behind the OMS's back (ccxt straight to the venue,
fills the OMS never heard of, a balance changed) is reported, repaired by --fix through the services,
and a second run agrees. Real PostgreSQL, Redis, Celery worker, ccxt over HTTP."""
from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Balance
from orders import services
from orders.models import Fill, Order, OrderEvent, Status
from orders.models_reconcile import Drift, ReconciliationRun
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal


def reconcile_market(market: str, *args) -> tuple[int, list[dict]]:
    """`manage.py reconcile --json` for account main; returns its exit code and report."""
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("reconcile", "--account", "main", "--market", market, "--settle", "0", "--json", *args, stdout=out)
    return exit_.value.code, json.loads(out.getvalue())


def reconcile(*args) -> tuple[int, list[dict]]:
    return reconcile_market("spot", *args)


def place(**fields) -> Order:
    base = {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": D("0.01"), "order_type": "LIMIT"}
    order = services.order_place(**{**base, **fields})
    return wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.NEW).first(), what=f"{order.id} NEW")


def test_reconcile_reports_fixes_and_then_agrees(polling_only, venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    code, runs = reconcile()
    assert code == 0 and runs[0]["outcome"] == "agree", runs

    # Drift 1: an OMS order cancelled on the venue behind the OMS's back.
    cancelled = place(price=D("90000"))
    venue_view.cancel_order(cancelled.exchange_order_id, "BTC/USDT")
    # Drift 2: an OMS order the venue filled while the OMS heard nothing (nobody polls: no beat here).
    missed = place(price=D("99000"))
    # Drift 3: an order placed on the venue directly, still open.
    stranger = venue_view.create_order("BTC/USDT", "limit", "buy", 0.02, 95000, {"clientOrderId": "manual-desk-1"})
    venue.control.set_price("BTCUSDT", 98500, freeze=True)  # trades through 99000: `missed` fills
    # Drift 4: a market order placed on the venue directly (fills the OMS never saw).
    manual_fill = venue_view.create_order("BTC/USDT", "market", "sell", 0.01)
    # Drift 5: money moved on the venue.
    venue.control.fund(venue.api_key, "spot", "USDT", 1234)

    code, runs = reconcile()
    drift = runs[0]["drift"]
    kinds = {(d["kind"], d["reference"]) for d in drift}
    assert code == 1 and runs[0]["outcome"] == "drift"
    assert ("order_closed", cancelled.id) in kinds
    assert ("order_closed", missed.id) in kinds
    assert ("order_unknown", "manual-desk-1") in kinds
    missing_trades = {d["venue"]["order"] for d in drift if d["kind"] == "fill_missing"}
    assert {missed.exchange_order_id, str(manual_fill["id"])} <= missing_trades
    assert {d["reference"] for d in drift if d["kind"] == "balance"} >= {"USDT", "BTC"}
    assert not any(d["fixed"] for d in drift)
    # Reporting changed nothing in the ledger.
    assert Order.objects.get(pk=cancelled.pk).status == Status.NEW
    assert Order.objects.get(pk=missed.pk).status == Status.NEW
    assert not Order.objects.filter(exchange_order_id=str(stranger["id"])).exists()
    assert not OrderEvent.objects.filter(source="reconcile").exists()

    code, runs = reconcile("--fix")
    assert code == 0 and runs[0]["outcome"] == "fixed", runs
    fix_run = runs[0]["run"]
    assert all(d["fixed"] for d in runs[0]["drift"]), [d for d in runs[0]["drift"] if not d["fixed"]]

    cancelled.refresh_from_db()
    assert cancelled.status == Status.CANCELLED
    assert cancelled.events.filter(source="reconcile", to_status=Status.CANCELLED).exists()
    missed.refresh_from_db()
    assert missed.status == Status.FILLED and missed.filled_quantity == D("0.01") and missed.average_price == D("99000")
    assert missed.fills.count() >= 1 and all(f.price == D("99000") for f in missed.fills.all())
    adopted = Order.objects.get(account=venue_account, exchange_order_id=str(stranger["id"]))
    assert (adopted.status, adopted.side, adopted.quantity, adopted.price) == (Status.NEW, "BUY", D("0.02"), D("95000"))
    assert adopted.client_order_id == "manual-desk-1"
    assert [e.kind for e in adopted.events.order_by("sequence")][:1] == ["ADOPTED"]
    assert set(adopted.events.values_list("source", flat=True)) == {"reconcile"}
    outsider = Order.objects.get(account=venue_account, exchange_order_id=str(manual_fill["id"]))
    assert outsider.status == Status.FILLED and outsider.side == "SELL"
    assert Fill.objects.filter(order=outsider).count() >= 1
    ledger = {b.asset: b.free + b.locked for b in Balance.objects.filter(account=venue_account, market="spot")}
    venue_rows = venue_view.fetch_balance()["info"]["balances"]
    assert ledger == {r["asset"]: D(r["free"]) + D(r["locked"]) for r in venue_rows if D(r["free"]) or D(r["locked"])}
    # History is kept: the first events of the repaired orders are still there.
    assert cancelled.events.filter(kind="PLACED").exists() and missed.events.filter(kind="PLACED").exists()

    code, runs = reconcile()
    assert code == 0 and runs[0]["outcome"] == "agree" and runs[0]["drift"] == [], runs
    assert ReconciliationRun.objects.filter(account=venue_account).count() == 4
    assert Drift.objects.filter(run_id=fix_run).exists() and not Drift.objects.filter(run_id=fix_run, fixed=False).exists()


def test_reconcile_errors_exit_2_and_are_recorded(venue, venue_account):
    venue.control.set_faults(error_count=50, error_kind="internal", endpoints=["GET /api/v3/openOrders"])
    code, runs = reconcile()
    assert code == 2 and runs[0]["outcome"] == "error" and runs[0]["error"]
    assert ReconciliationRun.objects.get(pk=runs[0]["run"]).outcome == ReconciliationRun.Outcome.ERROR


def test_unknown_account_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as err:
        call_command("reconcile", "--account", "nobody")
    assert err.value.returncode == 2 and "nobody" in str(err.value)


def test_futures_position_opened_behind_the_back_is_reported_and_repaired(venue, venue_account, venue_view):
    from accounts.models import Position

    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    code, runs = reconcile_market("futures")
    assert code == 0 and runs[0]["outcome"] == "agree", runs

    trade = venue_view.create_order("BTC/USDT:USDT", "market", "buy", 0.01)  # opens a long on the venue

    code, runs = reconcile_market("futures")
    kinds = {d["kind"] for d in runs[0]["drift"]}
    assert code == 1 and {"position", "fill_missing", "balance"} <= kinds, runs
    position = next(d for d in runs[0]["drift"] if d["kind"] == "position")
    assert (position["reference"], position["ledger"]["side"], position["venue"]["side"]) == ("BTCUSDT", "FLAT", "LONG")
    assert not Position.objects.filter(account=venue_account, side="LONG").exists()

    code, runs = reconcile_market("futures", "--fix")
    assert code == 0 and runs[0]["outcome"] == "fixed", runs
    long = Position.objects.get(account=venue_account, market="futures", symbol="BTCUSDT")
    assert (long.side, long.size) == ("LONG", D("0.01"))
    adopted = Order.objects.get(account=venue_account, market="futures", exchange_order_id=str(trade["id"]))
    assert adopted.status == Status.FILLED and adopted.fills.exists()

    code, runs = reconcile_market("futures")
    assert code == 0 and runs[0]["drift"] == [], runs


def test_trades_are_read_page_by_page(venue, venue_account, venue_view, monkeypatch):
    from execution import reconcile as reconcile_module

    monkeypatch.setattr(reconcile_module, "TRADES_PAGE", 2)
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    behind_the_back = [venue_view.create_order("BTC/USDT", "market", "buy", 0.001) for _ in range(5)]
    venue_trades = {str(t["id"]) for t in venue_view.fetch_my_trades("BTC/USDT")}
    assert len(venue_trades) >= 5

    code, runs = reconcile()
    missing = {d["reference"] for d in runs[0]["drift"] if d["kind"] == "fill_missing"}
    assert code == 1 and missing == venue_trades
    assert {d["venue"]["order"] for d in runs[0]["drift"] if d["kind"] == "fill_missing"} == \
        {str(o["id"]) for o in behind_the_back}


def test_a_stop_placed_on_the_venue_directly_is_adopted_with_its_type_and_trigger(polling_only, venue, venue_account,
                                                                                   venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    stop = venue_view.create_order("BTC/USDT", "STOP_LOSS_LIMIT", "sell", 0.01, 94000,
                                   {"stopPrice": 95000, "clientOrderId": "desk-stop-1"})

    code, runs = reconcile("--fix")
    assert code == 0 and ("order_unknown", "desk-stop-1") in {(d["kind"], d["reference"]) for d in runs[0]["drift"]}
    adopted = Order.objects.get(account=venue_account, exchange_order_id=str(stop["id"]))
    assert (adopted.order_type, adopted.stop_price, adopted.price, adopted.status) == (
        "STOP_LIMIT", D("95000"), D("94000"), Status.NEW)
    assert adopted.triggered_at is None

    venue.control.set_price("BTCUSDT", 94900, freeze=True)  # fires: the venue's answers now say it works
    code, runs = reconcile("--fix")
    adopted.refresh_from_db()
    assert adopted.status == Status.FILLED and adopted.triggered_at is not None
    assert [e.kind for e in adopted.events.order_by("sequence")].count("TRIGGERED") == 1
    code, runs = reconcile()
    assert code == 0 and runs[0]["drift"] == [], runs
