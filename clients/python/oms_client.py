#!/usr/bin/env python3
"""Python SDK and command-line client for the OMS gRPC API (oms.OrderService).

    from clients.python.oms_client import OMSClient     # from the repository root
    from oms_client import OMSClient                    # from clients/python

    with OMSClient("localhost:50051", token="...") as client:
        result = client.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, price=115000)
        print(result["order_id"], result["status"])

CLI: python clients/python/oms_client.py [--server HOST:PORT] [--token T] COMMAND ...  (see --help)

Streams reconnect with backoff; order streams resume from the last sequence they delivered. Reads are
retried when the server is unavailable; placements only when they carry a client_order_id (the server
returns the first order for a repeated id), cancels never.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import grpc

try:
    from proto import oms_pb2, oms_pb2_grpc
except ImportError:  # run as a script or from clients/python: proto/ lives at the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from proto import oms_pb2, oms_pb2_grpc

__all__ = ["OMSClient", "RateLimiter", "main"]

DEFAULT_ADDRESS = "localhost:50051"
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ("grpc.enable_retries", 0),  # retries are decided here, per call kind
]
READ_RETRY_CODES = frozenset({grpc.StatusCode.UNAVAILABLE})
PLACE_RETRY_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
STREAM_RESUME_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
                                 grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL,
                                 grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED})


class RateLimiter:
    """Token bucket: at most `rate` calls per second on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: int | None = None):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate, self.capacity = float(rate), float(burst or max(1, int(rate)))
        self.tokens, self.updated = self.capacity, time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


