"""Binance's public market-data, fee and status routes of the venue (handlers: parse, ask, render).

Candles: spot `/api/v3/klines`, `/api/v3/uiKlines`; USD-M `/fapi/v1/klines`, `/fapi/v1/markPriceKlines`.
Public trades: `…/trades`, `…/historicalTrades`, `…/aggTrades` of both. Fees: `/sapi/v1/asset/tradeFee` (signed),
`/fapi/v1/commissionRate` (signed). Status: `/sapi/v1/system/status`. Funding: `/fapi/v1/premiumIndex`,
`/fapi/v1/fundingRate` (funding_rates). `ROUTES` lists them as (method, path, handler, market, weight, signed)."""
from __future__ import annotations

from decimal import Decimal

from . import funding, refusals
from .candles import INTERVALS, MINUTE
from .funding_rates import FUNDING_INTERVAL_MS, funding_rate, funding_time_at_or_before
from .instruments import FUTURES, INSTRUMENTS, SPOT
from .public_data import s
from .refusals import VenueError

KLINE_LIMITS = {SPOT: 1000, FUTURES: 1500}


def _key(ctx) -> tuple[str, str]:
    return ctx.market, ctx.venue.instrument(ctx.market, ctx.params.get("symbol")).symbol


def _interval(ctx) -> str:
    interval = ctx.params.get("interval")
    if not interval:
        raise refusals.mandatory("interval")
    if interval not in INTERVALS:
        raise VenueError(-1120, "Invalid interval.")
    return interval


def _limit(ctx, default: int, most: int) -> int:
    raw = ctx.params.get("limit")
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise refusals.illegal_chars("limit", f"1..{most}")
    return int(raw)


def _times(ctx) -> tuple[int | None, int | None]:
    start, end = ctx.venue.integer(ctx.params, "startTime"), ctx.venue.integer(ctx.params, "endTime")
    if start is not None and end is not None and start > end:
        raise VenueError(-1023, "Start time is greater than end time.")
    return start, end


def _klines(ctx, mark: bool = False) -> list[list]:
    key = _key(ctx)
    interval = _interval(ctx)
    limit = _limit(ctx, 500, KLINE_LIMITS[ctx.market])
    start, end = _times(ctx)
    md = ctx.venue.market_data
    bars = md.candles.klines(key, interval, start, end, limit, ctx.venue.now(), mark=mark)
    return [md.kline_row(key[0], key[1], bar, mark=mark) for bar in bars]


def klines(ctx): return _klines(ctx)
def mark_price_klines(ctx): return _klines(ctx, mark=True)


def trades(ctx):
    key = _key(ctx)
    md = ctx.venue.market_data
    return [md.trade_row(*key, t) for t in md.aggregates.recent(md.tape.trades.get(key, ()), ctx.params)]


def historical_trades(ctx):
    key = _key(ctx)
    md = ctx.venue.market_data
    most, default = (1000, 500) if ctx.market == SPOT else (500, 100)
    rows = md.aggregates.historical(md.tape.trades.get(key, ()), ctx.params, ctx.venue.integer, most, default)
    return [md.trade_row(*key, t) for t in rows]


def agg_trades(ctx):
    key = _key(ctx)
    md = ctx.venue.market_data
    return [md.agg_row(*key, a) for a in md.aggregates.aggregates(key, ctx.params, ctx.venue.integer)]


def _rate(value: Decimal) -> str:
    return format(value.normalize(), "f")


def trade_fee(ctx):
    """Spot rates of the calling key, for one symbol or all."""
    symbols = [_key(ctx)[1]] if ctx.params.get("symbol") else list(INSTRUMENTS[SPOT])
    rows = []
    for symbol in symbols:
        maker, taker = ctx.venue.fees.rates(ctx.account.api_key, SPOT, symbol)
        rows.append({"symbol": symbol, "makerCommission": _rate(maker), "takerCommission": _rate(taker)})
    return rows


def commission_rate(ctx):
    symbol = _key(ctx)[1]
    maker, taker = ctx.venue.fees.rates(ctx.account.api_key, FUTURES, symbol)
    return {"symbol": symbol, "makerCommissionRate": _rate(maker), "takerCommissionRate": _rate(taker),
            "rpiCommissionRate": "0"}


