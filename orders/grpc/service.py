"""oms.OrderService: thin adapters over orders.services and the selectors.

Each RPC parses the request (convert.py), calls one service or selector, and renders the result; every
application error goes through errors.status_for. Built on django-grpc-framework's Service, whose
handler closes stale database connections before and after each call as Django's request cycle does."""
from __future__ import annotations

import asyncio
import base64
import functools
import json
from contextlib import closing
from datetime import UTC, datetime

from django.db import close_old_connections, connections
from django.db.models import Q
from django_grpc_framework.services import Service

from accounts import selectors as account_selectors
from infra import ports, pubsub
from infra.cpu_stages import stage
from infra.errors import InvalidInput, ServiceError, Unavailable
from orders import batches, selectors, selectors_portfolio, services
from orders.grpc import convert
from orders.grpc.errors import status_for
from orders.grpc.hub import Hub
from orders.models import Status
from orders.publish import updates_to_resume
from orders.validation import exchange_check
from orders.venue_wait import amend_answer, order_answer, orders_answered
from proto import oms_pb2
from venues.symbols import symbol_normalize

DEFAULT_EXCHANGE, DEFAULT_MARKET, DEFAULT_ACCOUNT, DEFAULT_ORDER_TYPE = "binance", "spot", "main", "LIMIT"
DEFAULT_PAGE_SIZE = 100
MAX_STREAM_SYMBOLS = 1000
MAX_ORDER_ID_CHARS = 36  # Order.id
POLL_SECONDS = 0.5  # how often an idle stream notices that its client went away
WAIT_MARGIN_SECONDS = 0.2  # answer this long before the caller's deadline


def refuse_nul_characters(request) -> None:
    """PostgreSQL text cannot hold NUL: a string field carrying one is bad input, refused before any query."""
    for descriptor, value in request.ListFields():
        values = [value] if isinstance(value, str) else value if descriptor.type == descriptor.TYPE_STRING else []
        if any("\x00" in v for v in values):
            raise InvalidInput("must not contain NUL (\\x00) characters", field=descriptor.name)


def unary(method):
    @functools.wraps(method)
    def handler(self, request, context):
        try:
            with stage("rpc"):
                refuse_nul_characters(request)
                return method(self, request, context)
        except Exception as exc:  # noqa: BLE001 - every failure is translated once, here
            code, details = status_for(exc, method.__name__)
        context.abort(code, details)
    return handler


def stream(method):
    @functools.wraps(method)
    def handler(self, request, context):
        try:
            refuse_nul_characters(request)
            yield from method(self, request, context)
            return
        except Exception as exc:  # noqa: BLE001
            code, details = status_for(exc, method.__name__)
        finally:
            # The framework's "request finished" hook fires when the generator is created, before it runs.
            close_old_connections()
        context.abort(code, details)
    return handler


