"""The HTTP face of the venue (aiohttp): Binance's REST routes, request signing, rate limits, fault
injection, the audit trail, the price ticker and snapshots. Control routes live in `control_api`."""
import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from . import batch_orders, income, market_routes, matching, order_changes, refusals, render
from .engine import Venue
from .faults import ERROR_KINDS, UNAVAILABLE_TEXT, Audit, FaultPlan
from .instruments import FUTURES, INSTRUMENTS, SPOT, exchange_info
from .privatefile import write_private
from .public_data import MarketData
from .refusals import VenueError
from .streams import Streams
from .weights import Limits, RateLimiter

log = logging.getLogger("exchanges.simulator")
TICK_SECONDS = 0.2
API_KEY_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
RECV_WINDOW_SPOT = re.compile(r"[0-9]{1,19}(\.[0-9]{1,3})?")
RECV_WINDOW_FUTURES = re.compile(r"[0-9]{1,19}")
SNAPSHOT_SECONDS = 5.0


@dataclass(frozen=True)
class Ctx:
    market: str
    params: dict
    account: object
    venue: Venue
    streams: Streams
    limits: Limits


@dataclass(frozen=True)
class Route:
    handler: Callable[[Ctx], object]
    market: str
    weight: int | Callable[[dict], int]
    signed: bool = False
    order: bool | dict[str, int] = False  # counts toward the key's order limits: 1 per window, or per window
    keyed: bool = False  # API key header only, no signature (listenKey calls)


# ---- handlers (thin: parse, call the engine, render) ---------------------------------------------
def _symbols(ctx: Ctx) -> list[str]:
    """`symbol=X`, `symbols=["X","Y"]` or every listed symbol."""
    if ctx.params.get("symbol"):
        return [ctx.venue.instrument(ctx.market, ctx.params["symbol"]).symbol]
    raw = ctx.params.get("symbols")
    if raw:
        try:
            names = json.loads(raw)
        except ValueError:
            raise refusals.illegal_chars("symbols", '["SYMBOL",...]') from None
        if not isinstance(names, list):
            raise refusals.illegal_chars("symbols", '["SYMBOL",...]')
        return [ctx.venue.instrument(ctx.market, str(n)).symbol for n in names]
    return list(INSTRUMENTS[ctx.market])


def _one_or_many(ctx: Ctx, fn):
    rows = [fn(ctx.venue, ctx.market, sym) for sym in _symbols(ctx)]
    return rows[0] if ctx.params.get("symbol") else rows


def ping(ctx): return {}
def server_time(ctx): return {"serverTime": ctx.venue.now()}
def info(ctx): return exchange_info(ctx.market, ctx.venue.now(), ctx.limits.published(ctx.market), ctx.venue.max_open_orders)
def ticker_24h(ctx): return _one_or_many(ctx, render.ticker_24h)
def book_ticker(ctx): return _one_or_many(ctx, render.book_ticker)


def ticker_price(ctx):
    return _one_or_many(ctx, lambda v, m, sym: {"symbol": sym, "price": render.s(v.books[(m, sym)].last_price),
                                                **({"time": v.now()} if m == FUTURES else {})})


def depth(ctx):
    symbol = ctx.venue.instrument(ctx.market, ctx.params.get("symbol")).symbol
    return render.depth(ctx.venue, ctx.market, symbol, ctx.venue.integer(ctx.params, "limit") or 100)


def spot_new_order(ctx):
    resp_type = ctx.params.get("newOrderRespType") or ("FULL" if ctx.params.get("type") in ("LIMIT", "MARKET") else "ACK")
    if resp_type not in ("ACK", "RESULT", "FULL"):
        raise refusals.illegal_chars("newOrderRespType", "ACK|RESULT|FULL")
    order, trades = ctx.venue.place_spot(ctx.account, ctx.params)
    prevented = [m for m in matching.prevented_for(ctx.venue, order) if m.taker_order_id == order.order_id]
    return render.spot_new_order(order, trades, resp_type, prevented)


