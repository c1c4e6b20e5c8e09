"""Server-sent events for browsers: order updates and prices from the same Redis channels the gRPC
streams read (oms_project.pubsub; order messages in the orders.publish shape). A stream lives at most
OMS_SSE_MAX_SECONDS; the browser's EventSource reconnects with Last-Event-ID and missed order updates
are replayed from the ledger, including those that committed after a higher sequence the browser saw."""
from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.views import APIView

from accounts.stream_access import stream_access_check
from oms_project import pubsub
from oms_project.errors import ServiceError
from orders.publish import update_message
from orders.reporting import accounts_with_role
from orders.selectors import order_events_to_resume


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


def pump(subscription, first: Iterable[str], on_message, *, user, token: str | None,
         accounts: Iterable[str] | None = None) -> Iterator[str]:
    """Yields `first`, then one event per Redis message (on_message returns the text or None to skip),
    a comment line as heartbeat, until the stream's lifetime is over or the caller's access changes (its bearer
    `token` revoked, its user deactivated, one of the `accounts` it streams no longer visible: an `error` event
    says which, then the stream ends). Always releases the subscription."""
    try:
        yield "retry: 3000\n\n"
        yield from first
        deadline = time.monotonic() + settings.OMS_SSE_MAX_SECONDS
        quiet_since = checked_at = time.monotonic()
        while time.monotonic() < deadline:
            if time.monotonic() - checked_at >= settings.OMS_SSE_AUTH_RECHECK_SECONDS:
                checked_at = time.monotonic()
                try:
                    stream_access_check(user=user, token=token, accounts=accounts)
                except ServiceError as exc:
                    yield sse("error", {"error": {"code": exc.code, "field": exc.field, "message": exc.message}})
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


class RecentSequences:
    """The last `size` sequences sent on one stream: `add` says whether a sequence is new."""

    def __init__(self, size: int = 10_000):
        self.order: deque[int] = deque(maxlen=size)
        self.members: set[int] = set()

    def add(self, sequence: int) -> bool:
        if sequence in self.members:
            return False
        if len(self.order) == self.order.maxlen:
            self.members.discard(self.order[0])
        self.order.append(sequence)
        self.members.add(sequence)
        return True


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
        last_id = request.headers.get("Last-Event-ID", "")
        cursor = int(last_id) if last_id.isdigit() else 0
        replayed = [update_message(event.order, event)
                    for event in order_events_to_resume(since=cursor, accounts=accounts)] if cursor and names else []
        sent = RecentSequences()

        def event(message: dict) -> str | None:
            # Sequences are taken when an event is written, not when it commits, so updates may arrive out of
            # sequence: repeats are dropped by membership, and the `id:` the browser resumes from is the highest
            # sequence sent so far (a resume also replays lower ones that committed after it).
            nonlocal cursor
            if not sent.add(message["sequence"]):
                return None  # replayed already, or heard twice
            cursor = max(cursor, message["sequence"])
            return sse("order", message, cursor)

        first = [text for text in map(event, replayed) if text]
        return event_stream_response(pump(subscription, first, event, user=request.user, token=bearer_token_of(request),
                                          accounts=names))


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
        return event_stream_response(pump(subscription, first, on_message, user=request.user,
                                          token=bearer_token_of(request)))
