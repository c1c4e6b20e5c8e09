"""The public tape: every trade the venue prints, per (market, symbol), in one place.

Two sources feed it: the accounts' own fills (the engine's order events, whatever matched them) and the synthetic
flow, takers of the outside world hitting the displayed book on the venue's ticks. Both take their ids from the
engine's per-symbol trade counter, so ids increase per symbol across both; a trade already on the tape (the other
side of a fill between two accounts) is not printed twice. Trades from one taker order at one price are one
aggregate trade, as Binance's aggTrades. The tape keeps the latest `KEEP` trades per symbol; candles keep what
they need of older ones (candles.LiveBars).
"""
from __future__ import annotations

import bisect
import random
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from .book import round_to
from .instruments import INSTRUMENTS
from .refusals import VenueError

KEEP = 10_000  # about 80 minutes of the synthetic flow: more than aggTrades' one-hour window
PRINT_CHANCE = 0.4  # of a synthetic print per tick and symbol (5 ticks a second: 2 a second)
PRINT_LOTS = (0.01, 0.2)
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
HOUR_MS = 3_600_000


@dataclass(slots=True)
class PublicTrade:
    trade_id: int
    price: Decimal
    qty: Decimal
    time: int
    buyer_maker: bool
    agg_id: int


@dataclass(slots=True)
class AggTrade:
    agg_id: int
    price: Decimal
    qty: Decimal
    first_id: int
    last_id: int
    time: int
    buyer_maker: bool
    taker: object  # the taker order's key; None for a print whose taker is unknown or synthetic (never merged)


class Tape:
    def __init__(self, seed: int, keys: list[tuple[str, str]]):
        self.trades: dict[tuple[str, str], deque[PublicTrade]] = {k: deque(maxlen=KEEP) for k in keys}
        self.aggs: dict[tuple[str, str], deque[AggTrade]] = {k: deque(maxlen=KEEP) for k in keys}
        self.last_id = dict.fromkeys(keys, 0)
        self.next_agg = {k: 1 + random.Random(f"{seed}:agg:{k}").randrange(1_000_000) for k in keys}
        self.flow = {k: random.Random(f"{seed}:flow:{k[0]}:{k[1]}") for k in keys}
        self.fresh: list[tuple[tuple[str, str], PublicTrade]] = []  # printed since the streams last took them
        self.listeners: list = []  # called with (key, PublicTrade) for every print

    def print(self, key: tuple[str, str], trade_id: int, price: Decimal, qty: Decimal, time: int, buyer_maker: bool,
              taker: object = None) -> PublicTrade | None:
        if trade_id <= self.last_id[key]:
            return None  # already printed (the other side of the same trade)
        self.last_id[key] = trade_id
        aggs = self.aggs[key]
        last = aggs[-1] if aggs else None
        if (taker is not None and last is not None and last.taker == taker and last.price == price
                and last.buyer_maker == buyer_maker):
            last.qty += qty
            last.last_id = trade_id
        else:
            self.next_agg[key] += 1
            last = AggTrade(self.next_agg[key], price, qty, trade_id, trade_id, time, buyer_maker, taker)
            aggs.append(last)
        trade = PublicTrade(trade_id, price, qty, time, buyer_maker, last.agg_id)
        self.trades[key].append(trade)
        self.fresh.append((key, trade))
        for listener in self.listeners:
            listener(key, trade)
        return trade

    def take_fresh(self) -> list[tuple[tuple[str, str], PublicTrade]]:
        fresh, self.fresh = self.fresh, []
        return fresh

    def agg_of(self, key: tuple[str, str], agg_id: int) -> AggTrade | None:
        aggs = self.aggs[key]
        if not aggs or agg_id < aggs[0].agg_id:
            return None
        k = agg_id - aggs[0].agg_id
        return aggs[k] if k < len(aggs) and aggs[k].agg_id == agg_id else None

    # ---- the synthetic flow ----
    def synthetic_print(self, market: str, symbol: str, book, next_trade_id: dict, now: int,
                        better_resting) -> PublicTrade | None:
        """Maybe one outside taker at the touch (none on a held book, nor through a resting order priced better
        than the touch, which such a taker would have to meet first)."""
        key = (market, symbol)
        rng = self.flow[key]
        if rng.random() >= PRINT_CHANCE or book.frozen or not book.bids or not book.asks:
            return None
        i = INSTRUMENTS[market][symbol]
        side = "BUY" if rng.random() < 0.5 else "SELL"
        price = book.asks[0][0] if side == "BUY" else book.bids[0][0]
        qty = max(i.min_qty, round_to(i.lot * Decimal(repr(rng.uniform(*PRINT_LOTS))), i.step, ROUND_DOWN))
        if better_resting(market, symbol, side, price):
            return None
        next_trade_id[key] += 1
        book.record_trade(price, qty)
        return self.print(key, next_trade_id[key], price, qty, now, buyer_maker=side == "SELL")

    # ---- Binance's queries ----
    @staticmethod
    def _limit(params: dict, default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> int:
        raw = params.get("limit")
        if raw in (None, ""):
            return default
        if not raw.isdigit() or not 1 <= int(raw) <= most:
            raise VenueError(-1100, f"Illegal characters found in parameter 'limit'; legal range is '1..{most}'.")
        return int(raw)

    def recent(self, key: tuple[str, str], params: dict) -> list[PublicTrade]:
        """GET …/trades: the latest `limit` trades, oldest first."""
        limit = self._limit(params)
        trades = self.trades[key]
        return list(trades)[-limit:] if trades else []

    def historical(self, key: tuple[str, str], params: dict, integer, most: int = MAX_LIMIT,
                   default: int = DEFAULT_LIMIT) -> list[PublicTrade]:
        """GET …/historicalTrades: from `fromId` on (what the tape still keeps), else the latest."""
        limit = self._limit(params, default, most)
        from_id = integer(params, "fromId")
        trades = self.trades[key]
        if from_id is None:
            return list(trades)[-limit:] if trades else []
        return self._from(trades, from_id, lambda t: t.trade_id, limit)

    def aggregates(self, key: tuple[str, str], params: dict, integer) -> list[AggTrade]:
        """GET …/aggTrades: `fromId` on, or within startTime..endTime (at most an hour apart), else the latest."""
        limit = self._limit(params)
        from_id, start, end = integer(params, "fromId"), integer(params, "startTime"), integer(params, "endTime")
        if start is not None and end is not None:
            if end < start:
                raise VenueError(-1023, "Start time is greater than end time.")
            if end - start > HOUR_MS:
                raise VenueError(-1127, "More than 1 hours between startTime and endTime.")
        aggs = self.aggs[key]
        if from_id is not None:
            rows = self._from(aggs, from_id, lambda a: a.agg_id, len(aggs))
        else:
            rows = list(aggs)
        if start is not None:
            rows = [a for a in rows if a.time >= start]
        if end is not None:
            rows = [a for a in rows if a.time <= end]
        if from_id is None and start is None and end is None:
            return rows[-limit:]
        if from_id is None and start is None:  # only an end: the hour before it
            rows = [a for a in rows if a.time >= end - HOUR_MS]
        elif from_id is None and end is None:  # only a start: the hour after it
            rows = [a for a in rows if a.time <= start + HOUR_MS]
        return rows[:limit]

    @staticmethod
    def _from(rows: deque, first: int, ident, limit: int) -> list:
        listed = list(rows)
        k = bisect.bisect_left(listed, first, key=ident)
        return listed[k:k + limit]