def _utc(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


def _exact(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def _number(value) -> tuple[float, str]:
    """(double, exact decimal string) for the wire; floats go as doubles only."""
    if value is None:
        return 0.0, ""
    if isinstance(value, float):
        return value, ""
    try:
        exact = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    return float(exact), format(exact, "f") if exact.is_finite() else str(exact)


def order_dict(o) -> dict:
    return {
        "order_id": o.order_id, "client_order_id": o.client_order_id, "exchange_order_id": o.exchange_order_id,
        "account_id": o.account_id, "exchange": o.exchange, "market": o.market, "symbol": o.symbol,
        "side": o.side, "order_type": o.order_type, "time_in_force": o.time_in_force,
        "reduce_only": o.reduce_only, "post_only": o.post_only, "leverage": o.leverage,
        "quantity": o.quantity, "price": o.price, "filled_quantity": o.filled_quantity, "average_price": o.average_price,
        "quantity_decimal": _exact(o.quantity_decimal), "price_decimal": _exact(o.price_decimal),
        "filled_quantity_decimal": _exact(o.filled_quantity_decimal), "average_price_decimal": _exact(o.average_price_decimal),
        "stop_price": _exact(o.stop_price_decimal),
        "triggered_at": datetime.fromtimestamp(o.triggered_at_ms / 1000, tz=UTC) if o.triggered_at_ms else None,
        "cumulative_fee": o.cumulative_fee, "fee_asset": o.fee_asset,
        "status": o.status, "reason": o.reason, "version": o.version,
        "created_at": _utc(o.created_at), "updated_at": _utc(o.updated_at),
    }


def placement_request(symbol: str, side: str, quantity, order_type: str = "LIMIT", price=0, exchange: str = "binance",
                      market: str = "spot", account_id: str = "main", leverage: int = 0, client_order_id: str = "",
                      time_in_force: str = "", reduce_only: bool = False, post_only: bool = False, stop_price=None):
    qty, qty_exact = _number(quantity)
    px, px_exact = _number(price)
    stop, stop_exact = _number(stop_price)
    return oms_pb2.PlaceOrderRequest(
        symbol=symbol, side=side, order_type=order_type, quantity=qty, price=px, exchange=exchange, market=market,
        account_id=account_id, leverage=leverage or 0, client_order_id=client_order_id, time_in_force=time_in_force,
        reduce_only=reduce_only, post_only=post_only, quantity_decimal=qty_exact, price_decimal=px_exact,
        stop_price=stop, stop_price_decimal=stop_exact)


def batch_dict(response) -> dict:
    results = []
    for r in response.results:
        item: dict = {"index": r.index, "ok": r.ok}
        if r.ok:
            item["order"] = order_dict(r.order)
        else:
            item["error"] = {"code": r.error_code, "message": r.error_message, "field": r.error_field}
        results.append(item)
    return {"results": results, "accepted": response.accepted, "refused": response.refused}


def price_dict(p) -> dict:
    return {
        "exchange": p.exchange, "market": p.market, "symbol": p.symbol,
        "bid_price": p.bid_price, "bid_quantity": p.bid_quantity, "ask_price": p.ask_price, "ask_quantity": p.ask_quantity,
        "last_price": p.last_price, "timestamp": _utc(p.timestamp), "timestamp_ms": p.timestamp_ms,
    }


def _exacts(amounts) -> dict[str, Decimal]:
    return {asset: Decimal(amount) for asset, amount in sorted(amounts.items())}


def position_dict(p) -> dict:
    """side..pnl_percentage are the ledger's when 'source' is 'ledger', the venue's for a position traded outside
    the OMS ('venue'); 'venue_*' is what the venue last reported (venue_side '' when it reports none)."""
    return {
        "symbol": p.symbol, "side": p.side, "size": p.size, "entry_price": p.entry_price, "mark_price": p.mark_price,
        "unrealized_pnl": p.unrealized_pnl, "pnl_percentage": p.pnl_percentage, "leverage": p.leverage,
        "margin": p.margin, "liquidation_price": p.liquidation_price, "account_id": p.account_id,
        "exchange": p.exchange, "market": p.market, "source": p.source, "realized_pnl": p.realized_pnl,
        "fees": p.fees, "funding": p.funding, "other_fees": _exacts(p.other_fees), "venue_side": p.venue_side,
        "venue_size": p.venue_size, "venue_entry_price": p.venue_entry_price,
        "size_decimal": _exact(p.size_decimal), "entry_price_decimal": _exact(p.entry_price_decimal),
        "mark_price_decimal": _exact(p.mark_price_decimal), "unrealized_pnl_decimal": _exact(p.unrealized_pnl_decimal),
        "pnl_percentage_decimal": _exact(p.pnl_percentage_decimal), "realized_pnl_decimal": _exact(p.realized_pnl_decimal),
        "fees_decimal": _exact(p.fees_decimal), "funding_decimal": _exact(p.funding_decimal),
        "venue_size_decimal": _exact(p.venue_size_decimal), "venue_entry_price_decimal": _exact(p.venue_entry_price_decimal),
    }


def holding_dict(h) -> dict:
    """A spot holding; exact decimals (None when unknown: no price published yet)."""
    return {
        "account_id": h.account_id, "exchange": h.exchange, "asset": h.asset, "quote_asset": h.quote_asset,
        "quantity": _exact(h.quantity_decimal), "average_cost": _exact(h.average_cost_decimal),
        "realized_pnl": _exact(h.realized_pnl_decimal), "fees": _exact(h.fees_decimal),
        "other_fees": _exacts(h.other_fees), "last_price": _exact(h.last_price_decimal),
        "unrealized_pnl": _exact(h.unrealized_pnl_decimal), "pnl_percentage": _exact(h.pnl_percentage_decimal),
    }


def pnl_row_dict(r) -> dict:
    """One row of a PnL report, exact decimals in quote ('key': a day, a symbol, or '' for the total)."""
    return {
        "key": r.key, "realized_pnl": _exact(r.realized_pnl_decimal), "fees": _exact(r.fees_decimal),
        "other_fees": _exacts(r.other_fees), "funding": _exact(r.funding_decimal), "net_pnl": _exact(r.net_pnl_decimal),
        "unrealized_pnl": _exact(r.unrealized_pnl_decimal), "volume": _exact(r.volume_decimal),
        "trade_count": r.trade_count,
    }


DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def time_ms(value) -> int:
    """ms since 1970 of a datetime, a duration back from now ('24h', '90m', '7d', '2w'), an ISO time (UTC when it
    has no offset), or ms already; None or '' is 0 (the server's default)."""
    if value in (None, ""):
        return 0
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp() * 1000)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    number, unit = text[:-1], text[-1:]
    if unit in DURATION_UNITS and number.isascii() and number.isdigit():
        return int((time.time() - int(number) * DURATION_UNITS[unit]) * 1000)
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        return time_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"not a time: {value!r} (a duration like 24h or 7d, an ISO time, or ms since 1970)") from None


def candle_dict(c) -> dict:
    return {
        "open_time": datetime.fromtimestamp(c.open_time_ms / 1000, tz=UTC), "open_time_ms": c.open_time_ms,
        "close_time_ms": c.close_time_ms, "open": c.open, "high": c.high, "low": c.low, "close": c.close,
        "volume": c.volume, "open_decimal": _exact(c.open_decimal), "high_decimal": _exact(c.high_decimal),
        "low_decimal": _exact(c.low_decimal), "close_decimal": _exact(c.close_decimal),
        "volume_decimal": _exact(c.volume_decimal),
    }