def spot_get_order(ctx):
    return render.spot_order(ctx.venue.find_order(SPOT, ctx.account, ctx.params, refusals.order_missing()))


def spot_cancel(ctx):
    order = ctx.venue.cancel(SPOT, ctx.account, ctx.params)
    return render.spot_cancel(order, ctx.params.get("newClientOrderId") or ctx.venue.client_order_id({}, SPOT, ctx.account, order.symbol))


def spot_cancel_all(ctx):
    return [render.spot_cancel(o, ctx.venue.client_order_id({}, SPOT, ctx.account, o.symbol))
            for o in ctx.venue.cancel_all(SPOT, ctx.account, ctx.params)]


def open_orders(ctx):
    orders = ctx.venue.open_orders(ctx.market, ctx.account, ctx.params.get("symbol"))
    return [render.spot_order(o) if ctx.market == SPOT else render.futures_order(o) for o in orders]


def all_orders(ctx):
    orders = ctx.venue.all_orders(ctx.market, ctx.account, ctx.params)
    return [render.spot_order(o) if ctx.market == SPOT else render.futures_order(o) for o in orders]


def my_trades(ctx):
    trades = ctx.venue.my_trades(ctx.market, ctx.account, ctx.params)
    return [render.spot_trade(t) if ctx.market == SPOT else render.futures_trade(t) for t in trades]


def spot_account(ctx): return render.spot_account(ctx.account)


def futures_new_order(ctx):
    resp_type = ctx.params.get("newOrderRespType") or "ACK"
    if resp_type not in ("ACK", "RESULT"):
        raise refusals.illegal_chars("newOrderRespType", "ACK|RESULT")
    accepted, order, _ = ctx.venue.place_futures(ctx.account, ctx.params)
    return render.futures_order(accepted if resp_type == "ACK" else order, "new")


def futures_get_order(ctx):
    return render.futures_order(ctx.venue.find_order(FUTURES, ctx.account, ctx.params, refusals.order_missing()))


def futures_cancel(ctx): return render.futures_order(ctx.venue.cancel(FUTURES, ctx.account, ctx.params), "cancel")


def futures_cancel_all(ctx):
    ctx.venue.cancel_all(FUTURES, ctx.account, ctx.params)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def leverage(ctx): return ctx.venue.set_leverage(ctx.account, ctx.params)
def leverage_bracket(ctx): return render.leverage_brackets(ctx.params.get("symbol") and ctx.venue.instrument(FUTURES, ctx.params["symbol"]).symbol)
def futures_account(ctx): return render.futures_account(ctx.venue, ctx.account)
def futures_balance(ctx):
    acc = render.futures_account(ctx.venue, ctx.account)["assets"][0]
    return [{"accountAlias": "SgsR", "asset": "USDT", "balance": acc["walletBalance"],
             "crossWalletBalance": acc["crossWalletBalance"], "crossUnPnl": acc["crossUnPnl"],
             "availableBalance": acc["availableBalance"], "maxWithdrawAmount": acc["maxWithdrawAmount"],
             "marginAvailable": True, "updateTime": acc["updateTime"]}]
def position_risk(ctx):
    symbol = ctx.params.get("symbol") and ctx.venue.instrument(FUTURES, ctx.params["symbol"]).symbol
    return render.position_risk(ctx.venue, ctx.account, symbol)
def dual_side(ctx): return {"dualSidePosition": False}
def income_history(ctx): return income.history(ctx.venue, ctx.account.api_key, ctx.params)
def listen_key_new(ctx): return {"listenKey": ctx.streams.user.new_listen_key(ctx.account.api_key)}
def listen_key_keep(ctx): return {"listenKey": ctx.streams.user.keep_alive(ctx.account.api_key)}
def listen_key_close(ctx):
    ctx.streams.user.close_listen_key(ctx.account.api_key)
    return {}


def _by_symbol(with_symbol: int, without: int):
    return lambda p: with_symbol if p.get("symbol") else without


