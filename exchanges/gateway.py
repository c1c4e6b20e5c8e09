"""One gateway over ccxt for every venue: built per Account, used only in worker processes.

`gateway_for(account)` decrypts the account's credentials (here, in the worker, never in the API
tier) and keeps one ccxt client per account and thread, rebuilt when the account or its credential
changes. Every request first passes the shared Redis rate limiter; a 429/418 bans the account for
Retry-After seconds; a -1021 (timestamp outside recvWindow) measures the clock offset to the venue
once and shares it. ccxt never retries on its own (`maxRetriesOnFailure` 0): a lost order response
is resolved by looking the order up, not by resending it.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import ccxt
import ccxt.pro
from django.conf import settings

from accounts.models import Account, Credential
from exchanges import logredact, ratelimit, request_log, venue_health
from exchanges.errors import venue_body
from exchanges.results import (
    VenueBalance,
    VenueFunding,
    VenueOrder,
    VenuePosition,
    VenueTrade,
    futures_balances,
    spot_balances,
    venue_funding,
    venue_order,
    venue_position,
    venue_trade,
)
from infra import metrics
from infra.cpu_stages import stage
from venues.supported import base_url_check, exchange_check

# Options that keep ccxt's binance class to the endpoints it needs (see the venue facts):
# no currency/margin catalog calls, spot + USD-M markets only, no clock sync call, and
# "spot" as the default type so BTC/USDT never silently means the perpetual.
BINANCE_OPTIONS = {
    "defaultType": "spot",
    "fetchCurrencies": False,
    "fetchMargins": False,
    "fetchMarkets": {"types": ["spot", "linear"]},
    "adjustForTimeDifference": False,
    "fetchOpenOrders": {"warnWithoutSymbol": False},
    "warnOnFetchOpenOrdersWithoutSymbol": False,
}

RETRY_AFTER_DEFAULT = {429: 1.0, 418: 60.0}
# Binance counts a USD-M batch placement as 5 orders in its 10 s window and 1 in the minute's; the shared limiter
# has one count for every window, so it counts 5 in both (erring on the safe side).
BATCH_ORDER_COUNT = 5

log = logging.getLogger(__name__)

# The latest clock offset (ms) measured in this process, per account: every thread's client uses it from its next
# request (clients built later start from the one shared in Redis).
_clock_offsets: dict[int, int] = {}

logredact.install()

# The mixins below are only ever combined with a ccxt client class, which has no types: mypy sees them as
# subclasses of Any, so what they use of ccxt (and their super() calls into it) type-check.
if TYPE_CHECKING:
    from typing import Any as _Client
else:
    _Client = object


def _answer_summary(answer) -> str:
    """An order answer in a few words for the request log: "ok", with the venue's status and filled amount."""
    if isinstance(answer, dict):
        status = answer.get("status") or answer.get("X")
        filled = answer.get("executedQty")
        return "ok" + (f": {status}" if status else "") + (f", executed {filled}" if filled not in (None, "") else "")
    return f"ok: {len(answer)} rows" if isinstance(answer, list) else "ok"


def _error_summary(exc: BaseException) -> str:
    """A failed request in a few words: the exception's class and the venue's own message when it answered JSON
    (never the URL, which holds the request's signature)."""
    body = venue_body(exc)
    return type(exc).__name__ + (f": {body.get('msg')} (code {body.get('code')})" if body.get("msg") else "")


def _unanswered(exc: BaseException) -> bool:
    """The venue did not answer (no connection, a timeout, a 5xx or maintenance); an error it sent back (a refusal, a
    rate limit, a bad nonce) is an answer: it is up."""
    return type(exc) is ccxt.NetworkError or isinstance(exc, ccxt.RequestTimeout | ccxt.ExchangeNotAvailable)


