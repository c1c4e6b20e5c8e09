"""Server-sent events for browsers: order updates and prices from the same Redis channels the gRPC
streams read (oms_project.pubsub; order messages in the orders.publish shape). A stream lives at most
OMS_SSE_MAX_SECONDS; the browser's EventSource reconnects with Last-Event-ID and missed order updates
are replayed from the ledger."""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.views import APIView

from accounts.auth import user_for_token
from oms_project import pubsub
from orders.publish import update_message
from orders.reporting import accounts_with_role
from orders.selectors import order_events_since


class EventStreamRenderer(renderers.BaseRenderer):
    """Lets `Accept: text/event-stream` through content negotiation; renders errors as an `error` event."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return sse("error", data).encode()


def sse(event: str, data, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n"


def pump(subscription, first: Iterable[str], on_message, token: str | None = None) -> Iterator[str]:
    """Yields `first`, then one event per Redis message (on_message returns the text or None to skip),
    a comment line as heartbeat, until the stream's lifetime is over or its bearer `token` is revoked.
    Always releases the subscription."""
    try:
        yield "retry: 3000\n\n"
        yield from first
        deadline = time.monotonic() + settings.OMS_SSE_MAX_SECONDS
        quiet_since = checked_at = time.monotonic()
        while time.monotonic() < deadline:
            if token is not None and time.monotonic() - checked_at >= settings.OMS_SSE_AUTH_RECHECK_SECONDS:
                checked_at = time.monotonic()
                if user_for_token(token) is None:
                    yield sse("error", {"error": {"code": "unauthenticated", "field": None,
                                                  "message": "The token was revoked; the stream ends."}})
                    return
            message = subscription.get_message(ignore_subscribe_messages=True, timeout=1.0)
            text = on_message(json.loads(message["data"])) if message else None
            if text:
                quiet_since = time.monotonic()
                yield text
            elif time.monotonic() - quiet_since >= settings.OMS_SSE_HEARTBEAT_SECONDS:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
    finally:
        subscription.close()


def bearer_token_of(request) -> str | None:
    """The bearer token the request authenticated with (None for session authentication)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def event_stream_response(events: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


class OrderStreamView(APIView):
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]

    @extend_schema(
        summary="Order updates as server-sent events (`event: order`, `id:` = global sequence)",
        parameters=[OpenApiParameter("account", OpenApiTypes.STR, description="one account; empty = all the caller's"),
                    OpenApiParameter("Last-Event-ID", OpenApiTypes.INT, OpenApiParameter.HEADER,
                                     description="replay updates after this sequence (sent by EventSource on reconnect)")],
        responses={(200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request):
        accounts = accounts_with_role(user=request.user)
        if request.query_params.get("account"):
            accounts = accounts.filter(name=request.query_params["account"])
        names = list(accounts.values_list("name", flat=True))
        subscription = pubsub.client().pubsub()
        subscription.subscribe(*[pubsub.order_channel(n) for n in names] or [pubsub.order_channel("")])
        # Subscribed before reading the ledger: nothing falls between replay and live updates.
        replayed = []
        last_id = request.headers.get("Last-Event-ID", "")
        if last_id.isdigit() and names:
            for event in order_events_since(sequence=int(last_id), accounts=accounts):
                replayed.append(update_message(event.order, event))
        seen = replayed[-1]["sequence"] if replayed else int(last_id) if last_id.isdigit() else 0

        def on_message(message: dict) -> str | None:
            nonlocal seen
            if message["sequence"] <= seen:
                return None  # already replayed
            seen = message["sequence"]
            return sse("order", message, message["sequence"])

        first = [sse("order", m, m["sequence"]) for m in replayed]
        return event_stream_response(pump(subscription, first, on_message, bearer_token_of(request)))


class PriceStreamView(APIView):
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]

    @extend_schema(
        summary="Prices as server-sent events (`event: price`); the latest known prices come first",
        parameters=[OpenApiParameter("symbols", OpenApiTypes.STR, description="comma-separated; empty = all")],
        responses={(200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request):
        symbols = {x.strip().upper() for x in request.query_params.get("symbols", "").split(",") if x.strip()}
        subscription = pubsub.client().pubsub()
        subscription.psubscribe(f"{pubsub.PRICE_CHANNEL_PREFIX}*")

        def on_message(price: dict) -> str | None:
            return sse("price", price) if not symbols or price.get("symbol") in symbols else None

        first = [text for _, p in sorted(pubsub.latest_prices().items()) if (text := on_message(p))]
        return event_stream_response(pump(subscription, first, on_message, bearer_token_of(request)))