def _ticker_weight(one: int, many: int):
    """Binance weighs `symbols=[...]` by how many are asked for, up to the weight of asking for all."""
    def weight(p: dict) -> int:
        if p.get("symbol"):
            return one
        if p.get("symbols"):
            return min(many, one * (p["symbols"].count(",") + 1))
        return many
    return weight


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v3/ping"): Route(ping, SPOT, 1),
    ("GET", "/api/v3/time"): Route(server_time, SPOT, 1),
    ("GET", "/api/v3/exchangeInfo"): Route(info, SPOT, 20),
    ("GET", "/api/v3/depth"): Route(depth, SPOT, 5),
    ("GET", "/api/v3/ticker/24hr"): Route(ticker_24h, SPOT, _ticker_weight(2, 80)),
    ("GET", "/api/v3/ticker/bookTicker"): Route(book_ticker, SPOT, _by_symbol(2, 4)),
    ("GET", "/api/v3/ticker/price"): Route(ticker_price, SPOT, _by_symbol(2, 4)),
    ("POST", "/api/v3/order"): Route(spot_new_order, SPOT, 1, signed=True, order=True),
    ("GET", "/api/v3/order"): Route(spot_get_order, SPOT, 4, signed=True),
    ("DELETE", "/api/v3/order"): Route(spot_cancel, SPOT, 1, signed=True),
    ("PUT", "/api/v3/order/amend/keepPriority"): Route(order_changes.amend_keep_priority, SPOT, 4, signed=True),
    ("POST", "/api/v3/order/cancelReplace"): Route(order_changes.cancel_replace, SPOT, 1, signed=True, order=True),
    ("DELETE", "/api/v3/openOrders"): Route(spot_cancel_all, SPOT, 1, signed=True),
    ("GET", "/api/v3/openOrders"): Route(open_orders, SPOT, _by_symbol(6, 80), signed=True),
    ("GET", "/api/v3/allOrders"): Route(all_orders, SPOT, 20, signed=True),
    ("GET", "/api/v3/myTrades"): Route(my_trades, SPOT, lambda p: 5 if p.get("orderId") else 20, signed=True),
    ("GET", "/api/v3/account"): Route(spot_account, SPOT, 20, signed=True),
    ("GET", "/fapi/v1/ping"): Route(ping, FUTURES, 1),
    ("GET", "/fapi/v1/time"): Route(server_time, FUTURES, 1),
    ("GET", "/fapi/v1/exchangeInfo"): Route(info, FUTURES, 1),
    ("GET", "/fapi/v1/depth"): Route(depth, FUTURES, 5),
    ("GET", "/fapi/v1/ticker/24hr"): Route(ticker_24h, FUTURES, _by_symbol(1, 40)),
    ("GET", "/fapi/v1/ticker/bookTicker"): Route(book_ticker, FUTURES, _by_symbol(2, 5)),
    ("GET", "/fapi/v1/ticker/price"): Route(ticker_price, FUTURES, _by_symbol(1, 2)),
    ("POST", "/fapi/v1/order"): Route(futures_new_order, FUTURES, 0, signed=True, order=True),
    ("GET", "/fapi/v1/order"): Route(futures_get_order, FUTURES, 1, signed=True),
    ("DELETE", "/fapi/v1/order"): Route(futures_cancel, FUTURES, 1, signed=True),
    ("PUT", "/fapi/v1/order"): Route(order_changes.modify_futures, FUTURES, 1, signed=True, order=True),
    ("DELETE", "/fapi/v1/allOpenOrders"): Route(futures_cancel_all, FUTURES, 1, signed=True),
    ("POST", "/fapi/v1/batchOrders"): Route(batch_orders.place, FUTURES, 5, signed=True,
                                            order=batch_orders.PLACE_ORDER_COUNTS),
    ("DELETE", "/fapi/v1/batchOrders"): Route(batch_orders.cancel, FUTURES, 1, signed=True),
    ("GET", "/fapi/v1/openOrders"): Route(open_orders, FUTURES, _by_symbol(1, 40), signed=True),
    ("GET", "/fapi/v1/allOrders"): Route(all_orders, FUTURES, 5, signed=True),
    ("GET", "/fapi/v1/userTrades"): Route(my_trades, FUTURES, 5, signed=True),
    ("POST", "/fapi/v1/leverage"): Route(leverage, FUTURES, 1, signed=True),
    ("GET", "/fapi/v1/leverageBracket"): Route(leverage_bracket, FUTURES, 1, signed=True),
    ("GET", "/fapi/v1/positionSide/dual"): Route(dual_side, FUTURES, 30, signed=True),
    ("GET", "/fapi/v1/income"): Route(income_history, FUTURES, 30, signed=True),
    ("POST", "/fapi/v1/listenKey"): Route(listen_key_new, FUTURES, 1, keyed=True),
    ("PUT", "/fapi/v1/listenKey"): Route(listen_key_keep, FUTURES, 1, keyed=True),
    ("DELETE", "/fapi/v1/listenKey"): Route(listen_key_close, FUTURES, 1, keyed=True),
    ("GET", "/fapi/v2/account"): Route(futures_account, FUTURES, 5, signed=True),
    ("GET", "/fapi/v3/account"): Route(futures_account, FUTURES, 5, signed=True),
    ("GET", "/fapi/v2/balance"): Route(futures_balance, FUTURES, 5, signed=True),
    ("GET", "/fapi/v3/balance"): Route(futures_balance, FUTURES, 5, signed=True),
    ("GET", "/fapi/v2/positionRisk"): Route(position_risk, FUTURES, 5, signed=True),
    ("GET", "/fapi/v3/positionRisk"): Route(position_risk, FUTURES, 5, signed=True),
}
ROUTES.update({(method, path): Route(handler, market, weight, signed=signed)
               for method, path, handler, market, weight, signed in market_routes.ROUTES})