class OMSClient:
    """One channel per client, reused by every call; close() (or `with`) releases it and ends streams."""

    def __init__(self, address: str = DEFAULT_ADDRESS, token: str | None = None, tls: bool = False,
                 timeout: float = 10.0, *, root_certificates: bytes | None = None, rate_limit: float | None = None,
                 retries: int = 3):
        self.address, self.timeout, self.retries = address, timeout, retries
        token = token if token is not None else os.environ.get("OMS_TOKEN") or None
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        if tls or root_certificates:
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self.channel = grpc.secure_channel(address, credentials, options=CHANNEL_OPTIONS)
        else:
            self.channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        self.stub = oms_pb2_grpc.OrderServiceStub(self.channel)
        self._limiter = RateLimiter(rate_limit) if rate_limit else None
        self._closed = threading.Event()
        self._streams: set = set()
        self._lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------------
    def _call(self, method, request, retry_codes=frozenset()):
        attempt = 0
        while True:
            if self._limiter:
                self._limiter.acquire()
            try:
                return method(request, timeout=self.timeout, metadata=self._metadata)
            except grpc.RpcError as exc:
                attempt += 1
                if exc.code() not in retry_codes or attempt > self.retries or self._closed.is_set():
                    raise
                time.sleep(min(2.0, 0.1 * 2 ** attempt) * (0.5 + random.random()))

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            streams = list(self._streams)
        for call in streams:
            call.cancel()
        self.channel.close()

    def __enter__(self) -> OMSClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- orders ---------------------------------------------------------------------------------------
    def place_order(self, symbol: str, side: str, quantity, order_type: str = "LIMIT", price=0,
                    exchange: str = "binance", market: str = "spot", account_id: str = "main", leverage: int = 0, *,
                    client_order_id: str = "", time_in_force: str = "", reduce_only: bool = False,
                    post_only: bool = False, stop_price=None) -> dict:
        """Place an order; returns {'order_id', 'exchange_order_id', 'status', 'created_at', 'reason', 'order'}.
        The server waits briefly for the venue: a resting limit order comes back NEW, a slow venue PENDING_NEW.
        `stop_price`: the trigger of a STOP_MARKET, STOP_LIMIT, TAKE_PROFIT_MARKET or TAKE_PROFIT_LIMIT order (spot),
        which waits NEW until the last price reaches it."""
        request = placement_request(symbol=symbol, side=side, quantity=quantity, order_type=order_type, price=price,
                                    exchange=exchange, market=market, account_id=account_id, leverage=leverage,
                                    client_order_id=client_order_id, time_in_force=time_in_force,
                                    reduce_only=reduce_only, post_only=post_only, stop_price=stop_price)
        response = self._call(self.stub.PlaceOrder, request, PLACE_RETRY_CODES if client_order_id else frozenset())
        return {"order_id": response.order_id, "exchange_order_id": response.exchange_order_id,
                "status": response.status, "created_at": _utc(response.created_at), "reason": response.reason,
                "order": order_dict(response.order) if response.HasField("order") else None}

    def cancel_order(self, order_id: str) -> dict:
        response = self._call(self.stub.CancelOrder, oms_pb2.CancelOrderRequest(order_id=order_id))
        return {"order_id": response.order_id, "status": response.status, "cancelled_at": _utc(response.cancelled_at),
                "order": order_dict(response.order) if response.HasField("order") else None}

    def amend_order(self, order_id: str, price=0, quantity=0) -> dict:
        """A working LIMIT order's new price and/or quantity (0 = unchanged; Decimal or str sent exact). USD-M takes
        either; spot only a quantity decrease. Returns {'order', 'amend_pending'}: pending means no venue answer yet,
        and the order stream tells the outcome (event AMENDED or AMEND_REFUSED). Never retried: a lost answer is
        settled by the OMS, and a second amend while one is on its way is refused (ALREADY_EXISTS)."""
        px, px_exact = _number(price)
        qty, qty_exact = _number(quantity)
        response = self._call(self.stub.AmendOrder, oms_pb2.AmendOrderRequest(
            order_id=order_id, price=px, quantity=qty, price_decimal=px_exact, quantity_decimal=qty_exact))
        return {"order": order_dict(response.order), "amend_pending": response.amend_pending}

    # -- batches --------------------------------------------------------------------------------------
    def place_orders(self, orders: list[dict]) -> dict:
        """Place up to 50 orders in one call, each on its own (the keyword arguments of place_order per order).
        Returns {'results': [{'index', 'ok', 'order' | 'error': {'code', 'message', 'field'}}], 'accepted',
        'refused'}; a refused order leaves the others placed. Retried only when every order has a client_order_id."""
        request = oms_pb2.PlaceOrdersRequest(orders=[placement_request(**order) for order in orders])
        retry = PLACE_RETRY_CODES if orders and all(o.get("client_order_id") for o in orders) else frozenset()
        return batch_dict(self._call(self.stub.PlaceOrders, request, retry))

    def cancel_orders(self, order_ids: list[str]) -> dict:
        """Request cancellation of up to 50 orders; a result per id (NOT_FOUND / FAILED_PRECONDITION when refused)."""
        return batch_dict(self._call(self.stub.CancelOrders, oms_pb2.CancelOrdersRequest(order_ids=list(order_ids))))

    def cancel_all_orders(self, account_id: str = "main", symbol: str = "", exchange: str = "") -> list[dict]:
        """Cancel every working order of the account (of one symbol if given); returns the orders now pending cancel."""
        request = oms_pb2.CancelAllOrdersRequest(account_id=account_id, symbol=symbol, exchange=exchange)
        return [order_dict(o) for o in self._call(self.stub.CancelAllOrders, request).orders]

    def get_order(self, order_id: str) -> dict:
        response = self._call(self.stub.GetOrder, oms_pb2.GetOrderRequest(order_id=order_id), READ_RETRY_CODES)
        return order_dict(response.order)

    def list_orders(self, status: str = "", symbol: str = "", exchange: str = "", account_id: str = "",
                    market: str = "", limit: int | None = 100) -> list[dict]:
        """Orders newest first, following pages until `limit` orders (None = all)."""
        orders: list[dict] = []
        token = ""
        while True:
            page_size = 1000 if limit is None else min(1000, limit - len(orders))
            request = oms_pb2.ListOrdersRequest(status=status, symbol=symbol, exchange=exchange, account_id=account_id,
                                                market=market, limit=page_size, page_token=token)
            response = self._call(self.stub.ListOrders, request, READ_RETRY_CODES)
            orders.extend(order_dict(o) for o in response.orders)
            token = response.next_page_token
            if not token or (limit is not None and len(orders) >= limit):
                return orders

    # -- account --------------------------------------------------------------------------------------
    def get_balance(self, exchange: str = "binance", market: str = "spot", account_id: str = "main") -> dict:
        """{asset: {'free', 'locked', 'total'}} as floats (exact strings under 'free_decimal'/'locked_decimal')."""
        request = oms_pb2.GetBalanceRequest(exchange=exchange, market=market, account_id=account_id)
        response = self._call(self.stub.GetBalance, request, READ_RETRY_CODES)
        return {b.asset: {"free": b.free, "locked": b.locked, "total": b.total or b.free + b.locked,
                          "free_decimal": _exact(b.free_decimal), "locked_decimal": _exact(b.locked_decimal)}
                for b in response.balances}

    def get_positions(self, exchange: str = "", account_id: str = "", symbol: str = "") -> list[dict]:
        """Open positions (position_dict: the ledger's figures beside the venue's)."""
        return [position_dict(p) for p in self._positions(exchange, account_id, symbol).positions]

    def get_holdings(self, exchange: str = "", account_id: str = "") -> list[dict]:
        """Spot holdings with their average cost (holding_dict)."""
        return [holding_dict(h) for h in self._positions(exchange, account_id, "").holdings]

    def _positions(self, exchange: str, account_id: str, symbol: str):
        request = oms_pb2.GetPositionsRequest(exchange=exchange, account_id=account_id, symbol=symbol)
        return self._call(self.stub.GetPositions, request, READ_RETRY_CODES)

    def get_pnl(self, since=None, until=None, group_by: str = "", account_id: str = "", exchange: str = "") -> dict:
        """Profit and loss of the ledger's fills and funding from `since` to `until` (datetimes, ms, ISO times or
        durations back from now like '24h'; default today 00:00 UTC to now), per 'day' or 'symbol' when
        `group_by`: {'rows': [...], 'total': {...}, 'since', 'until', 'group_by', 'account_ids'} (pnl_row_dict)."""
        request = oms_pb2.GetPnLRequest(exchange=exchange, account_id=account_id, since_ms=time_ms(since),
                                        until_ms=time_ms(until), group_by=group_by)
        response = self._call(self.stub.GetPnL, request, READ_RETRY_CODES)
        return {"rows": [pnl_row_dict(r) for r in response.rows], "total": pnl_row_dict(response.total),
                "since": datetime.fromtimestamp(response.since_ms / 1000, tz=UTC),
                "until": datetime.fromtimestamp(response.until_ms / 1000, tz=UTC),
                "group_by": response.group_by, "account_ids": list(response.account_ids)}

    # -- market data ----------------------------------------------------------------------------------
    def get_candles(self, symbol: str, interval: str = "1m", limit: int = 500, since=None, exchange: str = "binance",
                    market: str = "spot") -> list[dict]:
        """Candles oldest first (the last still open), read by the OMS from the venue: 'open_time' (UTC datetime),
        'open_time_ms', 'close_time_ms', open/high/low/close/volume as floats and exact under '*_decimal'.
        `since`: a datetime or ms since 1970, the first open time wanted (default: the latest candles)."""
        since_ms = int(since.timestamp() * 1000) if isinstance(since, datetime) else int(since or 0)
        request = oms_pb2.GetCandlesRequest(symbol=symbol, interval=interval, limit=limit, since_ms=since_ms,
                                            exchange=exchange, market=market)
        response = self._call(self.stub.GetCandles, request, READ_RETRY_CODES)
        return [candle_dict(c) for c in response.candles]

    # -- streams --------------------------------------------------------------------------------------
    def _resilient(self, open_stream: Callable[[], object], *, reconnect: bool, on_message: Callable = lambda m: None):
        """Yield messages from open_stream(), reopening it with backoff when the server ends it."""
        backoff = 0.5
        while not self._closed.is_set():
            call = open_stream()
            with self._lock:
                self._streams.add(call)
            try:
                for message in call:
                    backoff = 0.5
                    on_message(message)
                    yield message
                code = None  # the server ended the stream cleanly
            except grpc.RpcError as exc:
                code = exc.code()
                if self._closed.is_set():
                    return
                if not reconnect or code not in STREAM_RESUME_CODES:
                    raise
            finally:
                with self._lock:
                    self._streams.discard(call)
                call.cancel()
            if not reconnect:
                return
            self._closed.wait(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 30.0)

    def iter_prices(self, symbols=None, *, exchange: str = "", market: str = "", reconnect: bool = True) -> Iterator[dict]:
        request = oms_pb2.StreamPricesRequest(symbols=list(symbols or []), exchange=exchange, market=market)
        for message in self._resilient(lambda: self.stub.StreamPrices(request, metadata=self._metadata), reconnect=reconnect):
            yield price_dict(message)

    def iter_orders(self, account_id: str = "", since_sequence: int = 0, *, reconnect: bool = True) -> Iterator[dict]:
        """Order updates {'update_type', 'sequence', 'order', ...}; after a reconnect the server replays what may
        have been missed since the highest sequence delivered, including updates that committed later with lower
        sequences; those already delivered are dropped here (none is delivered twice)."""
        state = {"last": since_sequence}
        recent: deque[int] = deque(maxlen=10_000)
        seen: set[int] = set()

        def open_stream():
            request = oms_pb2.StreamOrdersRequest(account_id=account_id, since_sequence=state["last"])
            return self.stub.StreamOrders(request, metadata=self._metadata)

        for message in self._resilient(open_stream, reconnect=reconnect):
            if message.sequence in seen:
                continue
            if len(recent) == recent.maxlen:
                seen.discard(recent[0])
            recent.append(message.sequence)
            seen.add(message.sequence)
            state["last"] = max(state["last"], message.sequence)
            yield {"update_type": message.update_type, "sequence": message.sequence, "event_kind": message.event_kind,
                   "at_ms": message.at_ms, "order": order_dict(message.order)}

    def stream_prices(self, symbols=None, callback: Callable[[dict], object] | None = None, *, exchange: str = "",
                      market: str = "", max_updates: int | None = None, reconnect: bool = True) -> int:
        """Call callback(update) for each price update (empty symbols = all) until it returns False,
        max_updates arrived, or close(); returns how many were delivered."""
        return _drive(self.iter_prices(symbols, exchange=exchange, market=market, reconnect=reconnect), callback, max_updates)

    def stream_orders(self, callback: Callable[[dict], object] | None = None, account_id: str = "", since_sequence: int = 0,
                      *, max_updates: int | None = None, reconnect: bool = True) -> int:
        return _drive(self.iter_orders(account_id, since_sequence, reconnect=reconnect), callback, max_updates)


