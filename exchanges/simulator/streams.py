"""Binance's websocket streams for ccxt.pro: public book tickers and 24 h tickers (spot `/stream/...`,
USD-M `/fws/...`), the spot user-data stream through the websocket API (`/ws-api/v3`) and the USD-M
user-data stream by listenKey (`/fws/private/ws?listenKey=`); `user_data` keeps their state."""
import asyncio
import hashlib
import hmac

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from . import render
from .engine import Venue
from .faults import FaultPlan
from .instruments import FUTURES, INSTRUMENTS, SPOT
from .user_data import NO_LISTEN_KEY, UserStreams
from .wsconn import Connection

TICKERS_EVERY = 5  # 24 h tickers once a second (every fifth price tick), book tickers on every tick


class Streams:
    def __init__(self, venue: Venue, faults: FaultPlan | None = None):
        self.venue = venue
        self.public: dict[Connection, tuple[str, set[str]]] = {}  # connection -> (market, stream names)
        self.sockets: set[Connection] = set()  # every open websocket, closed when the venue shuts down
        self.user = UserStreams(venue, faults or FaultPlan(0))
        self.ticks = 0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/stream/{tail:.*}", self.public_socket)
        app.router.add_get("/fws/{tail:.*}", self.futures_socket)
        app.router.add_get("/ws-api/v3", self.ws_api)
        app.on_shutdown.append(self._close_all)

    async def _close_all(self, _app) -> None:
        """A venue going down closes its sockets (going away), as an exchange does, instead of leaving clients
        connected to a server that no longer answers until the shutdown's timeout."""
        await asyncio.gather(*(conn.ws.close(code=WSCloseCode.GOING_AWAY) for conn in list(self.sockets)),
                             return_exceptions=True)

    # ---- sockets ----
    async def _serve(self, request: web.Request, on_message, on_open=None) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        conn = Connection(ws, self.venue.now())
        self.sockets.add(conn)
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
            self.sockets.discard(conn)
            conn.stop()
            self.public.pop(conn, None)
            self.user.closed(conn)
        return ws

    async def public_socket(self, request: web.Request):
        return await self._serve(request, lambda c, d: self.subscribe(c, SPOT, d))

    async def futures_socket(self, request: web.Request):
        listen_key = request.query.get("listenKey")
        if listen_key is None:
            return await self._serve(request, lambda c, d: self.subscribe(c, FUTURES, d))
        api_key = self.user.listen_key_owner(listen_key)
        if api_key is None:
            code, msg = NO_LISTEN_KEY
            raise web.HTTPBadRequest(text=orjson.dumps({"code": code, "msg": msg}).decode(), content_type="application/json")
        return await self._serve(request, lambda c, d: None,
                                 on_open=lambda c: self.user.open_listen_key_socket(c, listen_key, api_key))

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
        """The websocket API's user-data methods (what ccxt.pro uses, and what ends or lists its
        subscriptions); other methods are not served here."""
        ident, method, params = data.get("id"), data.get("method"), dict(data.get("params") or {})
        if method == "userDataStream.subscribe.signature":
            error = self._check_signature(params)
            if error:
                conn.push({"id": ident, "status": 400 if error[0] != -2015 else 401,
                           "error": {"code": error[0], "msg": error[1]}})
                return
            subscription_id = self.user.subscribe(conn, params["apiKey"])
            conn.push({"id": ident, "status": 200, "result": {"subscriptionId": subscription_id}})
        elif method == "userDataStream.unsubscribe":
            raw = params.get("subscriptionId")
            if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)):
                conn.push({"id": ident, "status": 400, "error": {
                    "code": -1100, "msg": "Illegal characters found in parameter 'subscriptionId'; legal range is '^[0-9]{1,10}$'."}})
                return
            self.user.unsubscribe(conn, raw)
            conn.push({"id": ident, "status": 200, "result": {}})
        elif method == "session.subscriptions":
            conn.push({"id": ident, "status": 200,
                       "result": [{"subscriptionId": i} for i in self.user.subscription_ids(conn)]})
        else:
            conn.push({"id": ident, "status": 400, "error": {"code": -1100, "msg": f"Unknown method '{method}'."}})

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

    # ---- publishing ----
    def publish_prices(self) -> None:
        self.ticks += 1
        market_data = self.venue.market_data
        fresh = market_data.take_fresh() if market_data is not None else []  # trades printed since the last tick
        if not self.public:
            return
        now = self.venue.now()
        for conn, (market, names) in list(self.public.items()):
            for name in names:
                for payload in self._stream_payloads(market, name, now, fresh):
                    conn.push(payload)

    def _stream_payloads(self, market: str, name: str, now: int, fresh: list) -> list[dict]:
        target, _, channel = name.partition("@")
        if self.venue.market_data is not None and (channel in ("trade", "aggTrade") or channel.startswith("kline_")):
            symbol = target.upper()
            if symbol not in INSTRUMENTS[market]:
                return []
            return self.venue.market_data.stream_payloads(market, symbol, channel, now, self.ticks, fresh)
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
