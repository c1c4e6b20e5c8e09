"""Orders in the admin: search by any id, the timeline, cancel/resync actions, read-only ledger rows."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin

from oms_project.celery import app as celery_app
from orders import services
from orders.models import Fill, Order, OrderEvent
from orders.venue_requests import ORDER_SYNC_TASK
from tests import factories
from tests.orders.api.conftest import order_acked, order_filled

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def account(db):
    factories.instrument_create()
    return factories.account_create(name="main")


def test_every_model_of_our_apps_is_registered():
    ours = [m for m in apps.get_models() if m._meta.app_label in {"accounts", "orders", "exchanges"}]
    assert ours and [m.__name__ for m in ours if m not in admin.site._registry] == []


@pytest.mark.parametrize("model", [Fill, OrderEvent, Order])
def test_ledger_rows_cannot_be_added_changed_or_deleted_even_by_a_superuser(model, rf, db):
    request = rf.get("/")
    request.user = factories.user_create(superuser=True)
    model_admin = admin.site._registry[model]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_delete_url_of_an_event_is_refused_and_the_event_stays(admin_as, account):
    order = factories.order_place(account)
    event = OrderEvent.objects.get(order=order)
    client = admin_as(factories.user_create(superuser=True))

    response = client.post(f"/admin/orders/orderevent/{event.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert OrderEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize("attr", ["id", "client_order_id", "exchange_order_id"])
def test_search_finds_an_order_by_each_id(attr, admin_as, viewer, account):
    target = order_acked(account, client_order_id="bot-1")
    other = order_acked(account, price=Decimal("20001"))

    page = admin_as(viewer).get(CHANGELIST, {"q": getattr(target, attr)}).content.decode()

    assert target.id in page and other.id not in page


def test_order_page_shows_the_timeline_and_fills(admin_as, viewer, account):
    order = order_filled(account, trade_id="T-77")

    page = admin_as(viewer).get(f"{CHANGELIST}{order.pk}/change/").content.decode()

    assert 'id="timeline"' in page and "T-77" in page
    for kind in ("PLACED", "ACCEPTED", "FILLED"):
        assert kind in page
    assert 'name="_save"' not in page  # nothing to edit


def act(client, action: str, orders):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [o.pk for o in orders]}, follow=True)


def test_cancel_selected_reports_each_order(admin_as, operator, account):
    working = order_acked(account)
    filled = order_filled(account, trade_id="t-1", price="20001")

    response = act(admin_as(operator), "cancel_selected", [working, filled])

    texts = [m.message for m in response.context["messages"]]
    assert f"Order {working.pk}: NEW → PENDING_CANCEL" in texts
    assert any(t.startswith(f"Order {filled.pk}: refused:") for t in texts), texts
    assert dict(Order.objects.values_list("pk", "status")) == {working.pk: "PENDING_CANCEL", filled.pk: "FILLED"}
    event = OrderEvent.objects.filter(order=working).last()
    assert (event.to_status, event.source) == ("PENDING_CANCEL", "admin")


def test_viewer_cannot_cancel(admin_as, viewer, account):
    order = order_acked(account)
    client = admin_as(viewer)

    assert "cancel_selected" not in client.get(CHANGELIST).content.decode()
    act(client, "cancel_selected", [order])

    order.refresh_from_db()
    assert order.status == "NEW"


def test_resync_selected_queues_a_venue_lookup_per_order(admin_as, operator, account):
    orders = [order_acked(account), order_acked(account, price=Decimal("20001"))]
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("sync")

    response = act(admin_as(operator), "resync_selected", orders)

    texts = [m.message for m in response.context["messages"]]
    assert texts == [f"Order {o.pk}: venue lookup queued (now NEW)" for o in sorted(orders, key=lambda o: o.created_at)]
    with celery_app.connection_for_write() as connection:
        queued = [connection.default_channel.basic_get("sync") for _ in orders]
        connection.default_channel.queue_purge("sync")
    assert sorted(m.headers["task"] for m in queued) == [ORDER_SYNC_TASK] * 2
    assert sorted(m.headers["argsrepr"] for m in queued) == sorted(repr([o.pk]) for o in orders)


def test_the_order_list_and_page_show_a_stops_type_trigger_and_whether_it_fired(admin_as, account):
    armed = order_acked(account, side="SELL", order_type="STOP_MARKET", price=None, stop_price=Decimal("19000"))
    fired = order_acked(account, side="SELL", order_type="STOP_LIMIT", price=Decimal("18900"),
                        stop_price=Decimal("19500"))
    services.order_trigger(order_id=fired.id, source="worker")
    client = admin_as(factories.user_create(superuser=True))

    listed = client.get(CHANGELIST).content.decode()
    page = client.get(f"{CHANGELIST}{fired.pk}/change/").content.decode()

    assert "STOP_MARKET" in listed and "STOP_LIMIT" in listed
    assert "19000" in listed and "armed" in listed and "19500" in listed and "triggered" in listed
    assert "19500" in page and "triggered" in page and "TRIGGERED" in page
    assert Order.objects.get(pk=armed.pk).triggered_at is None
