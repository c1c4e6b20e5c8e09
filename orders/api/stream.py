"""Server-sent events for browsers: order updates and prices from the same Redis channels the gRPC
streams read (infra.pubsub; order messages in the orders.publish shape). A stream lives at most
OMS_SSE_MAX_SECONDS; the browser's EventSource reconnects with Last-Event-ID and missed order updates
are replayed from the ledger, including those that committed after a higher sequence the browser saw.

Where a stream runs: an event stream lasts minutes, so it must not hold a web worker thread. The events
process (`manage.py up` runs uvicorn on oms_project.asgi, OMS_EVENTS_ADDR) serves it on its event loop
(`apump`), without a thread each. The WSGI web tier redirects to it when OMS_EVENTS_URL is set; otherwise
(development, tests) it serves a stream in its own thread (`pump`), at most OMS_SSE_WSGI_MAX_STREAMS at once
per process so the API, the admin and /healthz always keep threads. Both count streams per user and in total
(StreamSlots); what a stream sends is decided once, by OrderEvents / PriceEvents."""
from __future__ import annotations

import json
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpResponseRedirect, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.views import APIView

from accounts.auth import bearer_token_parse
from accounts.selectors import account_get
from accounts.stream_access import stream_access_check
from infra import pubsub
from infra.errors import RateLimited, ServiceError
from orders.api.event_hub import HUB
from orders.api.filters import as_query_parameter
from orders.publish import updates_to_resume
from orders.reporting import accounts_with_role
from venues.symbols import symbol_normalize


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


def error_event(exc: ServiceError) -> str:
    return sse("error", {"error": {"code": exc.code, "field": exc.field, "message": exc.message}})


# ---- how many streams ----------------------------------------------------------------------------


class StreamSlots:
    """Open event streams in this process, in total and per user; one past either cap is refused (429)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.total = 0
        self.per_user: Counter = Counter()

    def take(self, user_key, *, total_cap: int, user_cap: int) -> None:
        with self._lock:
            if self.total >= total_cap:
                raise RateLimited(f"too many open event streams on this server ({total_cap} at most); retry later")
            if user_cap and self.per_user[user_key] >= user_cap:
                raise RateLimited(f"you already have {user_cap} open event streams (the limit per user); "
                                  "close one or retry later")
            self.total += 1
            self.per_user[user_key] += 1

    def give_back(self, user_key) -> None:
        with self._lock:
            self.total -= 1
            self.per_user[user_key] -= 1
            if self.per_user[user_key] <= 0:
                del self.per_user[user_key]


SLOTS = StreamSlots()


def slot_for(request, *, on_event_loop: bool):
    """Takes a slot for the caller; returns the function that gives it back (safe to call more than once)."""
    total = settings.OMS_SSE_MAX_STREAMS if on_event_loop else settings.OMS_SSE_WSGI_MAX_STREAMS
    key = request.user.pk
    SLOTS.take(key, total_cap=total, user_cap=settings.OMS_SSE_MAX_STREAMS_PER_USER)
    given_back = threading.Event()

    def give_back():
        if not given_back.is_set():
            given_back.set()
            SLOTS.give_back(key)
    return give_back


# ---- what a stream sends -------------------------------------------------------------------------


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


class OrderEvents:
    """Order updates of the caller's accounts (or one of them), replayed after Last-Event-ID, then live."""

    kind = "orders"

    def __init__(self, request):
        accounts = accounts_with_role(user=request.user)
        if request.query_params.get("account"):
            try:  # one the caller may not see is a 404, as a missing one and as StreamOrders answers
                account_get(request.query_params["account"], request.user)
            except ServiceError as exc:
                raise as_query_parameter(exc) from None
            accounts = accounts.filter(name=request.query_params["account"])
        self.accounts = accounts
        self.names = list(accounts.values_list("name", flat=True))
        self.channels = frozenset(pubsub.order_channel(n) for n in self.names)
        last_id = request.headers.get("Last-Event-ID", "")
        # A sequence is a bigint: anything else (other scripts' digits, 20 digits) reads as "from now on".
        self.cursor = int(last_id) if last_id.isascii() and last_id.isdigit() and len(last_id) < 19 else 0
        self.sent = RecentSequences()

    def subscribe(self, subscription) -> None:
        subscription.subscribe(*[pubsub.order_channel(n) for n in self.names] or [pubsub.order_channel("")])

    def accepts(self, channel: str) -> bool:
        return channel in self.channels

    def first(self) -> list[str]:
        """Called once subscribed: nothing falls between the replay and live updates."""
        replayed = list(updates_to_resume(since=self.cursor, accounts=self.accounts)) \
            if self.cursor and self.names else []
        return [text for text in map(self.on_message, replayed) if text]

    def on_message(self, message: dict) -> str | None:
        # Sequences are taken when an event is written, not when it commits, so updates may arrive out of
        # sequence: repeats are dropped by membership, and the `id:` the browser resumes from is the highest
        # sequence sent so far (a resume also replays lower ones that committed after it).
        if not self.sent.add(message["sequence"]):
            return None  # replayed already, or heard twice
        self.cursor = max(self.cursor, message["sequence"])
        return sse("order", message, self.cursor)