def required(field: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput("is required", field=field)
    return value


def placement_of(request) -> dict:
    """The keyword arguments of services.order_place from a PlaceOrderRequest, with the contract's defaults."""
    return dict(
        account=request.account_id.strip() or DEFAULT_ACCOUNT,
        symbol=request.symbol.strip(),
        side=request.side.strip(),
        quantity=convert.decimal_in("quantity", request.quantity, request.quantity_decimal),
        order_type=request.order_type.strip() or DEFAULT_ORDER_TYPE,
        price=convert.optional_decimal_in("price", request.price, request.price_decimal),
        stop_price=convert.optional_decimal_in("stop_price", request.stop_price, request.stop_price_decimal),
        market=request.market.strip() or DEFAULT_MARKET,
        exchange=request.exchange.strip() or DEFAULT_EXCHANGE,
        client_order_id=request.client_order_id.strip() or None,
        time_in_force=request.time_in_force.strip(),
        reduce_only=request.reduce_only,
        post_only=request.post_only,
        leverage=request.leverage or None,
    )


def _parsed(parse, item):
    """parse(item), or the refusal it raised: one unreadable item of a batch is that item's result alone."""
    try:
        refuse_nul_characters(item)
        return parse(item)
    except ServiceError as exc:
        return exc


class OrderService(Service):
    hub: Hub | None = None

    @classmethod
    def as_servicer(cls, **initkwargs):
        """django-grpc-framework's servicer (a thread-pool function per call, closing stale connections around
        it), except StreamPrices: an async generator the server runs on its event loop."""
        servicer = super().as_servicer(**initkwargs)
        servicer.StreamPrices = cls(**initkwargs).StreamPrices
        return servicer

    # -- orders --------------------------------------------------------------------------------------
    @unary
    def PlaceOrder(self, request, context):
        order = services.order_place(**placement_of(request), user=context.user)
        message = self._await_venue(order, Status.PENDING_NEW, context)
        return oms_pb2.PlaceOrderResponse(
            order_id=message.order_id, exchange_order_id=message.exchange_order_id, status=message.status,
            created_at=message.created_at, order=message, reason=message.reason, created_at_ms=message.created_at_ms,
        )

    @unary
    def CancelOrder(self, request, context):
        order = services.order_cancel(order_id=required("order_id", request.order_id), user=context.user)
        message = self._await_venue(order, Status.PENDING_CANCEL, context)
        return oms_pb2.CancelOrderResponse(
            order_id=message.order_id, status=message.status, cancelled_at=message.updated_at,
            order=message, cancelled_at_ms=message.updated_at_ms,
        )

    @unary
    def GetOrder(self, request, context):
        order = selectors.order_get(required("order_id", request.order_id), user=context.user)
        return oms_pb2.GetOrderResponse(order=convert.order_of(order))

    @unary
    def ListOrders(self, request, context):
        if request.limit < 0:
            raise InvalidInput(f"must be 0 (default {DEFAULT_PAGE_SIZE}) or positive, got {request.limit}", field="limit")
        limit = min(request.limit or DEFAULT_PAGE_SIZE, selectors.MAX_PAGE_SIZE)
        orders = selectors.order_list(
            user=context.user, status=request.status.strip(), symbol=request.symbol.strip(),
            exchange=request.exchange.strip(), account=request.account_id.strip(), market=request.market.strip(),
        )
        if request.page_token:
            created_at, order_id = decode_page_token(request.page_token)
            orders = orders.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=order_id))
        page = list(orders.select_related("account").order_by("-created_at", "-id")[: limit + 1])
        next_token = encode_page_token(page[limit - 1]) if len(page) > limit else ""
        return oms_pb2.ListOrdersResponse(orders=[convert.order_of(o) for o in page[:limit]], next_page_token=next_token)

    def _await_venue(self, order, pending: str, context) -> oms_pb2.Order:
        """The order once the venue answered, as its update was published, or as it stands when the wait is over
        (orders.venue_wait), heard through the hub's one subscription and ending before the caller's deadline."""
        remaining = context.time_remaining()
        with stage("wait"):
            answer = order_answer(order, pending=pending, source=self.hub,
                                  deadline_seconds=None if remaining is None else remaining - WAIT_MARGIN_SECONDS)
        with stage("answer"):
            return convert.order_message(answer)

    @unary
    def AmendOrder(self, request, context):
        order = services.order_amend(
            order_id=required("order_id", request.order_id), user=context.user,
            price=convert.optional_decimal_in("price", request.price, request.price_decimal),
            quantity=convert.optional_decimal_in("quantity", request.quantity, request.quantity_decimal))
        remaining = context.time_remaining()
        with stage("wait"):
            answer = amend_answer(order, source=self.hub,
                                  deadline_seconds=None if remaining is None else remaining - WAIT_MARGIN_SECONDS)
        return oms_pb2.AmendOrderResponse(order=convert.order_message(answer), amend_pending=answer["amend_pending"])

    # -- batches -------------------------------------------------------------------------------------
    @unary
    def PlaceOrders(self, request, context):
        items = [_parsed(placement_of, item) for item in request.orders]
        results = batches.orders_place_batch(orders=items, user=context.user)
        return oms_pb2.PlaceOrdersResponse(**self._batch_answer(results, Status.PENDING_NEW, context))

    @unary
    def CancelOrders(self, request, context):
        results = batches.orders_cancel_batch(order_ids=list(request.order_ids), user=context.user)
        return oms_pb2.CancelOrdersResponse(**self._batch_answer(results, Status.PENDING_CANCEL, context))

    @unary
    def CancelAllOrders(self, request, context):
        orders = services.order_cancel_all(account=request.account_id.strip() or DEFAULT_ACCOUNT,
                                           symbol=request.symbol.strip(), exchange=request.exchange.strip() or None,
                                           user=context.user)
        return oms_pb2.CancelAllOrdersResponse(orders=[convert.order_of(o) for o in orders])

    def _batch_answer(self, results, pending: str, context) -> dict:
        """A result per item; the accepted orders as the venue answered them within one wait for the whole batch."""
        remaining = context.time_remaining()
        answered = iter(orders_answered([r.order for r in results if r.ok], pending=pending, source=self.hub,
                                        deadline_seconds=None if remaining is None else remaining - WAIT_MARGIN_SECONDS))
        out = []
        for result in results:
            if result.ok:
                out.append(oms_pb2.OrderResult(index=result.index, ok=True, order=convert.order_of(next(answered))))
            else:
                code, details = status_for(result.error)
                out.append(oms_pb2.OrderResult(index=result.index, ok=False, error_code=code.name, error_message=details,
                                               error_field=result.error.field or ""))
        accepted = sum(r.ok for r in results)
        return {"results": out, "accepted": accepted, "refused": len(results) - accepted}

    # -- account -------------------------------------------------------------------------------------
    @unary
    def GetBalance(self, request, context):
        name = request.account_id.strip() or DEFAULT_ACCOUNT
        market = request.market.strip() or DEFAULT_MARKET
        exchange_check(request.exchange, account_selectors.account_get(name, context.user))
        balances = account_selectors.balance_list(account=name, market=market, user=context.user)
        return oms_pb2.GetBalanceResponse(
            balances=[convert.balance_message(b) for b in balances], account_id=name, market=market,
        )

    @unary
    def GetPositions(self, request, context):
        """The ledger's positions beside the venue's, and spot holdings (orders.selectors_portfolio, as REST)."""
        book = selectors_portfolio.portfolio(user=context.user, account=request.account_id.strip(),
                                             exchange=request.exchange.strip(), symbol=request.symbol)
        return oms_pb2.GetPositionsResponse(positions=[convert.position_message(p) for p in book.positions],
                                            holdings=[convert.holding_message(h) for h in book.holdings])

    @unary
    def GetPnL(self, request, context):
        """The ledger's PnL over a range (orders.selectors_portfolio.pnl_read, as REST /api/v1/pnl/)."""
        try:
            read = selectors_portfolio.pnl_read(
                user=context.user, account=request.account_id.strip(), exchange=request.exchange.strip(),
                since=convert.time_in("since_ms", request.since_ms), until=convert.time_in("until_ms", request.until_ms),
                group_by=request.group_by)
        except ServiceError as exc:
            if exc.field in ("since", "until"):  # the selector names the range's ends; here they are in ms
                exc.field = f"{exc.field}_ms"
            raise
        return convert.pnl_response(read)

    # -- market data ---------------------------------------------------------------------------------
    @unary
    def GetCandles(self, request, context):
        """The venue's candles through the gateway (infra.ports; cached briefly), as REST /api/v1/candles."""
        rows = ports.candles(user=context.user, exchange=request.exchange.strip(), market=request.market.strip(),
                             symbol=request.symbol, interval=request.interval.strip() or "1m",
                             since=request.since_ms or None, limit=request.limit or None)
        return oms_pb2.GetCandlesResponse(candles=[convert.candle_message(row) for row in rows])

    # -- streams -------------------------------------------------------------------------------------
    async def StreamPrices(self, request, context):
        """On the event loop, not a thread per stream: each update is encoded once (Published.wire) and the
        same bytes go to every stream that wants it."""
        try:
            refuse_nul_characters(request)
            symbols = {symbol_normalize(s) for s in request.symbols if s.strip()}
            if len(symbols) > MAX_STREAM_SYMBOLS:
                raise InvalidInput(f"at most {MAX_STREAM_SYMBOLS} symbols per stream, got {len(symbols)}", field="symbols")
            exchange, market = request.exchange.strip(), request.market.strip()
            loop = asyncio.get_running_loop()
            sub = await self._subscribe_async(lambda: self.hub.subscribe_prices(symbols, exchange, market, loop=loop,
                                                                                     caller=context.caller_key),
                                              context)
            try:
                seen: dict[tuple, int] = {}
                for key, tick in sorted((await asyncio.to_thread(pubsub.latest_prices)).items()):
                    ex, mk, sym = key.split(":", 2)
                    if sub.accept((ex, mk, sym), tick):
                        seen[(ex, mk, sym)] = int(tick.get("timestamp_ms") or 0)
                        yield convert.price_update_bytes(tick)
                while True:
                    if context.recheck_due():
                        await asyncio.to_thread(context.check_still_authenticated)
                    published = await sub.next()  # None now and then (the hub's nudge): time to check the caller
                    if published is None:
                        continue
                    tick = published.message
                    key = (tick.get("exchange"), tick.get("market"), tick.get("symbol"))
                    if seen and int(tick.get("timestamp_ms") or 0) <= seen.pop(key, -1):
                        continue  # the snapshot already carried this tick
                    yield published.wire(convert.price_update_bytes)
            finally:
                sub.close()
        except Exception as exc:  # noqa: BLE001 - as @stream: every failure is translated once, here
            code, details = status_for(exc, "StreamPrices")
        await context.abort(code, details)

    @stream
    def StreamOrders(self, request, context):
        since = request.since_sequence
        if since < 0:
            raise InvalidInput(f"must be 0 (live only) or a sequence already received, got {since}", field="since_sequence")
        name = request.account_id.strip()
        scope = account_selectors.accounts_for_user(context.user)
        if name:
            scope = scope.filter(pk=account_selectors.account_get(name, context.user).pk)
        # The trusted caller (no auth on loopback) hears accounts created after it connected, too.
        accounts = None if context.user is None and not name else set(scope.values_list("name", flat=True))
        # Listen first, then replay: an update committed meanwhile arrives live, and one both replayed and
        # heard live is sent once.
        sub = self._subscribe(lambda: self.hub.subscribe_orders(accounts, caller=context.caller_key), context)
        last = since
        try:
            replayed: set[int] = set()
            if since:
                # closing(): a client gone mid-replay ends the database cursor now, on a connection still open
                with closing(updates_to_resume(since=since, accounts=scope)) as updates:
                    for message in updates:
                        replayed.add(message["sequence"])
                        last = max(last, message["sequence"])
                        yield convert.order_update_message(message)
            connections.close_all()
            while context.is_active():
                context.check_still_authenticated(accounts)  # a removed membership ends the stream
                message = sub.next(POLL_SECONDS)
                if message is None:
                    continue
                if message["sequence"] in replayed:
                    replayed.discard(message["sequence"])
                    continue
                last = max(last, message["sequence"])
                yield convert.order_update_message(message)
        except ServiceError as exc:
            if exc.code in ("unavailable", "rate_limited"):
                raise exc.__class__(f"{exc.message}; resume with since_sequence={last}") from None
            raise
        finally:
            sub.close()

    async def _subscribe_async(self, subscribe, context):
        """_subscribe for a stream on the event loop."""
        if self.hub is None or not await asyncio.to_thread(self.hub.connected.wait, 5):
            raise Unavailable("live updates are unavailable (no connection to Redis); retry shortly")
        sub = subscribe()
        context.add_done_callback(lambda _context: sub.close())  # a cancelled call frees its place at once
        await context.send_initial_metadata((("oms-stream", "live"),))
        return sub

    def _subscribe(self, subscribe, context):
        """Subscribe, then tell the client (initial metadata `oms-stream: live`) that nothing published from
        now on can be missed."""
        if self.hub is None or not self.hub.connected.wait(5):
            raise Unavailable("live updates are unavailable (no connection to Redis); retry shortly")
        sub = subscribe()
        context.add_callback(sub.close)  # a cancelled call frees its place at once, not when its generator is collected
        context.send_initial_metadata((("oms-stream", "live"),))
        return sub


def encode_page_token(order) -> str:
    raw = json.dumps([order.created_at.isoformat(), order.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_PAGE_TOKEN_CHARS = 256  # ours are about 70


def decode_page_token(token: str) -> tuple[datetime, str]:
    """(created_at in UTC, order id) from a token encode_page_token made; anything else is bad input, never a
    query: a forged token may carry deep JSON, an offset PostgreSQL refuses (−23:59) or a NUL."""
    refusal = InvalidInput("is not a next_page_token this server issued", field="page_token")
    if len(token) > MAX_PAGE_TOKEN_CHARS:
        raise refusal
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created_at, order_id = json.loads(raw)
        if not isinstance(created_at, str) or not isinstance(order_id, str):
            raise TypeError
        when = datetime.fromisoformat(created_at)
        if when.tzinfo is None:
            raise ValueError
        when = when.astimezone(UTC)
    except (ValueError, TypeError, RecursionError, OverflowError):
        raise refusal from None
    if not order_id or len(order_id) > MAX_ORDER_ID_CHARS or not order_id.isascii() or not order_id.isprintable():
        raise refusal
    return when, order_id
