"""/metrics exposes process counters and ledger gauges; ledger changes move them."""
from decimal import Decimal

import pytest
from django.db import transaction
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import Account
from infra import metrics
from orders.models import Order, OrderEvent
from orders.models_reconcile import Drift, ReconciliationRun


def scrape(client) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.content.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def sample(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def make_order(account, status="PENDING_NEW"):
    return Order.objects.create(account=account, exchange="binance", symbol="BTCUSDT", side="BUY",
                                quantity=Decimal("0.01"), price=Decimal("100"), status=status)


def record_event(order, to_status, source="worker"):
    """Ledger change as the services record it: the row moves and an event is appended, in one transaction."""
    with transaction.atomic():
        from_status = order.status
        order.status = to_status
        order.version += 1
        order.save()
        OrderEvent.objects.create(order=order, sequence=order.version, kind="venue_update", from_status=from_status,
                                  to_status=to_status, source=source)


@pytest.fixture
def account(db):
    return Account.objects.create(name="metrics-acct", exchange="binance")


@pytest.mark.django_db(transaction=True)
def test_order_gauges_and_counters_move_with_ledger_changes(client, account):
    before = scrape(client)
    order = make_order(account)

    after_place = scrape(client)
    assert sample(after_place, "oms_orders_open", account="metrics-acct", status="PENDING_NEW") == 1

    record_event(order, "NEW")
    after_ack = scrape(client)
    assert sample(after_ack, "oms_orders_open", account="metrics-acct", status="PENDING_NEW") == 0
    assert sample(after_ack, "oms_orders_open", account="metrics-acct", status="NEW") == 1
    assert sample(after_ack, "oms_order_events_total", to_status="NEW", source="worker") == \
        sample(before, "oms_order_events_total", to_status="NEW", source="worker") + 1
    labels = {"exchange": "binance", "market": "spot", "outcome": "new"}
    assert sample(after_ack, "oms_order_placement_seconds_count", **labels) == \
        sample(before, "oms_order_placement_seconds_count", **labels) + 1

    record_event(order, "FILLED")
    after_fill = scrape(client)
    assert sample(after_fill, "oms_orders_open", account="metrics-acct", status="NEW") == 0
    assert sample(after_fill, "oms_orders_recent", account="metrics-acct", status="FILLED") == 1


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_is_not_counted(client, account):
    order = make_order(account)
    before = scrape(client)
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(order, "NEW")
        raise RuntimeError("rollback")
    after = scrape(client)
    assert sample(after, "oms_order_events_total", to_status="NEW", source="worker") == \
        sample(before, "oms_order_events_total", to_status="NEW", source="worker")


def test_drift_gauge_counts_unrepaired_drift_of_latest_run_only(client, account):
    old = ReconciliationRun.objects.create(account=account, market="spot", outcome="drift", drift_count=2)
    Drift.objects.create(run=old, kind=Drift.Kind.BALANCE, reference="USDT")
    Drift.objects.create(run=old, kind=Drift.Kind.FILL_MISSING, reference="t1")
    latest = ReconciliationRun.objects.create(account=account, market="spot", outcome="drift", drift_count=2)
    Drift.objects.create(run=latest, kind=Drift.Kind.BALANCE, reference="USDT")
    Drift.objects.create(run=latest, kind=Drift.Kind.ORDER_UNKNOWN, reference="x", fixed=True)

    samples = scrape(client)
    assert sample(samples, "oms_drift_unresolved", account="metrics-acct", kind="balance") == 1
    assert sample(samples, "oms_drift_unresolved", account="metrics-acct", kind="fill_missing") == 0
    assert sample(samples, "oms_drift_unresolved", account="metrics-acct", kind="order_unknown") == 0


def test_venue_errors_counted_by_ccxt_class(client, db):
    import ccxt

    before = scrape(client)
    metrics.venue_error("binance", ccxt.InsufficientFunds("no money"))
    after = scrape(client)
    assert sample(after, "oms_venue_errors_total", exchange="binance", error="InsufficientFunds") == \
        sample(before, "oms_venue_errors_total", exchange="binance", error="InsufficientFunds") + 1


def test_metrics_token_required_when_configured(client, db, settings):
    settings.OMS_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


@pytest.mark.e2e
def test_metrics_move_when_orders_flow_through_the_worker_and_venue(client, venue, venue_account):
    from orders import services
    from tests.waiting import wait_until

    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    before = scrape(client)
    order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                 price=Decimal("99000"))
    wait_until(lambda: Order.objects.filter(pk=order.id, status="NEW").exists(), what="NEW")
    venue.control.set_faults(error_count=1, error_kind="internal", endpoints=["GET /api/v3/openOrders"])
    from ccxt import OperationFailed

    from exchanges.gateway import gateway_for

    with pytest.raises(OperationFailed):  # the venue's -1001 "internal error"
        gateway_for(venue_account).fetch_open_orders("spot")

    after = scrape(client)
    assert sample(after, "oms_orders_open", account="main", status="NEW") == \
        sample(before, "oms_orders_open", account="main", status="NEW") + 1
    for status, source in (("PENDING_NEW", "api"), ("NEW", "worker")):
        assert sample(after, "oms_order_events_total", to_status=status, source=source) == \
            sample(before, "oms_order_events_total", to_status=status, source=source) + 1
    placed = {"exchange": "binance", "market": "spot", "outcome": "new"}
    assert sample(after, "oms_order_placement_seconds_count", **placed) == \
        sample(before, "oms_order_placement_seconds_count", **placed) + 1
    assert sample(after, "oms_venue_errors_total", exchange="binance", error="OperationFailed") == \
        sample(before, "oms_venue_errors_total", exchange="binance", error="OperationFailed") + 1
