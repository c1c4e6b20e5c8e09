"""Server-sent events: order updates (scoped, replayed after Last-Event-ID) and prices, from Redis."""
from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from infra import pubsub
from orders import services
from orders.models import OrderEvent
from orders.publish import publish_order_update
from tests import factories
from tests.late_commit import placement_committed_late
from tests.orders.api.conftest import order_acked, order_filled


@pytest.fixture(autouse=True)
def short_streams(settings):
    settings.OMS_SSE_MAX_SECONDS = 4
    settings.OMS_SSE_HEARTBEAT_SECONDS = 0.5


def read_until(chunks, needle: str, seconds: float = 4) -> str:
    """Reads the stream until `needle` shows up (the stream itself ends within OMS_SSE_MAX_SECONDS)."""
    seen, deadline = "", time.monotonic() + seconds
    for chunk in chunks:
        seen += chunk.decode()
        if needle in seen or time.monotonic() > deadline:
            break
    return seen


def test_order_updates_of_the_callers_accounts_only(client_a, acct_a, acct_b):
    mine, theirs = factories.order_place(acct_a), factories.order_place(acct_b)
    response = client_a.get("/api/v1/stream/orders/", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    chunks = iter(response.streaming_content)

    publish_order_update(theirs, OrderEvent.objects.get(order=theirs))
    publish_order_update(mine, OrderEvent.objects.get(order=mine))
    text = read_until(chunks, mine.id)

    assert f'"order_id":"{mine.id}"' in text and "event: order" in text
    assert theirs.id not in text
    response.close()


def test_reconnect_replays_what_was_missed(client_a, acct_a):
    order = order_acked(acct_a)
    placed, acked = OrderEvent.objects.filter(order=order).order_by("id")

    response = client_a.get("/api/v1/stream/orders/", HTTP_LAST_EVENT_ID=str(placed.id))
    text = read_until(iter(response.streaming_content), f"id: {acked.id}")

    assert f"id: {acked.id}\nevent: order" in text and f"id: {placed.id}\n" not in text
    assert '"status":"NEW"' in text
    response.close()


def test_replay_shows_each_update_as_its_event_left_the_order(client_a, acct_a):
    """A resumed stream is history: the update of the acknowledgement says NEW even though the order has filled
    since (it used to carry the order's current status under every old sequence, unlike StreamOrders)."""
    order = order_filled(acct_a, trade_id="t-replay")
    placed, *later = OrderEvent.objects.filter(order=order).order_by("id")
    assert [e.to_status for e in later] == ["NEW", "FILLED"]

    response = client_a.get("/api/v1/stream/orders/", HTTP_LAST_EVENT_ID=str(placed.id))
    text = read_until(iter(response.streaming_content), f"id: {later[-1].id}\n")
    response.close()

    sent = {int(m["sequence"]): m for m in sse_orders(text)}
    assert [(sent[e.id]["order"]["status"], sent[e.id]["order"]["version"], sent[e.id]["update_type"])
            for e in later] == [("NEW", later[0].sequence, "NEW"), ("FILLED", later[1].sequence, "FILLED")]


def sse_orders(text: str) -> list[dict]:
    return [json.loads(line[len("data: "):]) for block in text.split("\n\n") if "event: order" in block
            for line in block.splitlines() if line.startswith("data: ")]


def test_reconnect_replays_an_update_that_committed_after_a_higher_sequence(transactional_db, client_a, acct_a):
    """The browser saw a higher sequence first; a lower one committed later. Resuming from what it saw brings it,
    and the `id:` the browser keeps for its next resume stays the highest one sent."""
    quick = factories.order_place(acct_a)
    with placement_committed_late(acct_a, Decimal("20500")) as slow:
        services.order_apply_venue_update(order_id=quick.id, status="NEW", exchange_order_id="E-1")
        seen = OrderEvent.objects.filter(order=quick).latest("id").id  # what the browser had when it went away

    response = client_a.get("/api/v1/stream/orders/", HTTP_LAST_EVENT_ID=str(seen))
    text = read_until(iter(response.streaming_content), slow["order_id"])

    assert seen > slow["sequence"]
    assert f'id: {seen}\nevent: order\ndata: {{"sequence":{slow["sequence"]},' in text
    assert f'"order_id":"{quick.id}"' not in text
    response.close()


def test_prices_start_with_the_latest_and_follow_live_ticks(client_a, no_prices):
    tick = {"exchange": "binance", "market": "spot", "bid_price": "1", "bid_quantity": "1", "ask_price": "2",
            "ask_quantity": "1", "timestamp_ms": int(time.time() * 1000)}
    pubsub.publish_price({**tick, "symbol": "BTCUSDT", "last_price": "20000"})
    response = client_a.get("/api/v1/stream/prices/", {"symbols": "BTCUSDT"})
    chunks = iter(response.streaming_content)
    assert '"last_price":"20000"' in read_until(chunks, "20000")

    pubsub.publish_price({**tick, "symbol": "ETHUSDT", "last_price": "1000"})
    pubsub.publish_price({**tick, "symbol": "BTCUSDT", "last_price": "20001"})
    text = read_until(chunks, "20001")

    assert "event: price" in text and '"last_price":"20001"' in text and "ETHUSDT" not in text
    response.close()


def test_stream_needs_authentication(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/stream/orders/", HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 401
    assert response.content.decode().startswith("event: error\ndata: ")