class SharedLimitsMixin(_Client):
    """Routes every request through the account's shared limiter and turns 429/418 into a shared ban."""

    oms_account_id: int
    oms_limiters: dict[str, ratelimit.SharedLimiter]

    def oms_market_of(self, api) -> str:
        return "spot"

    def oms_weight(self, api, cost: float) -> float:
        return cost

    def fetch2(self, path, api="public", method="GET", params=None, config=None):
        params = {} if params is None else params
        config = {} if config is None else config
        cost = self.calculate_rate_limiter_cost(api, method, path, params, config)
        orders = 0
        if method == "POST" and path in ("order", "orders"):
            orders = 1
        elif method == "POST" and path == "batchOrders":
            orders = BATCH_ORDER_COUNT
        market = self.oms_market_of(api)
        with stage("limit"):
            self.oms_limiters[market].acquire(weight=self.oms_weight(api, cost), orders=orders)
        offset = _clock_offsets.get(self.oms_account_id)
        if offset is not None:  # measured by another thread's client of this process
            self.options["timeDifference"] = offset
        refs, started = request_log.references(params), time.time()  # an order's requests, for its admin story
        try:
            answer = super().fetch2(path, api, method, params, config)
        except Exception as exc:
            request_log.record(refs=refs, method=method, path=str(path), outcome=_error_summary(exc), started=started)
            if _unanswered(exc):
                venue_health.not_answered(self.oms_account_id, market, exc)
            elif isinstance(exc, ccxt.BaseError):
                venue_health.answered(self.oms_account_id, market)
            if isinstance(exc, ccxt.BaseError):
                metrics.venue_error(self.id, exc)
            if isinstance(exc, ccxt.InvalidNonce):
                self.oms_correct_clock()
            raise
        with stage("log"):
            request_log.record(refs=refs, method=method, path=str(path), outcome=_answer_summary(answer),
                               started=started)
            venue_health.answered(self.oms_account_id, market)
        return answer

    # The stages of a request in the benchmark's CPU breakdown (infra.cpu_stages; nothing when it is off).
    def sign(self, *args, **kwargs):
        with stage("sign"):
            return super().sign(*args, **kwargs)

    def fetch(self, *args, **kwargs):
        with stage("send"):
            return super().fetch(*args, **kwargs)

    def parse_order(self, *args, **kwargs):
        with stage("parse"):
            return super().parse_order(*args, **kwargs)

    def oms_correct_clock(self) -> None:
        """Binance -1021: the request's timestamp was outside recvWindow by the venue's clock (refused unprocessed).
        Measure the offset (ccxt's load_time_difference: one public /time call) for this client's next requests
        and for every client of the account built from now on."""
        try:
            offset = self.load_time_difference()
        except ccxt.BaseError as exc:
            log.warning("clock offset to %s not measured: %s", self.id, exc)
            return
        _clock_offsets[self.oms_account_id] = offset
        ratelimit.store_clock_offset(self.oms_account_id, offset)
        log.warning("clock offset to %s corrected: the venue's clock is %+d ms from ours", self.id, -offset)

    def handle_errors(self, code, reason, url, method, headers, body, response, request_headers, request_body):
        if code in RETRY_AFTER_DEFAULT:
            retry_after = (headers or {}).get("Retry-After")
            try:
                seconds = float(retry_after) if retry_after else RETRY_AFTER_DEFAULT[code]
            except ValueError:
                seconds = RETRY_AFTER_DEFAULT[code]
            next(iter(self.oms_limiters.values())).ban(seconds)
        return super().handle_errors(code, reason, url, method, headers, body, response, request_headers, request_body)


class BinanceDialect(_Client):
    """Binance's error tables on any host, and its request weights, for the REST and the websocket clients."""

    def get_exceptions_by_url(self, url, exactOrBroad):
        found = super().get_exceptions_by_url(url, exactOrBroad)
        if found or url is None:
            return found
        # ccxt recognizes only Binance's own hosts; elsewhere pick the table by path, so linear-only codes
        # (-2018/-2019/-2024 InsufficientFunds, -4164/-4116 InvalidOrder) keep their meaning.
        kind = "linear" if "/fapi/" in url else "inverse" if "/dapi/" in url else "spot"
        return self.safe_dict(self.safe_dict(self.exceptions, kind, {}), exactOrBroad, {})

    def oms_market_of(self, api) -> str:
        name = api[0] if isinstance(api, list | tuple) else api
        return "futures" if str(name).startswith("fapi") else "spot"

    def oms_weight(self, api, cost: float) -> float:
        # ccxt prices spot endpoints at 0.2 per unit of Binance weight (rateLimit 50 ms); USD-M costs are weights.
        return cost if self.oms_market_of(api) == "futures" else cost * 5


class BinanceClient(BinanceDialect, SharedLimitsMixin, ccxt.binance):
    """ccxt's binance, with its error tables working on any host (the local venue, a proxy)."""


