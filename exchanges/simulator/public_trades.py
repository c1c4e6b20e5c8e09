"""Public trades over the venue's one tape (tape.py, where the engine records every trade once): Binance's
recent, historical and aggregate trade lists, and the synthetic flow at the touch.

The flow is the outside world's takers hitting the displayed book on the venue's ticks (about two prints a second
per symbol; none on a held book, none through an account's order resting at a better price than the touch). Its
prints take ids from the engine's per-symbol trade counter and go on the same tape as the accounts' fills, so ids
increase per symbol across both. Consecutive trades at one price, on one taking side, within one millisecond (one
taker sweeping, or meeting several orders at a price) are one aggregate trade, as Binance's aggTrades.
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
from .tape import KEEP, PublicTrade

PRINT_CHANCE = 0.4  # of a synthetic print per tick and symbol (5 ticks a second: 2 a second)
PRINT_LOTS = (0.01, 0.2)
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
HOUR_MS = 3_600_000


@dataclass(slots=True)
class AggTrade:
    agg_id: int
    price: Decimal
    qty: Decimal
    first_id: int
    last_id: int
    time: int
    buyer_maker: bool


class Aggregates:
    """Aggregate trades per (market, symbol), built as the tape records, and the prints the streams have not
    sent yet."""

    def __init__(self, seed: int, keys: list[tuple[str, str]]):
        self.aggs: dict[tuple[str, str], deque[AggTrade]] = {k: deque(maxlen=KEEP) for k in keys}
        self.next_agg = {k: 1 + random.Random(f"{seed}:agg:{k}").randrange(1_000_000) for k in keys}
        self.flow = {k: random.Random(f"{seed}:flow:{k[0]}:{k[1]}") for k in keys}
        self.fresh: list[tuple[tuple[str, str], PublicTrade, AggTrade]] = []

    def on_record(self, market: str, symbol: str, trade: PublicTrade) -> AggTrade:
        key = (market, symbol)
        aggs = self.aggs.setdefault(key, deque(maxlen=KEEP))
        last = aggs[-1] if aggs else None
        if (last is not None and last.price == trade.price and last.buyer_maker == trade.is_buyer_maker
                and 0 <= trade.time - last.time <= 1 and last.last_id < trade.trade_id):
            last.qty += trade.qty
            last.last_id = trade.trade_id
        else:
            self.next_agg[key] = self.next_agg.get(key, 0) + 1
            last = AggTrade(self.next_agg[key], trade.price, trade.qty, trade.trade_id, trade.trade_id, trade.time,
                            trade.is_buyer_maker)
            aggs.append(last)
        self.fresh.append((key, trade, last))
        return last

    def take_fresh(self) -> list[tuple[tuple[str, str], PublicTrade, AggTrade]]:
        fresh, self.fresh = self.fresh, []
        return fresh

    # ---- the synthetic flow ----
    def synthetic_print(self, venue, market: str, symbol: str, now: int, better_resting) -> None:
        """Maybe one outside taker at the touch, recorded on the venue's tape like every trade."""
        key = (market, symbol)
        book = venue.books[key]
        rng = self.flow[key]
        if rng.random() >= PRINT_CHANCE or book.frozen or not book.bids or not book.asks:
            return
        i = INSTRUMENTS[market][symbol]
        side = "BUY" if rng.random() < 0.5 else "SELL"
        price = book.asks[0][0] if side == "BUY" else book.bids[0][0]
        qty = max(i.min_qty, round_to(i.lot * Decimal(repr(rng.uniform(*PRINT_LOTS))), i.step, ROUND_DOWN))
        if better_resting(market, symbol, side, price):
            return
        venue.next_trade_id[key] += 1
        book.record_trade(price, qty)
        venue.tape.record(market, symbol, PublicTrade(venue.next_trade_id[key], price, qty, now,
                                                      is_buyer_maker=side == "SELL"))

    # ---- Binance's queries ----
    @staticmethod
    def limit(params: dict, default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> int:
        raw = params.get("limit")
        if raw in (None, ""):
            return default
        if not raw.isdigit() or not 1 <= int(raw) <= most:
            raise VenueError(-1100, f"Illegal characters found in parameter 'limit'; legal range is '1..{most}'.")
        return int(raw)

    def recent(self, trades: deque, params: dict) -> list[PublicTrade]:
        """GET …/trades: the latest `limit` trades, oldest first."""
        limit = self.limit(params)
        return list(trades)[-limit:] if trades else []

    def historical(self, trades: deque, params: dict, integer, most: int = MAX_LIMIT,
                   default: int = DEFAULT_LIMIT) -> list[PublicTrade]:
        """GET …/historicalTrades: from `fromId` on (what the tape still keeps), else the latest."""
        limit = self.limit(params, default, most)
        from_id = integer(params, "fromId")
        if from_id is None:
            return list(trades)[-limit:] if trades else []
        return _from(trades, from_id, lambda t: t.trade_id, limit)

    def aggregates(self, key: tuple[str, str], params: dict, integer) -> list[AggTrade]:
        """GET …/aggTrades: `fromId` on, or within startTime..endTime (at most an hour apart), else the latest."""
        limit = self.limit(params)
        from_id, start, end = integer(params, "fromId"), integer(params, "startTime"), integer(params, "endTime")
        if start is not None and end is not None:
            if end < start:
                raise VenueError(-1023, "Start time is greater than end time.")
            if end - start > HOUR_MS:
                raise VenueError(-1127, "More than 1 hours between startTime and endTime.")
        aggs = self.aggs.get(key, deque())
        rows = _from(aggs, from_id, lambda a: a.agg_id, len(aggs)) if from_id is not None else list(aggs)
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


def _from(rows: deque, first: int, ident, limit: int) -> list:
    listed = list(rows)
    k = bisect.bisect_left(listed, first, key=ident)
    return listed[k:k + limit]