class PriceEvents:
    """The latest known prices first, then live ticks; `symbols` filters (empty = all)."""

    names = None  # no accounts to re-check
    kind = "prices"

    def __init__(self, request):
        self.symbols = {symbol_normalize(x) for x in request.query_params.get("symbols", "").split(",") if x.strip()}

    def subscribe(self, subscription) -> None:
        subscription.psubscribe(f"{pubsub.PRICE_CHANNEL_PREFIX}*")

    def accepts(self, channel: str) -> bool:
        return channel.startswith(pubsub.PRICE_CHANNEL_PREFIX)

    def first(self) -> list[str]:
        return [text for _, p in sorted(pubsub.latest_prices().items()) if (text := self.on_message(p))]

    def on_message(self, price: dict) -> str | None:
        return sse("price", price) if not self.symbols or price.get("symbol") in self.symbols else None


# ---- the two pumps -------------------------------------------------------------------------------


def pump(subscription, first: Iterable[str], on_message, *, user, token: str | None,
         accounts: Iterable[str] | None = None) -> Iterator[str]:
    """In a web worker thread: yields `first`, then one event per Redis message (on_message returns the text or
    None to skip), a comment line as heartbeat, until the stream's lifetime is over or the caller's access
    changes (its bearer `token` revoked, its user deactivated, one of the `accounts` it streams no longer
    visible: an `error` event says which, then the stream ends). Always releases the subscription."""
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
                    yield error_event(exc)
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


def _in_a_pool_thread(function):
    """A database call from the event loop: in a short-lived pool thread that keeps no connection afterwards."""
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()
    return sync_to_async(call, thread_sensitive=False)


async def apump(events, *, user, token: str | None) -> AsyncIterator[str]:
    """pump's twin on an event loop (the events process): the same events, heartbeats, lifetime and access
    re-checks, reading the process's one Redis subscriber (event_hub) and calling the database in pool threads,
    so an open stream holds neither a thread nor a Redis connection. Listens before reading the ledger, as the
    WSGI path subscribes in the view."""
    try:
        listener = await HUB.listen(events.accepts, events.kind)
    except ServiceError as exc:
        yield error_event(exc)
        return
    try:
        yield "retry: 3000\n\n"
        for text in await _in_a_pool_thread(events.first)():
            yield text
        deadline = time.monotonic() + settings.OMS_SSE_MAX_SECONDS
        quiet_since = checked_at = time.monotonic()
        check = _in_a_pool_thread(stream_access_check)
        while time.monotonic() < deadline:
            try:
                if time.monotonic() - checked_at >= settings.OMS_SSE_AUTH_RECHECK_SECONDS:
                    checked_at = time.monotonic()
                    await check(user=user, token=token, accounts=events.names)
                message = await listener.next(timeout=1.0)
            except ServiceError as exc:  # access changed, Redis lost, or the client fell behind
                yield error_event(exc)
                return
            text = events.on_message(message) if message else None
            if text:
                quiet_since = time.monotonic()
                yield text
            elif time.monotonic() - quiet_since >= settings.OMS_SSE_HEARTBEAT_SECONDS:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
    finally:
        HUB.leave(listener)


# ---- the views -----------------------------------------------------------------------------------


def bearer_token_of(request) -> str | None:
    """The bearer token the request authenticated with (None for session authentication)."""
    return bearer_token_parse(request.headers.get("Authorization")) or None


def event_stream_response(events, on_close=()) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    for closer in on_close:  # also when the stream never started (the client left first)
        response._resource_closers.append(closer)
        # A client that leaves while the view runs gets its response dropped unclosed (ASGI): release on collection.
        weakref.finalize(response, closer)
    return response


def stream_response(request, events):
    """The stream for `events`: on this process's event loop when served by ASGI, else in this thread (capped)."""
    on_event_loop = isinstance(request._request, ASGIRequest)
    give_back = slot_for(request, on_event_loop=on_event_loop)
    try:
        user, token = request.user, bearer_token_of(request)
        if on_event_loop:
            return event_stream_response(apump(events, user=user, token=token), on_close=[give_back])
        subscription = pubsub.client().pubsub()
        events.subscribe(subscription)
        first = events.first()  # subscribed before reading the ledger: nothing falls between replay and live
        return event_stream_response(pump(subscription, first, events.on_message, user=user, token=token,
                                          accounts=events.names), on_close=[give_back, subscription.close])
    except BaseException:
        give_back()
        raise


class EventStreamView(APIView):
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]

    def dispatch(self, request, *args, **kwargs):
        """The WSGI web tier sends streams to the events process when there is one, before anything else (the
        events process authenticates)."""
        if settings.OMS_EVENTS_URL and not isinstance(request, ASGIRequest):
            return HttpResponseRedirect(settings.OMS_EVENTS_URL.rstrip("/") + request.get_full_path(), status=307)
        return super().dispatch(request, *args, **kwargs)


class OrderStreamView(EventStreamView):

    @extend_schema(
        summary="Order updates as server-sent events (`event: order`, `id:` = global sequence)",
        parameters=[OpenApiParameter("account", OpenApiTypes.STR, description="one account; empty = all the caller's"),
                    OpenApiParameter("Last-Event-ID", OpenApiTypes.INT, OpenApiParameter.HEADER,
                                     description="replay updates after this sequence (sent by EventSource on reconnect)")],
        responses={(200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request):
        return stream_response(request, OrderEvents(request))


class PriceStreamView(EventStreamView):

    @extend_schema(
        summary="Prices as server-sent events (`event: price`); the latest known prices come first",
        parameters=[OpenApiParameter("symbols", OpenApiTypes.STR, description="comma-separated; empty = all")],
        responses={(200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request):
        return stream_response(request, PriceEvents(request))