def _drive(updates: Iterator[dict], callback, max_updates: int | None) -> int:
    count = 0
    try:
        for update in updates:
            count += 1
            if (callback(update) if callback else print(update)) is False or count == max_updates:
                break
    finally:
        updates.close()
    return count


# -- CLI ----------------------------------------------------------------------------------------------
def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _fmt_order(o: dict) -> str:
    price = o["price_decimal"] if o["price_decimal"] is not None else o["price"]
    return (f"{o['order_id']}  {o['account_id']} {o['exchange']}/{o['market']}  {o['side']} {o['order_type']} "
            f"{o['quantity_decimal'] or o['quantity']} {o['symbol']} @ {price or 'market'}  "
            + (f"stop {o['stop_price']} ({'triggered' if o['triggered_at'] else 'armed'})  " if o["stop_price"] else "")
            +
            f"filled {o['filled_quantity_decimal'] or o['filled_quantity']}  {o['status']}"
            + (f"  ({o['reason']})" if o["reason"] else ""))


def _fmt_result(item: dict) -> str:
    if item["ok"]:
        return f"[{item['index']}] {_fmt_order(item['order'])}"
    error = item["error"]
    return f"[{item['index']}] refused {error['code']}: {error['message']}"


PLACE_KEYS = ("symbol", "side", "quantity", "order_type", "price", "exchange", "market", "account_id", "leverage",
              "client_order_id", "time_in_force", "reduce_only", "post_only")


