"""Candles for dashboards and clients: read from the venue through the gateway (public data, no credentials),
kept a few seconds (`OMS_CANDLES_CACHE_SECONDS`) in the shared cache so many dashboards cost the venue one
request. The REST API and gRPC reach it through `infra.ports.candles` (the ledger's adapters may not import
the gateway)."""
from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from decimal import Decimal

import ccxt
from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, IntegerField, Value, When

from accounts.models import Market
from accounts.selectors import accounts_for_user
from exchanges.gateway import public_gateway
from exchanges.models import Instrument
from infra.errors import InvalidInput, NotFound, Unavailable, echo
from venues.symbols import symbol_normalize

log = logging.getLogger(__name__)

INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 500


def _close_time(interval: str, open_time: int, duration_ms: int) -> int:
    if interval != "1M":
        return open_time + duration_ms - 1
    start = datetime.fromtimestamp(open_time / 1000, UTC)
    following = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
    return int(following.timestamp() * 1000) - 1


def _decimal(value) -> str:
    return format(Decimal(str(value)).normalize(), "f") if value is not None else "0"


def candles_list(*, user, exchange: str = "", market: str = "", symbol: str = "", interval: str = "",
                 since: int | None = None, limit: int | None = None) -> list[dict]:
    """Candles of one instrument, oldest first: `since` (ms) the first open time wanted (else the latest),
    at most `limit` (1..1000, default 500). Each: open_time, close_time (ms), open, high, low, close, volume
    (exact decimal strings). The venue is read through an account of the caller's on that exchange."""
    exchange = (exchange or "binance").strip().lower()
    market = (market or Market.SPOT).strip().lower()
    if market not in (Market.SPOT, Market.FUTURES):
        raise InvalidInput(f"must be 'spot' or 'futures', not {echo(market)}", field="market")
    native = symbol_normalize(symbol)
    if not native:
        raise InvalidInput("is required (e.g. BTCUSDT)", field="symbol")
    if interval not in INTERVALS:
        raise InvalidInput(f"must be one of {', '.join(INTERVALS)}, not {echo(interval)}", field="interval")
    if since is not None and since < 0:
        raise InvalidInput(f"must be a time in ms since 1970 (0 or more), not {since}", field="since")
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"must be from 1 to {MAX_LIMIT}, not {limit}", field="limit")
    account = (accounts_for_user(user).filter(exchange=exchange)
               .order_by(Case(When(enabled=True, then=Value(0)), default=Value(1), output_field=IntegerField()), "pk")
               .first())
    if account is None:
        raise NotFound(f"none of your accounts trades on {echo(exchange)}", field="exchange")
    instrument = Instrument.objects.filter(exchange=exchange, market=market, symbol=native).first()
    if instrument is None:
        raise NotFound(f"{echo(native)} is not an instrument of {exchange} {market}", field="symbol")
    key = "candles:" + hashlib.sha256(repr((account.exchange, account.sandbox, account.base_url, market, native,
                                           interval, since, limit)).encode()).hexdigest()
    rows = cache.get(key)
    if rows is None:
        rows = _read(account, instrument.ccxt_symbol, interval, since, limit)
        cache.set(key, rows, settings.OMS_CANDLES_CACHE_SECONDS)
    return rows


def _read(account, ccxt_symbol: str, interval: str, since: int | None, limit: int) -> list[dict]:
    gateway = public_gateway(account)
    duration = int(gateway.client.parse_timeframe(interval) * 1000)
    try:
        raw = gateway.fetch_ohlcv(ccxt_symbol, interval, since, limit)
    except ccxt.BaseError as exc:
        log.warning("candles of %s from %s unavailable: %s", ccxt_symbol, account.name, exc)
        raise Unavailable(f"candles of {ccxt_symbol} are unavailable from {account.exchange} right now "
                          f"({type(exc).__name__}); retry shortly") from None
    return [{"open_time": int(t), "close_time": _close_time(interval, int(t), duration), "open": _decimal(o), "high": _decimal(h),
             "low": _decimal(lo), "close": _decimal(c), "volume": _decimal(v)} for t, o, h, lo, c, v in raw]