# ---- the server ----------------------------------------------------------------------------------
class DropConnection(Exception):
    """Close the client's connection without an answer."""


def _is_loopback(remote: str | None) -> bool:
    try:
        return ipaddress.ip_address(remote or "").is_loopback
    except ValueError:
        return False


class VenueServer:
    def __init__(self, venue: Venue, *, control_token: str, latency_ms: float = 0, snapshot_path: str | None = None,
                 seed: int = 1):
        self.venue = venue
        self.control_token = control_token
        self.faults = FaultPlan(seed)
        self.faults.knobs.latency_ms = latency_ms
        self.limiter = RateLimiter()
        self.audit = Audit()
        self.snapshot_path = snapshot_path
        venue.market_data = MarketData(venue, seed)  # public trades and candles (after a snapshot was read back)
        self.streams = Streams(venue, self.faults)
        venue.listeners.append(self._on_order_event)

    def _on_order_event(self, order, exec_type: str, trade) -> None:
        if trade is not None and trade.qty == order.executed_qty:  # the order's first fill
            self.limiter.order_filled(order.market, order.api_key, self.venue.now())
        self._tasks: list[asyncio.Task] = []

    # ---- app wiring ----
    def app(self) -> web.Application:
        from .control_api import add_control_routes

        app = web.Application(client_max_size=1 << 20)
        add_control_routes(app, self)
        self.streams.add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self.dispatch)
        app.on_startup.append(self._start_background)
        app.on_cleanup.append(self._stop_background)
        return app

    async def _start_background(self, app) -> None:
        self._tasks = [asyncio.create_task(self._ticker())]
        if self.snapshot_path:
            self._tasks.append(asyncio.create_task(self._snapshotter()))

    async def _stop_background(self, app) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.save_snapshot()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.venue.tick()
                self.venue.market_data.on_tick()
                self.streams.publish_prices()
                self.streams.user.housekeeping()
            except Exception:  # a bug in one tick must not stop the market
                log.exception("venue tick failed")

    async def _snapshotter(self) -> None:
        while True:
            await asyncio.sleep(SNAPSHOT_SECONDS)
            if self.venue.dirty:
                self.save_snapshot()

    def save_snapshot(self) -> None:
        if not self.snapshot_path:
            return
        # It holds every key's secret: owner-only from the first byte, replaced atomically.
        write_private(self.snapshot_path, orjson.dumps(self.venue.state()))
        self.venue.dirty = False

    # ---- one request ----
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        route = ROUTES.get((request.method, request.path))
        body = await request.text() if request.can_read_body else ""
        params = dict(parse_qsl(body, keep_blank_values=True)) if body else {}
        params.update(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))  # Binance: the query string wins
        row = {"ts": self.venue.now(), "method": request.method, "path": request.path,
               "api_key": request.headers.get("X-MBX-APIKEY"), "symbol": params.get("symbol"),
               "client_order_id": params.get("newClientOrderId") if request.method == "POST" and request.path.endswith("/order") else None,
               "orig_client_order_id": params.get("origClientOrderId"), "order_id": params.get("orderId")}
        self.venue.skew_ms = self.faults.knobs.clock_skew_ms
        self.venue.visibility.delay_ms = min(int(self.faults.knobs.visibility_delay_ms), _recv_window_ms(params))
        if self.faults.knobs.clock_skew_ms:
            self.faults.count("clock_skew")
        try:
            response = await self._answer(request, route, params, body, row)
        except DropConnection as drop:
            row.update(status=None, code=None, outcome=f"fault:{drop}")
            self.audit.record(**row)
            await asyncio.sleep(self.faults.knobs.drop_hold_ms / 1000)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError() from None
        row.setdefault("outcome", "ok" if response.status < 400 else "error")
        row.update(status=response.status, ms=round((time.monotonic() - started) * 1000, 2))
        self.audit.record(**row)
        return response

    async def _answer(self, request, route, params, body, row) -> web.Response:
        faults, knobs = self.faults, self.faults.knobs
        delay = faults.latency_s()
        if delay:
            await asyncio.sleep(delay)
        if route is None:
            row["code"] = None
            return web.Response(status=404, text="<html><body><h2>404 Not found</h2></body></html>", content_type="text/html")
        targeted = faults.matches(request.method, request.path)
        if targeted and faults.take("drop_request_count", "drop_request_rate"):
            faults.count("drop_request")
            raise DropConnection("drop_request")
        if targeted and knobs.burst_429 > 0:
            knobs.burst_429 -= 1
            faults.count("burst_429")
            row["outcome"] = "fault:burst_429"
            return self._error(VenueError(-1003, "Too many requests; current limit of IP is 6000 requests per minute. "
                                          "Please use WebSocket Streams for live updates to avoid polling the API.",
                                          status=429, headers={"Retry-After": "1"}), row)
        if targeted and knobs.ban_418_seconds > 0:  # this request and every later one from the IP meet the ban
            self.limiter.ban(route.market, request.remote or "", knobs.ban_418_seconds, self.venue.now())
            knobs.ban_418_seconds = 0
            faults.count("ban_418")
        error_kind = knobs.error_kind if targeted and faults.take("error_count", "error_rate") else None
        if error_kind and not ERROR_KINDS[error_kind][2]:
            return self._injected_error(error_kind, row)
        headers: dict[str, str] = {}
        try:
            headers.update(self.limiter.weight(route.market, request.remote or "", self._weight(route, params), self.venue.now()))
            account = self._authenticate(request, params, body, route.market) if route.signed else None
            if route.keyed:
                account = self._account(request)
            if route.order:
                counts = route.order if isinstance(route.order, dict) else None
                headers.update(self.limiter.order(route.market, account.api_key, self.venue.now(), counts))
            result = route.handler(Ctx(route.market, params, account, self.venue, self.streams, self.limiter.limits))
        except VenueError as exc:
            exc.headers = {**headers, **exc.headers}
            if error_kind is None:
                return self._error(exc, row)
            result = None
        if error_kind:
            if error_kind == "timeout":
                await asyncio.sleep(knobs.error_delay_ms / 1000)
            return self._injected_error(error_kind, row)
        if targeted and faults.take("drop_response_count", "drop_response_rate"):
            faults.count("drop_response")
            raise DropConnection("drop_response")
        row["code"] = None
        return web.Response(body=orjson.dumps(result), content_type="application/json", headers=headers)

    @staticmethod
    def _weight(route: Route, params: dict) -> int:
        return route.weight(params) if callable(route.weight) else route.weight

    def _injected_error(self, kind: str, row: dict) -> web.Response:
        status, body, _ = ERROR_KINDS[kind]
        self.faults.count(f"error:{kind}")
        row.update(outcome=f"fault:error:{kind}", code=body["code"] if body else None)
        if body is None:
            return web.Response(status=status, text=UNAVAILABLE_TEXT)
        return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")

    @staticmethod
    def _error(exc: VenueError, row: dict) -> web.Response:
        row["code"] = exc.code
        row.setdefault("outcome", f"error:{exc.code}")
        return web.Response(status=exc.status, body=orjson.dumps(exc.body()), content_type="application/json",
                            headers=exc.headers)

    def _account(self, request: web.Request):
        api_key = request.headers.get("X-MBX-APIKEY")
        if not api_key or not API_KEY_RE.fullmatch(api_key):
            raise VenueError(-2014, "API-key format invalid.", status=401)
        account = self.venue.accounts.get(api_key)
        if api_key in self.faults.knobs.reject_keys:
            self.faults.count("reject_key")
            raise refusals.invalid_key()
        if account is None or (self.venue.default_key and not _is_loopback(request.remote)):
            raise refusals.invalid_key()
        return account

    def _authenticate(self, request: web.Request, params: dict, body: str, market: str):
        account = self._account(request)
        query = request.rel_url.raw_query_string  # signed as sent, percent-encoding and all (ccxt's batch cancel lists)
        payload = query + body if query and body else (query or body)
        cut = payload.rfind("&signature=")
        if cut < 0 and payload.startswith("signature="):
            cut = -1
        if "timestamp" not in params:
            raise refusals.mandatory("timestamp")
        if "signature" not in params or (cut < 0 and not payload.startswith("signature=")):
            raise refusals.mandatory("signature")
        timestamp = self.venue.time_param(market, params, "timestamp")
        if timestamp is None:
            raise refusals.mandatory("timestamp")
        recv_window = _recv_window_param(params, market)
        if recv_window > 60000:
            raise VenueError(-1131, "recvWindow must be less than 60000")
        now = self.venue.now()
        if timestamp >= now + 1000:
            raise VenueError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now - timestamp > recv_window:
            raise VenueError(-1021, "Timestamp for this request is outside of the recvWindow.")
        signed_part = payload[:cut] if cut >= 0 else ""
        expected = hmac.new(account.secret.encode(), signed_part.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params["signature"].lower()):
            raise VenueError(-1022, "Signature for this request is not valid.")
        return account


def _recv_window_param(params: dict, market: str) -> Decimal:
    """recvWindow in ms (default 5000); spot takes up to three decimals (microsecond precision), USD-M whole ms."""
    raw = params.get("recvWindow")
    if raw is None or raw == "":
        return Decimal(5000)
    pattern, legal = (RECV_WINDOW_SPOT, r"^[0-9]{1,19}(\.[0-9]{1,3})?$") if market == SPOT else (RECV_WINDOW_FUTURES, "^[0-9]{1,19}$")
    if not pattern.fullmatch(raw):
        raise refusals.illegal_chars("recvWindow", legal)
    return Decimal(raw)


def _recv_window_ms(params: dict) -> int:
    """The request's recvWindow for capping the visibility delay (5000 when absent or unreadable)."""
    try:
        return int(Decimal(params.get("recvWindow") or 5000))
    except (ArithmeticError, ValueError):
        return 5000


def load_snapshot(venue: Venue, path: str | None) -> bool:
    if not path or not os.path.exists(path):
        return False
    with open(path, "rb") as fh:
        venue.restore(orjson.loads(fh.read()))
    return True
