"""USD-M funding payments into the ledger against the local venue (real PostgreSQL, Redis, Celery worker, ccxt over
HTTP and websockets): every payment the venue books is recorded once, whether the periodic sync, the user-data
stream's FUNDING_FEE event (duplicated, or replayed after a reconnect) or reconciliation finds it."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from exchanges import stream_state
from execution import funding
from infra.errors import InvalidInput
from orders import services
from orders.models import FundingPayment, Order, Status
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal


def long_position(account, venue, quantity: str = "0.01") -> Order:
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    order = services.order_place(account=account.name, symbol="BTCUSDT", side="BUY", order_type="MARKET",
                                 quantity=D(quantity), market="futures")
    return wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.FILLED).first(), timeout=20,
                      what="the futures market order FILLED")


def venue_payments(venue_view) -> dict[str, tuple]:
    rows = venue_view.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE"})
    return {str(r["tranId"]): (r["symbol"], r["asset"], D(r["income"]), datetime.fromtimestamp(r["time"] / 1000, UTC))
            for r in rows}


def ledger_payments(account) -> dict[str, tuple]:
    return {p.venue_id: (p.symbol, p.asset, p.amount, p.paid_at) for p in FundingPayment.objects.filter(account=account)}


def test_each_payment_is_recorded_exactly_once_however_often_it_is_synced(polling_only, venue, venue_account,
                                                                          venue_view):
    long_position(venue_account, venue)
    rate = D(venue_view.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})["lastFundingRate"])
    venue.control.settle_funding()
    venue.control.settle_funding()

    assert funding.sync(venue_account.pk) == 2
    assert funding.sync(venue_account.pk) == 0  # again: nothing new
    from execution.tasks import account_funding_sync

    account_funding_sync.delay(venue_account.pk).get(timeout=30)  # and through the worker

    expected = venue_payments(venue_view)
    assert len(expected) == 2 and ledger_payments(venue_account) == expected
    # position × mark × rate, paid by a long when the rate is positive
    assert {amount for _, _, amount, _ in expected.values()} == {(-D("0.01") * 100000 * rate).quantize(D("1e-8"))}
    assert set(FundingPayment.objects.values_list("source", flat=True)) == {"sync"}


def test_recording_refuses_a_bad_row_and_writes_nothing(db):
    from tests import factories

    venue_account = factories.account_create(name="desk")
    good = {"venue_id": "1", "symbol": "BTCUSDT", "asset": "USDT", "amount": D("-0.5"), "paid_at": datetime.now(UTC)}
    with pytest.raises(InvalidInput) as refused:
        services.funding_record(account=venue_account.name, payments=[good, {**good, "venue_id": "2", "amount": "NaN"}])
    assert "amount" in str(refused.value)
    assert not FundingPayment.objects.exists()
    assert services.funding_record(account=venue_account.name, payments=[good, good]) == 1


@pytest.fixture
def futures_stream(venue_account, venue, settings):
    settings.OMS_SYNC_SWEEP_LIVE_SECONDS = 3600
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    wait_until(lambda: stream_state.is_live(venue_account.pk, "futures"), timeout=30, what="the USD-M stream live")
    return venue_account


def test_the_streams_funding_event_records_the_payment_once_duplicated_or_replayed(futures_stream, venue, venue_view):
    long_position(futures_stream, venue)
    venue.control.set_faults(user_event_duplicate_rate=1.0, user_stream_markets=["futures"])

    venue.control.settle_funding()
    wait_until(lambda: len(ledger_payments(futures_stream)) == 1, timeout=20, what="the payment recorded")
    venue.control.settle_funding()
    wait_until(lambda: len(ledger_payments(futures_stream)) == 2, timeout=20, what="the second payment recorded")

    assert venue.control.fault_counts().get("user_event_duplicate", 0) >= 2
    assert set(FundingPayment.objects.values_list("source", flat=True)) == {"stream"}
    venue.control.clear_faults()
    # a reconnect's catch-up syncs funding again: nothing new
    venue.control.set_faults(user_stream_close_count=1, user_stream_markets=["futures"])
    wait_until(lambda: venue.control.fault_counts().get("user_stream_close") == 1, what="the stream closed")
    wait_until(lambda: stream_state.is_live(futures_stream.pk, "futures"), timeout=30, what="the stream live again")
    assert funding.sync(futures_stream.pk) == 0
    assert ledger_payments(futures_stream) == venue_payments(venue_view)


def reconcile_futures(*args) -> tuple[int, list[dict]]:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("reconcile", "--account", "main", "--market", "futures", "--settle", "0", "--json", *args,
                     stdout=out)
    return exit_.value.code, json.loads(out.getvalue())


def test_reconcile_reports_a_payment_the_ledger_lacks_and_fix_records_it_once(polling_only, venue, venue_account,
                                                                              venue_view):
    long_position(venue_account, venue)
    [payment] = venue.control.settle_funding()
    services.balances_replace(account="main", market="futures", balances=[])  # (the wallet drifts too: not this test's)

    _, runs = reconcile_futures()
    missing = [d for d in runs[0]["drift"] if d["kind"] == "funding_missing"]
    assert [(d["reference"], d["symbol"], d["venue"]["amount"]) for d in missing] == \
        [(str(payment["tranId"]), "BTCUSDT", format(D(payment["income"]).normalize(), "f"))]
    assert not FundingPayment.objects.exists()  # reporting records nothing

    _, runs = reconcile_futures("--fix")
    assert all(d["fixed"] for d in runs[0]["drift"] if d["kind"] == "funding_missing")
    assert ledger_payments(venue_account) == venue_payments(venue_view)
    assert FundingPayment.objects.get().source == "reconcile"

    _, runs = reconcile_futures()
    assert not [d for d in runs[0]["drift"] if d["kind"] == "funding_missing"]
    assert funding.sync(venue_account.pk) == 0
