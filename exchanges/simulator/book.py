"""A synthetic order book per (market, symbol): a seeded random walk of the mid price with a spread
and a few levels of depth that are redrawn on every tick, plus the rolling 24 h statistics."""
import math
import random
from collections import deque
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .instruments import Instrument

LEVELS = 10
VOLATILITY_PER_TICK = 0.00008  # ~0.8 bp per tick: a few tenths of a percent per hour at 5 ticks/s
DAY_MS = 86_400_000
SAMPLE_MS = 60_000


def round_to(value: Decimal, unit: Decimal, rounding=ROUND_HALF_UP) -> Decimal:
    return (value / unit).to_integral_value(rounding) * unit


class Book:
    def __init__(self, instrument: Instrument, rng: random.Random, now_ms: int):
        self.instrument = instrument
        self.rng = rng
        self.mid = instrument.price
        self.frozen = False
        self.last_price = instrument.price
        self.last_qty = instrument.min_qty
        self.bids: list[tuple[Decimal, Decimal]] = []
        self.asks: list[tuple[Decimal, Decimal]] = []
        self.samples: deque[tuple[int, Decimal]] = deque([(now_ms - DAY_MS, instrument.price)])
        self.volume = Decimal("0")
        self.quote_volume = Decimal("0")
        self.trade_count = 0
        self.update_id = 1
        self.redraw()

    @property
    def best_bid(self) -> tuple[Decimal, Decimal]:
        return self.bids[0]

    @property
    def best_ask(self) -> tuple[Decimal, Decimal]:
        return self.asks[0]

    def step(self, now_ms: int) -> None:
        """One tick of the walk; the book is redrawn around the new mid."""
        if not self.frozen:  # a held book stands still: depth taken by orders stays taken until the next set_price
            factor = math.exp(self.rng.gauss(0.0, VOLATILITY_PER_TICK))
            self.mid = max(self.instrument.tick * 10, round_to(self.mid * Decimal(repr(factor)), self.instrument.tick))
            self.redraw()
        self.sample(now_ms)

    def set_mid(self, price: Decimal, now_ms: int) -> None:
        self.mid = round_to(price, self.instrument.tick)
        self.last_price = self.mid
        self.redraw()
        self.sample(now_ms)

    def redraw(self) -> None:
        i = self.instrument
        half = i.tick * i.spread_ticks / 2
        best_bid = round_to(self.mid - half, i.tick, ROUND_DOWN)
        best_ask = best_bid + i.tick * i.spread_ticks
        gap = max(i.tick, round_to(self.mid * Decimal("0.00002"), i.tick))
        self.bids = [(best_bid - gap * n, self._qty()) for n in range(LEVELS)]
        self.asks = [(best_ask + gap * n, self._qty()) for n in range(LEVELS)]
        self.update_id += 1

    def _qty(self) -> Decimal:
        i = self.instrument
        return max(i.min_qty, round_to(i.lot * Decimal(repr(self.rng.uniform(0.3, 1.7))), i.step, ROUND_DOWN))

    def sample(self, now_ms: int) -> None:
        if now_ms - self.samples[-1][0] >= SAMPLE_MS:
            self.samples.append((now_ms, self.mid))
        while len(self.samples) > 2 and self.samples[1][0] <= now_ms - DAY_MS:
            self.samples.popleft()

    def record_trade(self, price: Decimal, qty: Decimal) -> None:
        self.last_price, self.last_qty = price, qty
        self.volume += qty
        self.quote_volume += price * qty
        self.trade_count += 1

    def stats(self, now_ms: int) -> dict:
        prices = [p for _, p in self.samples] + [self.mid, self.last_price]
        open_price = self.samples[0][1]
        change = self.last_price - open_price
        return {
            "open": open_price, "high": max(prices), "low": min(prices), "last": self.last_price,
            "change": change, "change_pct": (change / open_price * 100).quantize(Decimal("0.001")),
            "open_time": now_ms - DAY_MS, "close_time": now_ms,
        }

    def state(self) -> dict:
        return {"mid": str(self.mid), "frozen": self.frozen, "last_price": str(self.last_price)}

    def restore(self, state: dict) -> None:
        self.mid = Decimal(state["mid"])
        self.frozen = state.get("frozen", False)
        self.last_price = Decimal(state.get("last_price", state["mid"]))
        self.redraw()


def level_take(price: Decimal, available: Decimal, left_qty: Decimal | None, left_quote: Decimal | None,
               step: Decimal) -> Decimal:
    """What a taker takes at one price level: all of it, or what its quantity left (or its quote amount left, at
    the lot step) allows."""
    take = available
    if left_qty is not None:
        take = min(take, left_qty)
    if left_quote is not None:
        take = min(take, round_to(left_quote / price, step, ROUND_DOWN))
    return take
