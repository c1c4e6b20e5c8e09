"""Candles of the venue: Binance's klines for every interval from 1m to 1M, built from what traded.

Time before the venue started (`anchor`, its first whole minute) is a seeded history: day bars from a walk that
ends at the venue's starting price, split on demand into hours and those into minutes, each split keeping its
parent's open, high, low, close, volume, trade count and taker-buy volume exactly, so every interval agrees with
every other. From the anchor on, minute bars come from the public tape (every trade the venue printed: the
synthetic flow and the accounts' own fills), so a candle's volume is the sum of the trades in its window and the
last candle's close is the last trade. Mark-price candles follow the book's mid, sampled on every tick.
"""
from __future__ import annotations

import bisect
import calendar
import math
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .instruments import INSTRUMENTS, Instrument

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
HISTORY_DAYS = 3000  # the seeded history starts this many days before the venue (a listing date)
DAY_VOLATILITY = 0.035
PRINTS_PER_MINUTE = 120  # the synthetic flow's rate (public_trades: 0.4 prints a tick, 5 ticks a second)
PRINT_LOTS = (0.01, 0.2)  # a synthetic print's size, in lots of the instrument
ZERO = Decimal(0)

# Binance's intervals: fixed lengths, except the week (from Monday 00:00 UTC) and the calendar month.
INTERVALS: dict[str, int] = {
    "1m": MINUTE, "3m": 3 * MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE, "30m": 30 * MINUTE,
    "1h": HOUR, "2h": 2 * HOUR, "4h": 4 * HOUR, "6h": 6 * HOUR, "8h": 8 * HOUR, "12h": 12 * HOUR,
    "1d": DAY, "3d": 3 * DAY, "1w": WEEK, "1M": 31 * DAY,
}
MONDAY_OFFSET = 4 * DAY  # 1970-01-01 was a Thursday


def floor_to(t: int, unit: int) -> int:
    return t - t % unit


def _month_start(t: int) -> int:
    d = datetime.fromtimestamp(t / 1000, UTC)
    return calendar.timegm((d.year, d.month, 1, 0, 0, 0)) * 1000


def _next_month(start: int) -> int:
    d = datetime.fromtimestamp(start / 1000, UTC)
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000


def open_time(interval: str, t: int) -> int:
    """The open time of the candle of `interval` holding `t`."""
    if interval == "1M":
        return _month_start(t)
    if interval == "1w":
        return floor_to(t - MONDAY_OFFSET, WEEK) + MONDAY_OFFSET
    return floor_to(t, INTERVALS[interval])


def next_open(interval: str, start: int) -> int:
    return _next_month(start) if interval == "1M" else start + (WEEK if interval == "1w" else INTERVALS[interval])


@dataclass(slots=True)
class Bar:
    """OHLC and volumes of one window [t, end). `q`/`bq` are quote volumes; `n` the number of trades (for mark
    bars: price samples); `first_id`/`last_id` the window's first and last trade id (-1 when unknown)."""
    t: int
    end: int
    o: Decimal
    h: Decimal
    low: Decimal
    c: Decimal
    v: Decimal = ZERO
    q: Decimal = ZERO
    n: int = 0
    bv: Decimal = ZERO
    bq: Decimal = ZERO
    first_id: int = -1
    last_id: int = -1

    def merge(self, other: Bar) -> Bar:
        """This window followed by `other`."""
        return Bar(self.t, other.end, self.o, max(self.h, other.h), min(self.low, other.low), other.c,
                   self.v + other.v, self.q + other.q, self.n + other.n, self.bv + other.bv, self.bq + other.bq,
                   self.first_id if self.first_id >= 0 else other.first_id,
                   other.last_id if other.last_id >= 0 else self.last_id)


def _round(value: float | Decimal, unit: Decimal, rounding=ROUND_HALF_UP) -> Decimal:
    """`value` to a multiple of `unit` (floats through integers: the generator makes many of them)."""
    if isinstance(value, float):
        steps = value / float(unit)
        return unit * (math.floor(steps + 1e-9) if rounding == ROUND_DOWN else math.floor(steps + 0.5))
    return (value / unit).to_integral_value(rounding) * unit


def _split_int(total: int, weights: list[float]) -> list[int]:
    """`total` split by `weights` into whole numbers that sum to it exactly."""
    whole = sum(weights)
    parts = [int(total * w / whole) for w in weights[:-1]]
    return parts + [total - sum(parts)]


