"""An order's story: its events as a timeline, its fills with fees, the venue requests the workers made for it,
what the OMS waits for and when it looks again, and the actions that are safe now as buttons calling the services."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from oms_project.celery import app as celery_app
from orders import services
from orders.models import Order, OrderEvent
from orders.models_reconcile import Drift, ReconciliationRun
from orders.venue_requests import ORDER_SYNC_TASK
from tests import factories
from tests.orders.api.conftest import order_acked, order_filled
from tests.waiting import wait_until


@pytest.fixture
def account(db):
    factories.instrument_create()
    return factories.account_create(name="main")


def story_of(client, order) -> str:
    response = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_title_and_fills_read_as_people_read_them(admin_as, viewer, account):
    order = order_filled(account, trade_id="T-77", price="20000")

    page = story_of(admin_as(viewer), order)

    assert "<title>BUY 0.01000 BTCUSDT @ 20,000.00 LIMIT · FILLED | Order" in page
    fills = text(re.search(r'<table id="fills">(.*?)</table>', page, re.S).group(1))
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC T-77 0\.01000 20,000\.00 0\.02 USDT maker", fills), fills
    timeline = text(re.search(r'<table id="timeline">(.*?)</table>', page, re.S).group(1))
    for kind in ("PLACED · → PENDING_NEW api", "ACCEPTED PENDING_NEW → NEW worker", "FILL NEW → FILLED worker"):
        assert kind in timeline, timeline
    assert "trade_id=T-77" in timeline
    assert 'id="waiting"' not in page  # nothing awaited


def test_an_unsent_order_waits_for_a_worker(admin_as, operator, account):
    order = factories.order_place(account)

    page = story_of(admin_as(operator), order)

    assert "Waiting for a worker to send it to the venue" in text(page) and "hands it over again" in text(page)
    assert 'id="lookup-now" value="Look it up on the venue now"' in page and 'id="cancel-order"' in page


def test_a_sent_unanswered_order_waits_for_the_venue_and_says_until_when(admin_as, viewer, account, settings):
    order = factories.order_place(account)
    services.order_submission_claim(order_id=order.pk)
    next_look = timezone.now() + timedelta(seconds=4)
    Order.objects.filter(pk=order.pk).update(next_sync_at=next_look)
    order.refresh_from_db()

    raw = story_of(admin_as(viewer), order)
    page = text(raw)

    assert "Waiting for the venue's answer" in page and f"client order id ({order.pk})" in page
    assert f"The poller looks again at {next_look:%Y-%m-%d %H:%M:%S}" in page
    gate = order.submitted_at + timedelta(milliseconds=settings.OMS_RECV_WINDOW_MS,
                                          seconds=settings.OMS_RATE_LIMIT_MAX_WAIT_SECONDS + settings.OMS_UNKNOWN_GRACE_SECONDS)
    assert f"after {gate:%Y-%m-%d %H:%M:%S}" in page and "becomes REJECTED" in page
    assert 'id="lookup-now"' not in raw  # a viewer gets no button


def test_a_pending_cancel_and_a_drifted_order_say_what_they_wait_for(admin_as, viewer, account):
    cancelling = services.order_cancel(order_id=order_acked(account).pk)
    drifted = order_acked(account, price=Decimal("20001"))
    run = ReconciliationRun.objects.create(account=account, market="spot", outcome=ReconciliationRun.Outcome.DRIFT,
                                           drift_count=1)
    Drift.objects.create(run=run, kind=Drift.Kind.ORDER_CLOSED, symbol="BTCUSDT", reference=drifted.pk, order=drifted,
                         ledger={"status": "NEW"}, venue={"status": "CANCELED"})
    client = admin_as(viewer)

    assert "Waiting for the venue to confirm the cancel" in text(story_of(client, cancelling))
    page = text(story_of(client, drifted))
    assert "found it drifted (Open in the ledger, closed on the venue" in page
    assert "manage.py reconcile --account main --fix" in page


def test_lookup_button_asks_a_worker_to_look_now(admin_as, operator, account):
    order = order_acked(account)
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("sync")

    response = admin_as(operator).post(f"/admin/orders/order/{order.pk}/lookup/", follow=True)

    assert [m.message for m in response.context["messages"]][0].startswith(f"A worker looks order {order.pk} up")
    with celery_app.connection_for_write() as connection:
        queued = connection.default_channel.basic_get("sync")
        connection.default_channel.queue_purge("sync")
    assert (queued.headers["task"], queued.headers["argsrepr"]) == (ORDER_SYNC_TASK, repr([order.pk]))


def test_cancel_button_cancels_through_the_service(admin_as, operator, viewer, account):
    order = order_acked(account)
    assert admin_as(viewer).post(f"/admin/orders/order/{order.pk}/cancel/").status_code == 403
    assert admin_as(operator).get(f"/admin/orders/order/{order.pk}/cancel/").status_code == 405
    assert Order.objects.get(pk=order.pk).status == "NEW"

    response = admin_as(operator).post(f"/admin/orders/order/{order.pk}/cancel/", follow=True)

    assert [m.message for m in response.context["messages"]] == [f"Order {order.pk}: NEW → PENDING_CANCEL"]
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.kind, event.source, event.payload.get("reason")) == ("CANCEL_REQUESTED", "admin",
                                                                       "cancelled by operator in the admin")
    assert "Cancel this order" not in story_of(admin_as(operator), order)  # no longer safe: already cancelling


@pytest.mark.e2e
def test_venue_requests_of_an_order_come_from_the_workers_log(admin_as, viewer, venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                 price=Decimal("90000"))
    wait_until(lambda: Order.objects.filter(pk=order.pk, status="NEW").exists(), what="NEW on the venue")
    services.order_cancel(order_id=order.pk)
    wait_until(lambda: Order.objects.filter(pk=order.pk, status="CANCELLED").exists(), what="CANCELLED")

    page = story_of(admin_as(viewer), order)

    requests = text(re.search(r'<table id="venue-requests">(.*?)</table>', page, re.S).group(1))
    assert re.search(r"POST order ok: NEW.* DELETE order ok: CANCELED", requests), requests
    assert "signature" not in requests and venue.api_key not in page and venue.secret not in page