def system_status(ctx): return {"status": 0, "msg": "normal"}


def _premium(venue, symbol: str) -> dict:
    mark = venue.books[(FUTURES, symbol)].mid
    rate, upcoming = funding.published(venue, symbol, venue.venue_now())  # what the next settlement pays
    return {"symbol": symbol, "markPrice": s(mark, 8), "indexPrice": s(mark, 8), "estimatedSettlePrice": s(mark, 8),
            "lastFundingRate": s(rate, 8), "interestRate": "0.00010000", "nextFundingTime": upcoming,
            "time": venue.now()}


def premium_index(ctx):
    if ctx.params.get("symbol"):
        return _premium(ctx.venue, _key(ctx)[1])
    return [_premium(ctx.venue, symbol) for symbol in INSTRUMENTS[FUTURES]]


def funding_rate_history(ctx):
    """Settled funding rates, oldest first: from startTime (`limit` of them), else the latest `limit` up to endTime."""
    symbols = [_key(ctx)[1]] if ctx.params.get("symbol") else list(INSTRUMENTS[FUTURES])
    limit = _limit(ctx, 100, 1000)
    start, end = _times(ctx)
    venue, md = ctx.venue, ctx.venue.market_data
    now = venue.now()
    settled = venue.venue_now()  # funding runs on venue time (funding.py)
    last = funding_time_at_or_before(min(settled, end if end is not None else settled))
    rows = []
    for symbol in symbols:
        first = funding_time_at_or_before(md.candles.first_open((FUTURES, symbol))) + FUNDING_INTERVAL_MS
        if start is not None:
            t = max(first, funding_time_at_or_before(start - 1) + FUNDING_INTERVAL_MS)
            times = []
            while t <= last and len(times) < limit:
                times.append(t)
                t += FUNDING_INTERVAL_MS
        else:
            stop = max(first - FUNDING_INTERVAL_MS, last - limit * FUNDING_INTERVAL_MS)
            times = list(range(last, stop, -FUNDING_INTERVAL_MS))[::-1]
        for t in times:
            bar = md.candles.window((FUTURES, symbol), t - MINUTE, t, now, mark=True)
            rows.append({"symbol": symbol, "fundingTime": t, "fundingRate": s(funding_rate(venue.seed, symbol, t), 8),
                         "markPrice": s(bar.c, 8) if bar is not None else ""})
    rows.sort(key=lambda r: (r["fundingTime"], r["symbol"]))
    return rows[:limit] if start is not None else rows[-limit:]


def _kline_weight(params: dict) -> int:
    """USD-M weighs klines by the limit asked for."""
    raw = params.get("limit") or "500"
    limit = int(raw) if raw.isdigit() else 500
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


ROUTES = [
    ("GET", "/api/v3/klines", klines, SPOT, 2, False),
    ("GET", "/api/v3/uiKlines", klines, SPOT, 2, False),
    ("GET", "/api/v3/trades", trades, SPOT, 25, False),
    ("GET", "/api/v3/historicalTrades", historical_trades, SPOT, 25, False),
    ("GET", "/api/v3/aggTrades", agg_trades, SPOT, 4, False),
    ("GET", "/sapi/v1/asset/tradeFee", trade_fee, SPOT, 1, True),
    ("GET", "/sapi/v1/system/status", system_status, SPOT, 1, False),
    ("GET", "/fapi/v1/klines", klines, FUTURES, _kline_weight, False),
    ("GET", "/fapi/v1/markPriceKlines", mark_price_klines, FUTURES, _kline_weight, False),
    ("GET", "/fapi/v1/trades", trades, FUTURES, 5, False),
    ("GET", "/fapi/v1/historicalTrades", historical_trades, FUTURES, 20, False),
    ("GET", "/fapi/v1/aggTrades", agg_trades, FUTURES, 20, False),
    ("GET", "/fapi/v1/commissionRate", commission_rate, FUTURES, 20, True),
    ("GET", "/fapi/v1/premiumIndex", premium_index, FUTURES, lambda p: 1 if p.get("symbol") else 10, False),
    ("GET", "/fapi/v1/fundingRate", funding_rate_history, FUTURES, 1, False),
]