def _split_buys(total: int, volumes: list[int]) -> list[int]:
    """Taker-buy amounts in proportion to the volumes, each within its volume, summing to `total`."""
    whole = sum(volumes)
    buys = [total * v // whole if whole else 0 for v in volumes]
    left = total - sum(buys)
    for j, v in enumerate(volumes):  # what rounding left over goes where there is room
        if left <= 0:
            break
        room = min(left, v - buys[j])
        buys[j] += room
        left -= room
    return buys


class History:
    """The seeded history of one (market, symbol) before `anchor` (ms, a whole minute), ending at `price`."""

    def __init__(self, seed: int, market: str, symbol: str, anchor: int, price: Decimal):
        self.key = f"{seed}:{market}:{symbol}"
        self.instrument: Instrument = INSTRUMENTS[market][symbol]
        self.anchor = anchor
        self.start = floor_to(anchor, DAY) - HISTORY_DAYS * DAY
        self.price = price
        self._roots: list[Bar] | None = None
        self._root_starts: list[int] = []
        self._children: dict[int, list[Bar]] = {}  # a bar's start -> its hours (of a day) or minutes (of an hour)

    # ---- generation ----
    def roots(self) -> list[Bar]:
        """Day bars, oldest first; the last is the part of the venue's first day before the anchor (if any)."""
        if self._roots is None:
            self._roots = self._make_roots()
            self._root_starts = [r.t for r in self._roots]
        return self._roots

    def _make_roots(self) -> list[Bar]:
        i = self.instrument
        floor = i.tick * 10
        rng = random.Random(f"{self.key}:days:{self.anchor}")
        day0 = floor_to(self.anchor, DAY)
        edges = [(day0, self.anchor)] if self.anchor > day0 else []
        edges += [(day0 - (k + 1) * DAY, day0 - k * DAY) for k in range(HISTORY_DAYS)]
        close = float(self.price)
        minute_volume = float(i.lot) * sum(PRINT_LOTS) / 2 * PRINTS_PER_MINUTE
        bars = []
        for start, end in edges:  # newest first, walking back from the venue's starting price
            span = (end - start) / DAY
            sigma = DAY_VOLATILITY * math.sqrt(span)
            open_ = max(float(floor), close / math.exp(rng.gauss(0.0, sigma)))
            high = max(open_, close) * (1 + abs(rng.gauss(0.0, sigma / 2)))
            low = max(float(floor), min(open_, close) * (1 - abs(rng.gauss(0.0, sigma / 2))))
            o, c = _round(open_, i.tick), _round(close, i.tick)
            h, lo = max(o, c, _round(high, i.tick)), min(o, c, _round(low, i.tick))
            minutes = (end - start) // MINUTE
            v = _round(minute_volume * minutes * rng.uniform(0.6, 1.6), i.step, ROUND_DOWN)
            n = int(PRINTS_PER_MINUTE * minutes * rng.uniform(0.6, 1.4))
            bv = _round(v * Decimal(repr(rng.uniform(0.4, 0.6))), i.step, ROUND_DOWN)
            bars.append(Bar(start, end, o, h, lo, c, v, ZERO, n, bv))
            close = open_
        bars.reverse()
        return bars

    def children(self, bar: Bar) -> list[Bar]:
        """The hours of a day bar, the minutes of an hour bar; cached."""
        hit = self._children.get(bar.t * 10 + (bar.end - bar.t > HOUR))
        if hit is None:
            hit = self._split(bar, HOUR if bar.end - bar.t > HOUR else MINUTE)
            if len(self._children) > 50_000:
                self._children.clear()
            self._children[bar.t * 10 + (bar.end - bar.t > HOUR)] = hit
        return hit

    def _split(self, p: Bar, unit: int) -> list[Bar]:
        """Children of `p` whose open, high, low, close, volume, count and taker-buy volume aggregate to its own:
        a bridge from open to close through the parent's extremes; amounts split in whole steps (integers here)."""
        i = self.instrument
        rng = random.Random(f"{self.key}:split:{p.t}:{p.end}")
        starts = list(range(p.t, p.end, unit))
        k = len(starts)
        if k == 1:
            return [replace(p)]
        tick, step = i.tick, i.step
        o, c, hi, lo = (int(x / tick) for x in (p.o, p.c, p.h, p.low))  # prices in ticks
        walk, w = [0.0], 0.0
        for _ in range(k):
            w += rng.gauss(0.0, 1.0)
            walk.append(w)
        bridge = [walk[j] - walk[k] * j / k for j in range(k + 1)]
        scale = (hi - lo) / 2 / (max(abs(b) for b in bridge) or 1.0)
        path = [min(hi, max(lo, math.floor(o + (c - o) * j / k + scale * bridge[j] + 0.5))) for j in range(k + 1)]
        path[0], path[k] = o, c
        top = max(range(1, k), key=lambda j: path[j])
        path[top] = hi
        bottom = min((j for j in range(1, k) if j != top), key=lambda j: path[j], default=None)
        if bottom is not None:
            path[bottom] = lo
        weights = [rng.uniform(0.5, 1.5) * (min(s + unit, p.end) - s) for s in starts]
        volumes = _split_int(int(p.v / step), weights)
        counts = _split_int(p.n, weights)
        buys = _split_buys(int(p.bv / step), volumes)
        wick = (hi - lo) * 0.05
        highs = [min(hi, max(path[j], path[j + 1]) + int(rng.random() * wick)) for j in range(k)]
        lows = [max(lo, min(path[j], path[j + 1]) - int(rng.random() * wick)) for j in range(k)]
        if max(highs) < hi:
            highs[rng.randrange(k)] = hi
        if min(lows) > lo:
            lows[rng.randrange(k)] = lo
        return [Bar(s, min(s + unit, p.end), tick * path[j], tick * highs[j], tick * lows[j], tick * path[j + 1],
                    step * volumes[j], ZERO, counts[j], step * buys[j]) for j, s in enumerate(starts)]

    # ---- reading ----
    def cover(self, a: int, b: int) -> list[Bar]:
        """Bars tiling [a, b) ∩ [start, anchor), each as coarse as the range allows, oldest first."""
        b = min(b, self.anchor)
        a = max(a, self.start)
        if a >= b:
            return []
        roots = self.roots()
        first = bisect.bisect_right(self._root_starts, a) - 1
        out: list[Bar] = []
        for root in roots[max(0, first):]:
            if root.t >= b:
                break
            self._cover(root, a, b, out)
        return out

    def _cover(self, bar: Bar, a: int, b: int, out: list[Bar]) -> None:
        if bar.end <= a or bar.t >= b:
            return
        if a <= bar.t and bar.end <= b:
            out.append(_with_quote(bar, self.instrument))
            return
        for child in self.children(bar):
            self._cover(child, a, b, out)


def _with_quote(bar: Bar, i: Instrument) -> Bar:
    """A history bar's quote volumes: its volumes at a price inside its range (the mean of open, high, low, close)."""
    if bar.q or not bar.v:
        return bar
    price = _round((bar.o + bar.h + bar.low + bar.c) / 4, i.tick)
    return Bar(bar.t, bar.end, bar.o, bar.h, bar.low, bar.c, bar.v, bar.v * price, bar.n, bar.bv, bar.bv * price)


class LiveBars:
    """Minute bars of one (market, symbol) from the anchor on: trades, or mark-price samples."""

    def __init__(self, anchor: int, price: Decimal):
        self.anchor = anchor
        self.price = price  # the close before the first bar
        self.minutes: list[int] = []  # sorted starts of the minutes that have a bar
        self.bars: dict[int, Bar] = {}

    def _bar(self, t: int, price: Decimal) -> Bar:
        m = floor_to(max(t, self.anchor), MINUTE)
        bar = self.bars.get(m)
        if bar is None:
            bar = self.bars[m] = Bar(m, m + MINUTE, price, price, price, price)
            if not self.minutes or m > self.minutes[-1]:
                self.minutes.append(m)
            else:  # the venue's clock stepped back (a skew fault): keep the order
                bisect.insort(self.minutes, m)
        return bar

    def add_trade(self, t: int, price: Decimal, qty: Decimal, buyer_maker: bool, trade_id: int) -> None:
        bar = self._bar(t, price)
        if bar.n == 0:
            bar.o = bar.h = bar.low = price
            bar.first_id = trade_id
        bar.h, bar.low, bar.c = max(bar.h, price), min(bar.low, price), price
        bar.v += qty
        bar.q += qty * price
        bar.n += 1
        bar.last_id = trade_id
        if not buyer_maker:  # the taker bought
            bar.bv += qty
            bar.bq += qty * price

    def add_sample(self, t: int, price: Decimal) -> None:
        bar = self._bar(t, price)
        if bar.n == 0:
            bar.o = bar.h = bar.low = price
        bar.h, bar.low, bar.c = max(bar.h, price), min(bar.low, price), price
        bar.n += 1

    def close_before(self, t: int) -> Decimal:
        k = bisect.bisect_left(self.minutes, t)
        return self.bars[self.minutes[k - 1]].c if k else self.price

    def cover(self, a: int, b: int, now: int) -> list[Bar]:
        """Minute bars over [a, b) ∩ [anchor, now]; a minute without trades is flat at the close before it."""
        a = max(a, self.anchor)
        b = min(b, floor_to(now, MINUTE) + MINUTE)
        if a >= b:
            return []
        out: list[Bar] = []
        price = self.close_before(a)
        k = bisect.bisect_left(self.minutes, a)
        m = a
        while k < len(self.minutes) and self.minutes[k] < b:
            start = self.minutes[k]
            if start > m:
                out.append(Bar(m, start, price, price, price, price))
            bar = self.bars[start]
            out.append(bar)
            price, m, k = bar.c, start + MINUTE, k + 1
        if m < b:
            out.append(Bar(m, b, price, price, price, price))
        return out


class Candles:
    """Every (market, symbol)'s history and live bars, and Binance's kline windows over them."""

    def __init__(self, seed: int, anchor: int, prices: dict[tuple[str, str], Decimal]):
        self.anchor = floor_to(anchor, MINUTE)
        self.history = {k: History(seed, k[0], k[1], self.anchor, p) for k, p in prices.items()}
        self.trades = {k: LiveBars(self.anchor, p) for k, p in prices.items()}
        self.marks = {k: LiveBars(self.anchor, p) for k, p in prices.items()}
        self._closed: dict[tuple, Bar | None] = {}  # history windows already built

    def first_open(self, key: tuple[str, str]) -> int:
        return self.history[key].start

    def window(self, key: tuple[str, str], a: int, b: int, now: int, mark: bool = False) -> Bar | None:
        """One candle over [a, b): history, then live minutes; None before the history starts or after now.
        Windows wholly before the anchor never change: they are kept once built."""
        if b <= self.anchor:
            hit = self._closed.get((key, a, b, mark))
            if hit is None:
                if len(self._closed) > 200_000:
                    self._closed.clear()
                hit = self._closed[(key, a, b, mark)] = self._window(key, a, b, now, mark)
            return hit
        return self._window(key, a, b, now, mark)

    def _window(self, key: tuple[str, str], a: int, b: int, now: int, mark: bool) -> Bar | None:
        parts = self.history[key].cover(a, b) + (self.marks if mark else self.trades)[key].cover(a, b, now)
        if not parts:
            return None
        bar = parts[0]
        for part in parts[1:]:
            bar = bar.merge(part)
        if mark:
            bar = replace(bar, v=ZERO, q=ZERO, bv=ZERO, bq=ZERO, n=max(1, (bar.end - bar.t) // MINUTE) if bar.t < self.anchor else bar.n)
        return bar

    def klines(self, key: tuple[str, str], interval: str, start: int | None, end: int | None, limit: int, now: int,
               mark: bool = False) -> list[Bar]:
        """Binance's paging: open times from `start` (the first candle opening at or after it) or, without it,
        the `limit` candles up to `end` (or now); never before the history nor after now."""
        first, last = self.first_open(key), min(now, end if end is not None else now)
        if start is not None:
            t = open_time(interval, max(start, first))
            if t < start:
                t = next_open(interval, t)
            opens = []
            while t <= last and len(opens) < limit:
                opens.append(t)
                t = next_open(interval, t)
        else:
            t = open_time(interval, last)
            opens = []
            while t >= open_time(interval, first) and len(opens) < limit:
                opens.append(t)
                t = open_time(interval, t - 1)
            opens.reverse()
        bars = []
        for t in opens:
            bar = self.window(key, t, next_open(interval, t), now, mark)
            if bar is not None:
                bars.append(replace(bar, t=t, end=next_open(interval, t)))
        return bars
