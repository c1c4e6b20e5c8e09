"""Scenario 1 with a late order: the venue accepted the order, its answer was lost, and lookups do not find it
for a while (`visibility_delay_ms` = recvWindow, as Binance's asynchronous matching engine may do). The OMS's
"venue never received it" decision must wait it out: every such order ends as the venue has it (NEW with its
exchange id, or FILLED), never REJECTED and then seen alive; each was POSTed once, and the lookups that met
"not found" did not make it give up."""
from __future__ import annotations

from decimal import Decimal

import pytest

from orders import services
from orders.models import Order, OrderEvent, Status
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal
NEW_ORDER = "POST /api/v3/order"


def _settled(ids: list[str]) -> bool:
    return not Order.objects.filter(pk__in=ids, status=Status.PENDING_NEW).exists()


def test_orders_whose_answer_was_lost_and_that_show_late_are_found_never_rejected(polling_only, venue, venue_account,
                                                                                  venue_view, settings):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    delay_ms = settings.OMS_RECV_WINDOW_MS  # the longest Binance-like delay: the knob is capped at recvWindow
    venue.control.set_faults(visibility_delay_ms=delay_ms, drop_response_count=4, endpoints=[NEW_ORDER])

    resting = [services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.001"),
                                    order_type="LIMIT", price=D("99000") - i) for i in range(3)]
    taken = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.001"), order_type="MARKET")
    ids = [o.id for o in resting] + [taken.id]
    wait_until(lambda: _settled(ids), timeout=30, interval=0.1, what="every late order resolved")

    on_venue = {o["clientOrderId"]: o for o in venue_view.fetch_orders("BTC/USDT")}
    for order in Order.objects.filter(pk__in=ids):
        venue_order = on_venue[order.id]
        assert order.exchange_order_id == venue_order["id"]
        assert order.status == (Status.FILLED if order.id == taken.id else Status.NEW), order.status
        assert not OrderEvent.objects.filter(order=order, to_status=Status.REJECTED).exists()
    audit = venue.control.audit()
    posts = [r for r in audit if (r["method"], r["path"]) == ("POST", "/api/v3/order")]
    assert sorted(r["client_order_id"] for r in posts) == sorted(ids)  # each sent once
    assert {r["outcome"] for r in posts} == {"fault:drop_response"}
    not_found = [r for r in audit if r["method"] == "GET" and r["path"] == "/api/v3/order" and r["code"] == -2013]
    assert {r["orig_client_order_id"] for r in not_found} == set(ids)  # every one was "not found" first
    assert venue.control.fault_counts()["drop_response"] == 4
