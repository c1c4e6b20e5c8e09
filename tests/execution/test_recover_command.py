"""`manage.py recover` on demand, with no worker running: an order whose answer was lost is found by its
client order id, one the venue never received is REJECTED after recvWindow + grace, one never handed to a
worker is submitted (once) rather than guessed at. Exit 1 while anything is still pending."""
from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from execution.venue_orders import NEVER_RECEIVED
from orders import services
from orders.models import Order, Status
from tests.fixtures.venue_audit import posts_of

pytestmark = [pytest.mark.e2e]

D = Decimal


def recover(*args) -> tuple[int, dict[str, dict]]:
    out, code = io.StringIO(), 0
    try:
        call_command("recover", "--json", "--min-age", "0", *args, stdout=out)
    except SystemExit as exit_:
        code = exit_.code
    return code, {r["order_id"]: r for r in json.loads(out.getvalue())}


def place(price: str) -> Order:
    return services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=D("0.01"), price=D(price))


def test_recover_settles_what_it_can_prove_and_sends_nothing_twice(venue, account_on_venue, order_lane, settings,
                                                                   venue_view):
    settings.OMS_RECV_WINDOW_MS, settings.OMS_UNKNOWN_GRACE_SECONDS = 1000, 0.2
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    lost_answer, never_received, never_sent = place("99000"), place("98000"), place("97000")
    for order in (lost_answer, never_received):
        assert services.order_submission_claim(order_id=order.id)  # "the worker sent it"
    on_venue = venue_view.create_order("BTC/USDT", "limit", "buy", 0.01, 99000, {"clientOrderId": lost_answer.id})
    order_lane.clear()  # the original hand-offs are lost with the worker

    code, results = recover("--wait", "10")

    assert code == 1  # never_sent is queued for its first send, so still pending
    assert results[lost_answer.id]["outcome"] == "resolved" and results[lost_answer.id]["after"] == "NEW"
    assert Order.objects.get(pk=lost_answer.id).exchange_order_id == on_venue["id"]
    assert results[never_received.id]["outcome"] == "resolved"
    rejected = Order.objects.get(pk=never_received.id)
    assert rejected.status == Status.REJECTED and rejected.reason == NEVER_RECEIVED
    assert results[never_sent.id]["outcome"] == "submitted"
    assert Order.objects.get(pk=never_sent.id).status == Status.PENDING_NEW
    assert order_lane.items() == [("submit", never_sent.id, "main")]
    assert [len(posts_of(venue, o.id)) for o in (lost_answer, never_received, never_sent)] == [1, 0, 0]


def test_nothing_pending_exits_0(db):
    code, results = recover("--wait", "0")
    assert code == 0 and results == {}
