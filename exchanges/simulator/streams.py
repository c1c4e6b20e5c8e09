"""Binance's websocket streams for ccxt.pro: public book tickers and 24 h tickers (spot `/stream/...`,
USD-M `/fws/...`), the spot user-data stream through the websocket API (`/ws-api/v3`,
`userDataStream.subscribe.signature`) and the USD-M user-data stream by listenKey (`/fws/private/ws`)."""
import asyncio
import contextlib
import hashlib
import hmac
import secrets
from decimal import Decimal

import orjson
from aiohttp import WSMsgType, web

from . import render
from .engine import Order, Trade, Venue
from .markets import FUTURES, INSTRUMENTS, SPOT

TICKERS_EVERY = 5  # 24 h tickers once a second (every fifth price tick), book tickers on every tick


class Connection:
    """One websocket with an ordered outbox, so events leave in the order they happened."""

    def __init__(self, ws: web.WebSocketResponse):
        self.ws = ws
        self.outbox: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10_000)
        self.sender = asyncio.create_task(self._send())

    def push(self, payload) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a client that stops reading loses messages, not the venue
            self.outbox.put_nowait(orjson.dumps(payload))

    async def _send(self) -> None:
        while True:
            data = await self.outbox.get()
            try:
                await self.ws.send_str(data.decode())
            except (ConnectionError, RuntimeError):
                return

    def close(self) -> None:
        self.sender.cancel()


class Streams:
    def __init__(self, venue: Venue):
        self.venue = venue
        self.public: dict[Connection, tuple[str, set[str]]] = {}  # connection -> (market, stream names)
        self.users: dict[tuple[str, str], dict[Connection, int | None]] = {}  # (market, key) -> conn -> subscription id
        self.listen_keys: dict[str, str] = {}  # listenKey -> api key
        self.ticks = 0
        venue.listeners.append(self.order_event)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/stream/{tail:.*}", self.public_socket)
        app.router.add_get("/fws/{tail:.*}", self.futures_socket)
        app.router.add_get("/ws-api/v3", self.ws_api)

    # ---- sockets ----
    async def _serve(self, request: web.Request, on_message, on_open=None) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        conn = Connection(ws)
        try:
            if on_open:
                on_open(conn)
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = orjson.loads(msg.data)
                except orjson.JSONDecodeError:
                    conn.push({"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}})
                    continue
                on_message(conn, data)
        finally:
            conn.close()
            self.public.pop(conn, None)
            for conns in self.users.values():
                conns.pop(conn, None)
        return ws

    async def public_socket(self, request: web.Request):
        return await self._serve(request, lambda c, d: self.subscribe(c, SPOT, d))

    async def futures_socket(self, request: web.Request):
        listen_key = request.query.get("listenKey")
        if listen_key is None:
            return await self._serve(request, lambda c, d: self.subscribe(c, FUTURES, d))
        api_key = self.listen_keys.get(listen_key)
        if api_key is None:
            raise web.HTTPBadRequest(text='{"code":-1125,"msg":"This listenKey does not exist."}')
        return await self._serve(request, lambda c, d: None,
                                 on_open=lambda c: self.users.setdefault((FUTURES, api_key), {}).__setitem__(c, None))

    def subscribe(self, conn: Connection, market: str, data: dict) -> None:
        method, ident, params = data.get("method"), data.get("id"), data.get("params") or []
        _, names = self.public.setdefault(conn, (market, set()))
        if method == "SUBSCRIBE":
            names.update(str(p) for p in params)
            conn.push({"result": None, "id": ident})
        elif method == "UNSUBSCRIBE":
            names.difference_update(str(p) for p in params)
            conn.push({"result": None, "id": ident})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.push({"result": sorted(names), "id": ident})
        else:
            conn.push({"error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"}, "id": ident})

    async def ws_api(self, request: web.Request):
        return await self._serve(request, self.ws_api_request)

    def ws_api_request(self, conn: Connection, data: dict) -> None:
        ident, method, params = data.get("id"), data.get("method"), dict(data.get("params") or {})
        if method != "userDataStream.subscribe.signature":
            conn.push({"id": ident, "status": 400, "error": {"code": -1100, "msg": f"Unknown method '{method}'."}})
            return
        error = self._check_signature(params)
        if error:
            conn.push({"id": ident, "status": 400 if error[0] != -2015 else 401, "error": {"code": error[0], "msg": error[1]}})
            return
        subscribers = self.users.setdefault((SPOT, params["apiKey"]), {})
        subscription_id = len(subscribers)
        subscribers[conn] = subscription_id
        conn.push({"id": ident, "status": 200, "result": {"subscriptionId": subscription_id}})

    def _check_signature(self, params: dict) -> tuple[int, str] | None:
        account = self.venue.accounts.get(str(params.get("apiKey", "")))
        if account is None:
            return -2015, "Invalid API-key, IP, or permissions for action."
        signature = str(params.pop("signature", ""))
        try:
            timestamp, window = int(params.get("timestamp", 0)), int(params.get("recvWindow", 5000))
        except (TypeError, ValueError):
            return -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
        now = self.venue.now()
        if timestamp >= now + 1000 or now - timestamp > window:
            return -1021, "Timestamp for this request is outside of the recvWindow."
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            return -1022, "Signature for this request is not valid."
        return None

    def new_listen_key(self, api_key: str) -> str:
        for key, owner in self.listen_keys.items():
            if owner == api_key:  # Binance hands back the key's open listenKey
                return key
        key = secrets.token_urlsafe(48)
        self.listen_keys[key] = api_key
        return key

    # ---- publishing ----
    def publish_prices(self) -> None:
        self.ticks += 1
        if not self.public:
            return
        now = self.venue.now()
        for conn, (market, names) in list(self.public.items()):
            for name in names:
                for payload in self._stream_payloads(market, name, now):
                    conn.push(payload)

    def _stream_payloads(self, market: str, name: str, now: int) -> list[dict]:
        target, _, channel = name.partition("@")
        symbols = list(INSTRUMENTS[market]) if target == "!" + channel or target.startswith("!") else [target.upper()]
        symbols = [s for s in symbols if s in INSTRUMENTS[market]]
        if channel == "bookTicker":
            return [self._book_ticker(market, s, now) for s in symbols]
        if channel in ("miniTicker", "ticker", "miniTicker@arr", "ticker@arr") and self.ticks % TICKERS_EVERY == 0:
            rows = [self._ticker(market, s, now, mini=channel.startswith("mini")) for s in symbols]
            return [rows] if channel.endswith("@arr") else rows
        return []

    def _book_ticker(self, market: str, symbol: str, now: int) -> dict:
        b = render.book_ticker(self.venue, market, symbol)
        book = self.venue.books[(market, symbol)]
        payload = {"u": book.update_id, "s": symbol, "b": b["bidPrice"], "B": b["bidQty"], "a": b["askPrice"], "A": b["askQty"]}
        if market == FUTURES:
            payload = {"e": "bookTicker", **payload, "E": now, "T": now}
        return payload

    def _ticker(self, market: str, symbol: str, now: int, mini: bool) -> dict:
        t = render.ticker_24h(self.venue, market, symbol)
        payload = {"e": "24hrMiniTicker" if mini else "24hrTicker", "E": now, "s": symbol, "c": t["lastPrice"],
                   "o": t["openPrice"], "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"]}
        if not mini:
            book = render.book_ticker(self.venue, market, symbol)
            payload.update({"p": t["priceChange"], "P": t["priceChangePercent"], "w": t["weightedAvgPrice"],
                            "x": t["openPrice"], "Q": t["lastQty"], "b": book["bidPrice"], "B": book["bidQty"],
                            "a": book["askPrice"], "A": book["askQty"], "O": t["openTime"], "C": t["closeTime"],
                            "F": t["firstId"], "L": t["lastId"], "n": t["count"]})
        return payload

    def order_event(self, order: Order, exec_type: str, trade: Trade | None) -> None:
        subscribers = self.users.get((order.market, order.api_key))
        if not subscribers:
            return
        now = self.venue.now()
        for conn, subscription_id in list(subscribers.items()):
            if order.market == SPOT:
                conn.push({"subscriptionId": subscription_id, "event": execution_report(order, exec_type, trade, now)})
            else:
                conn.push(order_trade_update(order, exec_type, trade, now))