class BinanceStreamClient(BinanceDialect, ccxt.pro.binance):
    """ccxt.pro's binance for user-data streams. Its few REST calls (listenKey create and keep-alive) pass
    the account's shared limiter like every other request."""

    oms_limiters: dict[str, ratelimit.SharedLimiter]
    oms_balance_rows: list[dict]  # spot balances as the stream sent them, until the consumer takes them
    oms_params: dict  # the stream's market as ccxt names it
    oms_funding_events: int  # USD-M ACCOUNT_UPDATEs with reason FUNDING_FEE, until the consumer takes them

    def handle_balance(self, client, message):
        """Keep every spot balance event's rows: ccxt wakes a watch only if one is waiting, and its cache mixes
        absolute amounts with balanceUpdate deltas; outboundAccountPosition gives each asset's free and locked.
        Count USD-M funding events (ACCOUNT_UPDATE reason FUNDING_FEE): each asks for a funding sync."""
        super().handle_balance(client, message)
        if message.get("e") == "outboundAccountPosition":
            self.oms_balance_rows.extend({"asset": b.get("a"), "free": b.get("f"), "locked": b.get("l")}
                                         for b in message.get("B") or [])
        elif message.get("e") == "ACCOUNT_UPDATE" and (message.get("a") or {}).get("m") == "FUNDING_FEE":
            self.oms_funding_events += 1

    def oms_take_funding_events(self) -> int:
        count, self.oms_funding_events = self.oms_funding_events, 0
        return count

    # -- what the stream's consumer (execution.user_streams) asks, so it never reaches into ccxt.pro ----------
    async def oms_subscribe(self) -> None:
        """Spot: subscribed to the account's events once this returns; USD-M: a listenKey taken."""
        await self.authenticate(self.oms_params)

    def oms_socket_opened(self) -> asyncio.Future | None:
        """USD-M: the listenKey's socket opening (a catch-up waits for it, so no event falls between); spot: None."""
        if self.oms_params["type"] != "future":
            return None
        return self.client(self.get_private_ws_url("linear", self.options["linear"]["listenKey"])).connected

    async def oms_watch_orders(self) -> list[VenueOrder]:
        """The next order reports the stream brings, read like every other answer of the gateway."""
        return [venue_order(o) for o in await self.watch_orders(None, None, None, self.oms_params)]

    async def oms_watch_balance_rows(self) -> list[dict]:
        """After the next balance event: spot's latest row of each asset since the last call; USD-M's none (its
        events are in the venue's own terms, so the consumer syncs the account's balances instead)."""
        await self.watch_balance(self.oms_params)
        return self.oms_take_balance_rows() if self.oms_params["type"] == "spot" else []

    async def oms_close(self, timeout: float) -> None:
        """Close the sockets and session. A graceful websocket close waits up to 10 s for a close frame a venue
        that went away never sends: past `timeout` the HTTP session is closed without it."""
        try:
            await asyncio.wait_for(self.close(), timeout=timeout)
        except Exception:  # noqa: BLE001 - closing what is already broken
            session = getattr(self, "session", None)  # ccxt's aiohttp session
            if session is not None:
                with contextlib.suppress(Exception):
                    await session.close()
                setattr(self, "session", None)  # noqa: B010 - ccxt's attribute, untyped to mypy

    def oms_take_balance_rows(self) -> list[dict]:
        """The latest row of each asset since the last call."""
        rows, self.oms_balance_rows = self.oms_balance_rows, []
        return list({row["asset"]: row for row in rows}.values())

    async def fetch2(self, path, api="public", method="GET", params=None, config=None):
        params = {} if params is None else params
        config = {} if config is None else config
        cost = self.calculate_rate_limiter_cost(api, method, path, params, config)
        limiter = self.oms_limiters[self.oms_market_of(api)]
        await asyncio.to_thread(limiter.acquire, weight=self.oms_weight(api, cost), orders=0)
        return await super().fetch2(path, api, method, params, config)


@cache
def client_class(exchange_id: str) -> type[ccxt.Exchange]:
    """The client class for an exchange id that venues.supported.exchange_check accepts (else InvalidInput)."""
    exchange_id = exchange_check(exchange_id)
    if exchange_id == "binance":
        return BinanceClient
    return type(f"{exchange_id}Client", (SharedLimitsMixin, getattr(ccxt, exchange_id)), {})