def _orders_file(path: str) -> list[dict]:
    """A JSON list of orders (place_order's keyword arguments) from a file or stdin; numbers are read exactly."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror}") from None
    try:
        orders = json.loads(text, parse_float=Decimal)  # 0.001 stays exactly 0.001 on the wire
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from None
    if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
        raise ValueError(f"{path}: expected a JSON list of orders (objects)")
    for index, order in enumerate(orders):
        unknown = sorted(set(order) - set(PLACE_KEYS))
        if unknown:
            raise ValueError(f"{path}: order {index}: unknown keys {', '.join(unknown)} (known: {', '.join(PLACE_KEYS)})")
        missing = [key for key in ("symbol", "side", "quantity") if key not in order]
        if missing:
            raise ValueError(f"{path}: order {index}: {', '.join(missing)} required")
    return orders


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oms_client.py", description="OMS gRPC client")
    parser.add_argument("--server", default=os.environ.get("OMS_SERVER", DEFAULT_ADDRESS), help="host:port (env OMS_SERVER)")
    parser.add_argument("--token", default=os.environ.get("OMS_TOKEN"), help="API token (env OMS_TOKEN)")
    parser.add_argument("--tls", action="store_true", help="use TLS (system roots, or --ca)")
    parser.add_argument("--ca", help="PEM file with the CA that signed the server's certificate")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    sub = parser.add_subparsers(dest="command", required=True)

    place = sub.add_parser("place", help="place an order")
    place.add_argument("--symbol", required=True)
    place.add_argument("--side", required=True, help="BUY or SELL")
    place.add_argument("--quantity", required=True)
    place.add_argument("--price", default="0", help="limit price (omit for MARKET)")
    place.add_argument("--type", dest="order_type", default="LIMIT",
                       help="LIMIT (default), MARKET, STOP_MARKET, STOP_LIMIT, TAKE_PROFIT_MARKET or TAKE_PROFIT_LIMIT")
    place.add_argument("--stop-price", default=None, help="trigger price of a STOP_* or TAKE_PROFIT_* order (spot)")
    place.add_argument("--market", default="spot", help="spot (default) or futures")
    place.add_argument("--leverage", type=int, default=0, help="futures leverage")
    place.add_argument("--exchange", default="binance")
    place.add_argument("--account", default="main")
    place.add_argument("--client-order-id", default="", help="idempotency key: a repeat returns the first order")
    place.add_argument("--tif", default="", help="time in force: GTC, IOC or FOK")

    batch = sub.add_parser("place-batch", help="place up to 50 orders from a JSON file (- for stdin), each on its own")
    batch.add_argument("file", help='a JSON list of orders, e.g. [{"symbol": "BTCUSDT", "side": "BUY", "quantity": '
                                    '"0.001", "price": "115000"}] (keys as place_order takes them)')
    cancel_batch = sub.add_parser("cancel-batch", help="cancel up to 50 orders by id")
    cancel_batch.add_argument("--ids", required=True, nargs="+", help="order ids")
    cancel_all = sub.add_parser("cancel-all", help="cancel every working order of an account (one symbol if given)")
    cancel_all.add_argument("--account", default="main")
    cancel_all.add_argument("--symbol", default="")
    cancel_all.add_argument("--exchange", default="")

    amend = sub.add_parser("amend", help="a working LIMIT order's new price and/or quantity (spot: a quantity "
                                         "decrease only); the order keeps its ids")
    amend.add_argument("--id", required=True, help="order id")
    amend.add_argument("--price", default="0", help="new limit price (futures)")
    amend.add_argument("--quantity", default="0", help="new quantity, above what already filled")

    for name, text in (("cancel", "cancel an order"), ("get", "show an order")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--id", required=True, help="order id")

    lst = sub.add_parser("list", help="list orders, newest first")
    lst.add_argument("--status", default="", help="a status, or OPEN for every working order")
    lst.add_argument("--symbol", default="")
    lst.add_argument("--exchange", default="")
    lst.add_argument("--account", default="")
    lst.add_argument("--limit", type=int, default=100)

    bal = sub.add_parser("balance", help="show balances")
    bal.add_argument("--exchange", default="binance")
    bal.add_argument("--market", default="spot")
    bal.add_argument("--account", default="main")

    pos = sub.add_parser("positions", help="show open positions (the ledger's beside the venue's)")
    pos.add_argument("--exchange", default="")
    pos.add_argument("--account", default="")
    pos.add_argument("--symbol", default="")

    held = sub.add_parser("holdings", help="show spot holdings at their average cost")
    held.add_argument("--exchange", default="")
    held.add_argument("--account", default="")

    pnl = sub.add_parser("pnl", help="realized PnL, fees, funding, volume and trades over a time range")
    pnl.add_argument("--since", default="", help="24h, 7d, an ISO time or ms (default: today 00:00 UTC)")
    pnl.add_argument("--until", default="", help="as --since (default: now)")
    pnl.add_argument("--group-by", default="", choices=["", "day", "symbol"], help="one row per UTC day or symbol")
    pnl.add_argument("--account", default="", help="default: every account you may see")
    pnl.add_argument("--exchange", default="")

    prices = sub.add_parser("stream", help="stream prices")
    prices.add_argument("--symbols", nargs="*", default=["BTCUSDT", "ETHUSDT"], help="symbols (none = all)")
    prices.add_argument("--count", type=int, default=None, help="stop after this many updates")

    candles = sub.add_parser("candles", help="show candles from the venue, oldest first")
    candles.add_argument("--symbol", required=True)
    candles.add_argument("--interval", default="1m", help="1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M")
    candles.add_argument("--limit", type=int, default=100, help="1 to 1000 (default %(default)s)")
    candles.add_argument("--since", type=int, default=0, help="first open time, ms since 1970 (default: the latest)")
    candles.add_argument("--market", default="spot")
    candles.add_argument("--exchange", default="binance")

    orders = sub.add_parser("stream-orders", help="stream order updates")
    orders.add_argument("--account", default="")
    orders.add_argument("--since", type=int, default=0, help="replay updates after this sequence first")
    orders.add_argument("--count", type=int, default=None, help="stop after this many updates")
    return parser


def run(args, client: OMSClient, out) -> None:
    def show(data, text):
        print(json.dumps(_jsonable(data)) if args.json else text, file=out, flush=True)

    if args.command == "place":
        r = client.place_order(symbol=args.symbol, side=args.side, quantity=args.quantity, order_type=args.order_type,
                               price=args.price, exchange=args.exchange, market=args.market, account_id=args.account,
                               leverage=args.leverage, client_order_id=args.client_order_id, time_in_force=args.tif,
                               stop_price=args.stop_price)
        show(r, f"Order placed: {r['order_id']}  status {r['status']}"
                + (f"  exchange id {r['exchange_order_id']}" if r["exchange_order_id"] else "")
                + (f"  ({r['reason']})" if r["reason"] else ""))
    elif args.command in ("place-batch", "cancel-batch"):
        r = (client.place_orders(_orders_file(args.file)) if args.command == "place-batch"
             else client.cancel_orders(args.ids))
        show(r, "\n".join(_fmt_result(item) for item in r["results"])
             + f"\n{r['accepted']} accepted, {r['refused']} refused")
    elif args.command == "cancel-all":
        orders = client.cancel_all_orders(account_id=args.account, symbol=args.symbol, exchange=args.exchange)
        show(orders, "\n".join(_fmt_order(o) for o in orders) + f"\n{len(orders)} orders pending cancel")
    elif args.command == "cancel":
        r = client.cancel_order(args.id)
        show(r, f"Order {r['order_id']}: {r['status']}")
    elif args.command == "amend":
        r = client.amend_order(args.id, price=args.price, quantity=args.quantity)
        show(r, _fmt_order(r["order"]) + ("\namend pending: no venue answer yet" if r["amend_pending"] else ""))
    elif args.command == "get":
        o = client.get_order(args.id)
        show(o, _fmt_order(o))
    elif args.command == "list":
        orders = client.list_orders(status=args.status, symbol=args.symbol, exchange=args.exchange,
                                    account_id=args.account, limit=args.limit)
        show(orders, "\n".join(_fmt_order(o) for o in orders) or "no orders")
    elif args.command == "balance":
        balances = client.get_balance(exchange=args.exchange, market=args.market, account_id=args.account)
        show(balances, "\n".join(f"{asset}: free {b['free_decimal']}  locked {b['locked_decimal']}  total {b['total']:.8f}"
                                 for asset, b in balances.items()) or "no balances")
    elif args.command == "positions":
        positions = client.get_positions(exchange=args.exchange, account_id=args.account, symbol=args.symbol)
        show(positions, "\n".join(
            f"{p['account_id']} {p['symbol']} {p['side']} {p['size_decimal'] or p['size']} @ "
            f"{p['entry_price_decimal'] or p['entry_price']}  mark {p['mark_price']}  pnl {p['unrealized_pnl']:.2f} "
            f"({p['pnl_percentage']:.2f}%)  realized {p['realized_pnl_decimal']}  fees {p['fees_decimal']}  "
            f"funding {p['funding_decimal']}  x{p['leverage']}  [{p['source']}; venue "
            f"{p['venue_side'] or 'none'} {p['venue_size_decimal'] or ''}]" for p in positions) or "no positions")
    elif args.command == "holdings":
        holdings = client.get_holdings(exchange=args.exchange, account_id=args.account)
        show(holdings, "\n".join(f"{h['account_id']} {h['asset']} {h['quantity']} @ {h['average_cost']} "
                                 f"{h['quote_asset']}  last {h['last_price']}  pnl {h['unrealized_pnl']}  "
                                 f"realized {h['realized_pnl']}" for h in holdings) or "no holdings")
    elif args.command == "pnl":
        report = client.get_pnl(since=args.since, until=args.until, group_by=args.group_by, account_id=args.account,
                                exchange=args.exchange)

        def line(r: dict, key: str) -> str:
            other = "".join(f" +{amount} {asset}" for asset, amount in r["other_fees"].items())
            return (f"{key:<12} realized {r['realized_pnl']}  fees {r['fees']}{other}  funding {r['funding']}  "
                    f"net {r['net_pnl']}  unrealized {r['unrealized_pnl']}  volume {r['volume']}  trades {r['trade_count']}")
        show(report, "\n".join([f"pnl of {','.join(report['account_ids'])} from {report['since']:%Y-%m-%dT%H:%M:%SZ} "
                                f"to {report['until']:%Y-%m-%dT%H:%M:%SZ}",
                                *(line(r, r["key"]) for r in report["rows"]), line(report["total"], "TOTAL")]))
    elif args.command == "candles":
        rows = client.get_candles(args.symbol, interval=args.interval, limit=args.limit, since=args.since,
                                  exchange=args.exchange, market=args.market)
        show(rows, "\n".join(f"{c['open_time']:%Y-%m-%dT%H:%M:%SZ}  O {c['open_decimal']}  H {c['high_decimal']}  "
                              f"L {c['low_decimal']}  C {c['close_decimal']}  V {c['volume_decimal']}" for c in rows)
             or "no candles")
    elif args.command == "stream":
        client.stream_prices(args.symbols, lambda u: show(u, f"{u['symbol']}: ${u['last_price']:.2f}  "
                                                             f"bid {u['bid_price']} ask {u['ask_price']}"),
                             max_updates=args.count)
    elif args.command == "stream-orders":
        client.stream_orders(lambda u: show(u, f"#{u['sequence']} {u['update_type']:<9} {_fmt_order(u['order'])}"),
                             account_id=args.account, since_sequence=args.since, max_updates=args.count)


def main(argv: list[str] | None = None, out=None) -> int:
    args = build_parser().parse_args(argv)
    root = Path(args.ca).read_bytes() if args.ca else None
    try:
        with OMSClient(args.server, token=args.token, tls=args.tls, timeout=args.timeout, root_certificates=root) as client:
            run(args, client, out or sys.stdout)
    except grpc.RpcError as exc:
        print(f"Error: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