def _s(value: Decimal) -> str:
    return render.s(value)


def execution_report(o: Order, exec_type: str, t: Trade | None, now: int) -> dict:
    return {
        "e": "executionReport", "E": now, "s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type,
        "f": o.tif, "q": _s(o.orig_qty), "p": _s(o.price), "P": _s(Decimal(0)), "F": _s(Decimal(0)), "g": -1,
        "C": o.client_order_id if exec_type == "CANCELED" else "", "x": exec_type, "X": o.status, "r": "NONE",
        "i": o.order_id, "l": _s(t.qty if t else Decimal(0)), "z": _s(o.executed_qty), "L": _s(t.price if t else Decimal(0)),
        "n": _s(t.commission if t else Decimal(0)), "N": t.commission_asset if t else None, "T": o.update_time,
        "t": t.trade_id if t else -1, "I": 0, "w": o.is_open, "m": t.is_maker if t else False, "M": False,
        "O": o.time, "Z": _s(o.cum_quote), "Y": _s(t.price * t.qty if t else Decimal(0)), "Q": _s(o.orig_quote_qty),
        "W": o.time, "V": "EXPIRE_MAKER",
    }


def order_trade_update(o: Order, exec_type: str, t: Trade | None, now: int) -> dict:
    avg = (o.cum_quote / o.executed_qty) if o.executed_qty else Decimal(0)
    return {"e": "ORDER_TRADE_UPDATE", "E": now, "T": o.update_time, "o": {
        "s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type, "f": o.tif, "q": _s(o.orig_qty),
        "p": _s(o.price), "ap": _s(avg), "sp": "0", "x": exec_type, "X": o.status, "i": o.order_id,
        "l": _s(t.qty if t else Decimal(0)), "z": _s(o.executed_qty), "L": _s(t.price if t else Decimal(0)),
        "n": _s(t.commission if t else Decimal(0)), "N": t.commission_asset if t else "USDT", "T": o.update_time,
        "t": t.trade_id if t else 0, "b": "0", "a": "0", "m": t.is_maker if t else False, "R": o.reduce_only,
        "wt": "CONTRACT_PRICE", "ot": o.type, "ps": "BOTH", "cp": False, "rp": _s(t.realized_pnl if t else Decimal(0)),
        "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
    }}