def override_base_url(urls_api, base_url: str):
    """Replace scheme and host of every API URL, keeping each path (…/api/v3, …/fapi/v1)."""
    target = urlsplit(base_url)
    if isinstance(urls_api, dict):
        return {k: override_base_url(v, base_url) for k, v in urls_api.items()}
    if isinstance(urls_api, str) and "://" in urls_api:
        parts = urlsplit(urls_api)
        scheme = target.scheme
        if parts.scheme in ("ws", "wss"):
            scheme = "wss" if target.scheme == "https" else "ws"
        return urlunsplit((scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return urls_api


def build_client(account: Account, secrets: dict[str, str]) -> ccxt.Exchange:
    """A ccxt client for the account; InvalidInput (naming exchange or base_url) when the stored row is one
    the gateway cannot serve (a legacy row: the services refuse such values)."""
    cls = client_class(account.exchange)
    base_url_check(account.base_url)
    options: dict[str, object] = {"maxRetriesOnFailure": 0, "recvWindow": settings.OMS_RECV_WINDOW_MS}
    if issubclass(cls, ccxt.binance):
        options.update(BINANCE_OPTIONS)
    client = cls({
        **secrets,
        "enableRateLimit": settings.OMS_CCXT_RATE_LIMIT,
        "timeout": int(settings.OMS_VENUE_TIMEOUT_SECONDS * 1000),
        "options": options,
    })
    if account.sandbox:
        client.set_sandbox_mode(True)
    if account.base_url:
        client.urls["api"] = override_base_url(client.urls["api"], account.base_url)
    client.oms_account_id = account.id
    offset = ratelimit.clock_offset(account.id)
    if offset is not None:
        client.options["timeDifference"] = _clock_offsets[account.id] = offset
    else:
        _clock_offsets.pop(account.id, None)  # none measured lately (or forgotten): nothing to apply
    markets = ("spot", "futures") if issubclass(cls, ccxt.binance) else ("spot",)
    client.oms_limiters = {m: ratelimit.SharedLimiter(account.id, m, ratelimit.published_limits(account.id, m))
                           for m in markets}
    return client


STREAM_TYPES = {"spot": "spot", "futures": "future"}  # our market -> ccxt.pro's


def stream_client(account: Account, market: str) -> BinanceStreamClient:
    """A ccxt.pro client for the account's user-data stream on one market (Binance only; other venues are polled),
    with the markets its gateway knows. Use it inside an event loop and close it (`oms_close`); build a new one
    after the stream breaks (a fresh listenKey)."""
    if account.exchange != "binance":
        raise ValueError(f"user-data streams are not supported on {account.exchange!r}")
    _, secrets = _secrets_for(account)
    options = {"maxRetriesOnFailure": 0, "recvWindow": settings.OMS_RECV_WINDOW_MS, **BINANCE_OPTIONS}
    client = BinanceStreamClient({**secrets, "enableRateLimit": False,
                                  "timeout": int(settings.OMS_VENUE_TIMEOUT_SECONDS * 1000), "options": options})
    if account.sandbox:
        client.set_sandbox_mode(True)
    if account.base_url:
        client.urls["api"] = {**override_base_url({k: v for k, v in client.urls["api"].items() if k != "ws"},
                                                  account.base_url), "ws": single_host_ws_urls(account.base_url)}
    client.oms_account_id = account.id
    client.oms_balance_rows = []
    client.oms_params = {"type": STREAM_TYPES[market]}
    client.oms_funding_events = 0
    offset = ratelimit.clock_offset(account.id)
    if offset is not None:
        client.options["timeDifference"] = offset
    client.oms_limiters = {m: ratelimit.SharedLimiter(account.id, m, ratelimit.published_limits(account.id, m))
                           for m in ("spot", "futures")}
    client.set_markets_from_exchange(gateway_for(account).ready())
    return client


def single_host_ws_urls(base_url: str) -> dict:
    """Binance's websocket endpoints on one host (the local venue, or a proxy in front of Binance): spot
    streams under /stream, USD-M under /fws, the spot WebSocket API under /ws-api/v3."""
    from exchanges.simulator.testing import venue_ws_urls

    urls = venue_ws_urls(base_url)
    if base_url.startswith("https://"):
        urls = override_base_url(urls, base_url)  # wss on a TLS host
    return urls


class _MarketCache:
    """Parsed markets per venue endpoint, shared by the clients of one process (load_markets costs
    two exchangeInfo calls; order calls need the markets but not fresh ones)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_venue: dict[tuple, tuple[float, ccxt.Exchange]] = {}

    def attach(self, client: ccxt.Exchange, venue: tuple, *, reload: bool = False) -> None:
        with self._lock:
            hit = self._by_venue.get(venue)
        if hit and not reload and time.monotonic() - hit[0] < settings.OMS_MARKETS_TTL_SECONDS:
            client.set_markets_from_exchange(hit[1])
            return
        client.load_markets(reload=True)
        with self._lock:
            self._by_venue[venue] = (time.monotonic(), client)


# The OMS's conditional types as Binance spot names them (ccxt sends the type as given, with `stopPrice`)
SPOT_CONDITIONAL_TYPES = {"STOP_MARKET": "STOP_LOSS", "STOP_LIMIT": "STOP_LOSS_LIMIT", "TAKE_PROFIT_MARKET": "TAKE_PROFIT",
                          "TAKE_PROFIT_LIMIT": "TAKE_PROFIT_LIMIT"}
PRICED_VENUE_TYPES = ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
_OMS_TYPE_OF = {venue: oms for oms, venue in SPOT_CONDITIONAL_TYPES.items()}


def oms_order_type(vo: VenueOrder) -> str:
    """The OMS type of a venue order (reconciliation adopting one): a conditional one by its venue type, else MARKET
    or LIMIT as ccxt names it."""
    return _OMS_TYPE_OF.get(vo.venue_type.upper()) or ("MARKET" if (vo.type or "").upper() == "MARKET" else "LIMIT")


@dataclass(frozen=True)
class OrderSpec:
    """One order to send, in ccxt's unified terms (symbol BTC/USDT:USDT); the OMS order id is its client order id."""

    symbol: str
    side: str
    order_type: str
    amount: Decimal
    price: Decimal | None
    client_order_id: str
    time_in_force: str = ""
    reduce_only: bool = False
    post_only: bool = False
    stop_price: Decimal | None = None

    @property
    def venue_type(self) -> str:
        """The type ccxt is given: LIMIT/MARKET as they are, a conditional type by its Binance spot name."""
        return SPOT_CONDITIONAL_TYPES.get(self.order_type.upper(), self.order_type.upper())

    def price_param(self) -> str | None:
        return str(self.price) if self.venue_type in PRICED_VENUE_TYPES and self.price is not None else None

    def params(self) -> dict:
        params: dict = {"clientOrderId": self.client_order_id}
        if self.time_in_force and self.venue_type in PRICED_VENUE_TYPES and not self.post_only:
            params["timeInForce"] = self.time_in_force
        if self.stop_price is not None:
            params["stopPrice"] = str(self.stop_price)
        if self.reduce_only:
            params["reduceOnly"] = True
        if self.post_only:
            params["postOnly"] = True
        return params


FUNDING_PAGE = 1000  # income rows per request (Binance's largest page)

_markets = _MarketCache()
_local = threading.local()


class Gateway:
    """The venue calls the OMS makes, in ccxt's unified terms (symbols like BTC/USDT, BTC/USDT:USDT)."""

    def __init__(self, account: Account, client: ccxt.Exchange):
        self.account_id = account.id
        self.account_name = account.name
        self.exchange = account.exchange
        self.client = client
        self._venue = (account.exchange, account.sandbox, account.base_url)
        self._markets_at: float | None = None  # when this client last took the venue's markets

    def __repr__(self) -> str:
        return f"<Gateway {self.account_name} {self.exchange}>"

    def ready(self) -> ccxt.Exchange:
        """The client with markets no older than OMS_MARKETS_TTL_SECONDS (new listings, changed filters)."""
        if self._markets_at is None or time.monotonic() - self._markets_at > settings.OMS_MARKETS_TTL_SECONDS:
            _markets.attach(self.client, self._venue)
            self._markets_at = time.monotonic()
        return self.client

    # -- catalog and market data --------------------------------------------------------------
    def load_markets(self) -> dict:
        _markets.attach(self.client, self._venue, reload=True)
        self._markets_at = time.monotonic()
        return self.client.markets

    def published_rate_limits(self) -> dict[str, tuple]:
        """What the venue says its limits are (Binance: exchangeInfo.rateLimits per API)."""
        if not isinstance(self.client, ccxt.binance):
            return {}
        return {
            "spot": ratelimit.limits_from_exchange_info(self.client.publicGetExchangeInfo().get("rateLimits")),
            "futures": ratelimit.limits_from_exchange_info(self.client.fapiPublicGetExchangeInfo().get("rateLimits")),
        }

    def fetch_tickers(self, symbols: list[str], market: str) -> dict:
        return self.ready().fetch_tickers(symbols, {"type": "swap"} if market == "futures" else {})

    def fetch_bids_asks(self, symbols: list[str], market: str) -> dict:
        return self.ready().fetch_bids_asks(symbols, {"type": "swap"} if market == "futures" else {})

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int) -> list[list]:
        """Candles [open time ms, open, high, low, close, volume] of one instrument (ccxt symbol: BTC/USDT for spot,
        BTC/USDT:USDT for USD-M); public, no credentials needed."""
        return self.ready().fetch_ohlcv(symbol, timeframe, since, limit)

    # -- orders ----------------------------------------------------------------------------------
    def create_order(self, *, symbol: str, side: str, order_type: str, amount: Decimal, price: Decimal | None,
                     client_order_id: str, time_in_force: str = "", reduce_only: bool = False,
                     post_only: bool = False, stop_price: Decimal | None = None) -> VenueOrder:
        o = OrderSpec(symbol=symbol, side=side, order_type=order_type, amount=amount, price=price,
                      client_order_id=client_order_id, time_in_force=time_in_force, reduce_only=reduce_only,
                      post_only=post_only, stop_price=stop_price)
        answer = self.ready().create_order(symbol, o.venue_type.lower(), side.lower(), str(amount), o.price_param(),
                                           o.params())
        with stage("parse"):
            return venue_order(answer)

    def create_orders(self, orders: list[OrderSpec]) -> list[VenueOrder | ccxt.BaseError]:
        """USD-M orders (2 to 5) in one Binance `batchOrders` request: per order, in the request's order, the venue's
        order or the exception its single placement would have raised. A failure of the request itself raises.

        The request is ccxt's create_orders' own (create_order_request per order, then fapiPrivatePostBatchOrders),
        read here rather than through create_orders, which sorts the answers by time and leaves a refusal without
        its client order id: which order a refusal belongs to would then rest on list positions ccxt does not keep."""
        client = self.ready()
        requests = [client.create_order_request(o.symbol, o.venue_type.lower(), o.side.lower(), str(o.amount),
                                                o.price_param(), {**o.params(), "isAlgoOrder": False}) for o in orders]
        answers = client.fapiPrivatePostBatchOrders({"batchOrders": requests})
        if not isinstance(answers, list) or len(answers) != len(orders):
            raise ccxt.BadResponse(f"{client.id} batchOrders answered {len(answers or [])} results for {len(orders)} orders")
        return [self._refusal(raw) if isinstance(raw, dict) and "code" in raw and "orderId" not in raw
                else venue_order(client.parse_order(raw, client.market(o.symbol))) for o, raw in zip(orders, answers, strict=True)]

    def _refusal(self, raw: dict, method: str = "POST") -> ccxt.BaseError:
        """The exception ccxt raises for this answer to a single USD-M order request (its error tables, by code)."""
        body = json.dumps(raw, separators=(",", ":"))
        url = f"{self.client.urls['api']['fapiPrivate']}/batchOrders"
        try:
            self.client.handle_errors(400, "Bad Request", url, method, {}, body, raw, {}, "")
        except ccxt.BaseError as exc:
            return exc
        return ccxt.ExchangeError(f"{self.client.id} {body}")

    def cancel_all_orders(self, *, symbol: str) -> list[VenueOrder]:
        """Cancel every open order of the account on one spot symbol (Binance `DELETE /api/v3/openOrders`): the orders
        it cancelled, as the venue answered them."""
        return [venue_order(o) for o in self.ready().cancel_all_orders(symbol)]

    def cancel_orders(self, *, symbol: str, client_order_ids: list[str]) -> list[VenueOrder | ccxt.BaseError]:
        """Cancel USD-M orders (2 to 10) of one symbol by client order id in one request (Binance `DELETE
        /fapi/v1/batchOrders`): per order, in the request's order, the venue's answer or the exception its single
        cancel would have raised. Read here rather than through ccxt's cancel_orders, which drops the refusals."""
        client = self.ready()
        market = client.market(symbol)
        answers = client.fapiPrivateDeleteBatchOrders({"symbol": market["id"], "origClientOrderIdList": client_order_ids})
        if not isinstance(answers, list) or len(answers) != len(client_order_ids):
            raise ccxt.BadResponse(f"{client.id} batch cancel answered {len(answers or [])} results for "
                                   f"{len(client_order_ids)} orders")
        return [self._refusal(raw, "DELETE") if isinstance(raw, dict) and "code" in raw and "orderId" not in raw
                else venue_order(client.parse_order(raw, market)) for raw in answers]

    def set_leverage(self, *, symbol: str, leverage: int) -> None:
        self.ready().set_leverage(leverage, symbol)

    def cancel_order(self, *, symbol: str, exchange_order_id: str = "", client_order_id: str = "") -> VenueOrder:
        params = {} if exchange_order_id else {"clientOrderId": client_order_id}
        answer = self.ready().cancel_order(exchange_order_id or None, symbol, params)
        with stage("parse"):
            return venue_order(answer)

    def amend_order(self, *, symbol: str, side: str, amount: Decimal, price: Decimal, exchange_order_id: str,
                    client_order_id: str) -> VenueOrder:
        """A resting LIMIT order's new price and quantity, the order keeping its ids. USD-M: Binance Modify Order
        (ccxt's edit_order, PUT /fapi/v1/order). Spot: the keep-priority amend (PUT /api/v3/order/amend/keepPriority,
        a quantity decrease only; ccxt 4.5 has no method for it), asked to keep our client order id."""
        client = self.ready()
        market = client.market(symbol)
        if not market["spot"]:
            answer = client.edit_order(exchange_order_id, symbol, "limit", side.lower(), str(amount), str(price))
            with stage("parse"):
                return venue_order(answer)
        raw = client.request("order/amend/keepPriority", ["private"], "PUT", {
            "symbol": market["id"], "orderId": exchange_order_id, "newQty": client.amount_to_precision(symbol, str(amount)),
            "newClientOrderId": client_order_id})
        amended = raw["amendedOrder"]
        with stage("parse"):  # the amended order in the field names of an order query, which ccxt parses
            return venue_order(client.parse_order({**amended, "origQty": amended["qty"], "updateTime": raw["transactTime"],
                                                   "cummulativeQuoteQty": amended["cumulativeQuoteQty"]}, market))

    def fetch_order(self, *, symbol: str, client_order_id: str = "", exchange_order_id: str = "") -> VenueOrder:
        """By exchange id when known, else by our client order id (how a lost response is resolved)."""
        params = {} if exchange_order_id else {"clientOrderId": client_order_id}
        return venue_order(self.ready().fetch_order(exchange_order_id or None, symbol, params))

    def fetch_open_orders(self, market: str) -> list[VenueOrder]:
        """Every working order of the account on one market (reconciliation)."""
        params = {"type": "swap"} if market == "futures" else {}
        return [venue_order(o) for o in self.ready().fetch_open_orders(None, None, None, params)]

    def fetch_open_orders_of(self, *, symbol: str, market: str) -> list[VenueOrder]:
        """The account's working orders on one symbol (a sync sweep: weight 6 on spot, 1 on USD-M)."""
        return [venue_order(o) for o in
                self.ready().fetch_open_orders(symbol, None, None, {"type": "swap"} if market == "futures" else {})]

    def fetch_my_trades(self, *, symbol: str, since_ms: int | None = None, from_id: int | None = None,
                        limit: int = 1000) -> list[VenueTrade]:
        """The account's trades on one symbol since a time, or from a trade id on (reconciliation's scan for
        missed fills; Binance's fromId pages through trades that share a millisecond)."""
        params = {"fromId": from_id} if from_id is not None else {}
        return [venue_trade(t) for t in self.ready().fetch_my_trades(symbol, None if from_id is not None else since_ms,
                                                                       limit, params)]

    def fetch_order_trades(self, *, symbol: str, exchange_order_id: str) -> list[VenueTrade]:
        """Every trade of one order, page by page (Binance answers at most `limit` per call; symbol + orderId
        + fromId pages through an order with more trades than that)."""
        client, trades = self.ready(), []
        params: dict[str, object] = {"orderId": exchange_order_id}
        page_size = settings.OMS_TRADES_PAGE
        while True:
            page = client.fetch_my_trades(symbol, None, page_size, params)
            trades.extend(page)
            if len(page) < page_size:
                return [venue_trade(t) for t in trades]
            params = {"orderId": exchange_order_id, "fromId": max(int(t["id"]) for t in page) + 1}

    # -- account -----------------------------------------------------------------------------------
    def fetch_balance(self, market: str) -> list[VenueBalance]:
        """The assets the account holds on one market (those holding nothing left out)."""
        if market == "futures":
            return futures_balances(self.ready().fetch_balance({"type": "future"}))
        return spot_balances(self.ready().fetch_balance({}))

    def fetch_positions(self) -> list[VenuePosition]:
        return [venue_position(p) for p in self.ready().fetch_positions(None, {"type": "future"})]

    # -- what the worker side asks of the client, so it never reaches into it ------------------------
    def native_symbol(self, symbol: str) -> str:
        """The venue's own symbol (BTCUSDT) of a ccxt one (BTC/USDT)."""
        return self.client.market(symbol)["id"]

    def trades_futures(self) -> bool:
        """Whether this client reaches a futures market (the gateway builds Binance's with USD-M)."""
        return "futures" in self.client.oms_limiters

    def banned_for(self) -> float:
        """Seconds the venue still bans this account's spot requests for (0: not banned)."""
        return self.client.oms_limiters["spot"].banned_for()

    def fetch_funding_history(self, *, since_ms: int, until_ms: int | None = None) -> list[VenueFunding]:
        """Every USD-M funding payment of the account from `since_ms` on (Binance: income rows of type FUNDING_FEE,
        `GET /fapi/v1/income`, weight 30), oldest first, page by page. Amounts are the venue's exact decimal
        strings, never ccxt's floats."""
        client = self.ready()
        payments: list[VenueFunding] = []
        page_size = FUNDING_PAGE
        page = 1
        while True:
            params: dict[str, object] = {"page": page}
            if until_ms is not None:
                params["until"] = until_ms
            rows = client.fetch_funding_history(None, since_ms, page_size, params)
            payments.extend(venue_funding(row, lambda symbol: client.market(symbol)["id"]) for row in rows)
            if len(rows) < page_size:
                return sorted(payments, key=lambda p: (p.time_ms, p.venue_id))
            page += 1


def _secrets_for(account: Account) -> tuple[object, dict[str, str]]:
    cred = Credential.objects.filter(account_id=account.id).first()
    if cred is None:
        return None, {}
    return cred.updated_at, cred.decrypted()


_LOOK_UP = object()


def gateway_for(account: Account, credential_stamp=_LOOK_UP) -> Gateway:
    """The gateway for this account in this thread; rebuilt when the account's venue settings or its
    credential change (keyed by account id, account/credential updated_at). A caller that read the
    credential's updated_at with its own query (None: no credential) passes it as `credential_stamp`."""
    cache: dict | None = getattr(_local, "gateways", None)
    if cache is None:
        cache = _local.gateways = {}
    cred_stamp = credential_stamp
    if cred_stamp is _LOOK_UP:
        cred_stamp = Credential.objects.filter(account_id=account.id).values_list("updated_at", flat=True).first()
    key = (account.updated_at, cred_stamp)
    hit = cache.get(account.id)
    if hit and hit[0] == key:
        return hit[1]
    _, secrets = _secrets_for(account)
    gateway = Gateway(account, build_client(account, secrets))
    cache[account.id] = (key, gateway)
    return gateway


def forget_gateways() -> None:
    """Drop this thread's clients (tests, credential rotation drills)."""
    _local.gateways = {}


def public_gateway(account: Account) -> Gateway:
    """A gateway without credentials, for public market data (the marketdata process never decrypts keys)."""
    cache: dict | None = getattr(_local, "public", None)
    if cache is None:
        cache = _local.public = {}
    key = (account.id, account.updated_at)
    hit = cache.get(account.id)
    if hit and hit[0] == key:
        return hit[1]
    gateway = Gateway(account, build_client(account, {}))
    cache[account.id] = (key, gateway)
    return gateway
