"""The venue's public market data over its one tape (tape.py): aggregate trades (public_trades), the candles
built from the tape, and the websocket payloads of `<symbol>@trade`, `@aggTrade` and `@kline_<interval>` with the
same data as the REST answers.

`MarketData(venue, seed)` listens to the venue's tape (every trade the engine records, and the synthetic flow's
prints) and is ticked with the venue (`on_tick`: the synthetic flow, mark-price samples)."""
from __future__ import annotations

from decimal import Decimal

from .candles import INTERVALS, Bar, Candles, next_open, open_time
from .instruments import FUTURES, INSTRUMENTS, SPOT
from .public_trades import Aggregates, AggTrade
from .tape import PublicTrade

KLINE_PUSH_TICKS = 5  # kline streams push the open candle once a second (every fifth tick)


def s(value: Decimal, places: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def places(market: str, symbol: str) -> tuple[int, int, int]:
    """Decimal places of (price, quantity, quote) in Binance's answers for this market."""
    if market == SPOT:
        return 8, 8, 8
    i = INSTRUMENTS[FUTURES][symbol]
    return i.price_precision, i.quantity_precision, 5


class MarketData:
    def __init__(self, venue, seed: int):
        self.venue = venue
        self.seed = seed
        keys = list(venue.books)
        self.tape = venue.tape  # the one place every trade is recorded
        self.aggregates = Aggregates(seed, keys)
        self.candles = Candles(seed, venue.now(), {k: b.mid for k, b in venue.books.items()})
        self.tape.listeners.append(self._on_record)
        self._memo_tick, self._memo = -1, {}  # stream payloads of the current tick
        self._kline_open: dict[tuple[str, str, str], int] = {}  # the open time of each kline stream's last push

    # ---- feeding ----
    def _on_record(self, market: str, symbol: str, trade: PublicTrade) -> None:
        self.aggregates.on_record(market, symbol, trade)
        self.candles.trades[(market, symbol)].add_trade(trade.time, trade.price, trade.qty, trade.is_buyer_maker,
                                                        trade.trade_id)

    def on_tick(self) -> None:
        now = self.venue.now()
        for (market, symbol), book in self.venue.books.items():
            self.aggregates.synthetic_print(self.venue, market, symbol, now, self._better_resting)
            if market == FUTURES:
                self.candles.marks[(market, symbol)].add_sample(now, book.mid)

    def _better_resting(self, market: str, symbol: str, taker_side: str, price: Decimal) -> bool:
        """Is an account's order resting at a better price than the touch the taker would hit?"""
        for order in self.venue.resting.get((market, symbol), ()):
            if taker_side == "BUY" and order.side == "SELL" and order.price < price:
                return True
            if taker_side == "SELL" and order.side == "BUY" and order.price > price:
                return True
        return False

    # ---- rendering (REST and streams share these) ----
    @staticmethod
    def kline_row(market: str, symbol: str, bar: Bar, mark: bool = False) -> list:
        pp, qp, cp = places(market, symbol)
        close_time = bar.end - 1
        if mark:
            return [bar.t, s(bar.o, pp), s(bar.h, pp), s(bar.low, pp), s(bar.c, pp), "0", close_time, "0", bar.n,
                    "0", "0", "0"]
        return [bar.t, s(bar.o, pp), s(bar.h, pp), s(bar.low, pp), s(bar.c, pp), s(bar.v, qp), close_time,
                s(bar.q, cp), bar.n, s(bar.bv, qp), s(bar.bq, cp), "0"]

    @staticmethod
    def trade_row(market: str, symbol: str, t: PublicTrade) -> dict:
        pp, qp, cp = places(market, symbol)
        row = {"id": t.trade_id, "price": s(t.price, pp), "qty": s(t.qty, qp), "quoteQty": s(t.price * t.qty, cp),
               "time": t.time, "isBuyerMaker": t.is_buyer_maker}
        if market == SPOT:
            row["isBestMatch"] = True
        return row

    @staticmethod
    def agg_row(market: str, symbol: str, a: AggTrade) -> dict:
        pp, qp, _ = places(market, symbol)
        row = {"a": a.agg_id, "p": s(a.price, pp), "q": s(a.qty, qp), "f": a.first_id, "l": a.last_id, "T": a.time,
               "m": a.buyer_maker}
        if market == SPOT:
            row["M"] = True
        return row

    # ---- streams ----
    def take_fresh(self) -> list[tuple[tuple[str, str], PublicTrade, AggTrade]]:
        return self.aggregates.take_fresh()

    def stream_payloads(self, market: str, symbol: str, channel: str, now: int, ticks: int,
                        fresh: list[tuple[tuple[str, str], PublicTrade, AggTrade]]) -> list[dict]:
        """One tick's messages of one stream, the same for every connection that subscribed to it."""
        if ticks != self._memo_tick:
            self._memo_tick, self._memo = ticks, {}
        key = (market, symbol, channel)
        if key not in self._memo:
            self._memo[key] = self._payloads(market, symbol, channel, now, ticks, fresh)
        return self._memo[key]

    def _payloads(self, market: str, symbol: str, channel: str, now: int, ticks: int,
                  fresh: list[tuple[tuple[str, str], PublicTrade, AggTrade]]) -> list[dict]:
        key = (market, symbol)
        if channel == "trade":
            return [self._trade_event(market, symbol, t, now) for k, t, _ in fresh if k == key]
        if channel == "aggTrade":
            out = []
            for k, t, agg in fresh:
                if k == key and agg.last_id == t.trade_id:  # once, with the whole aggregate
                    out.append({"e": "aggTrade", "E": now, "s": symbol, **self.agg_row(market, symbol, agg)})
            return out
        interval = channel.removeprefix("kline_")
        if not channel.startswith("kline_") or interval not in INTERVALS:
            return []
        start = open_time(interval, now)
        previous = self._kline_open.get((market, symbol, interval))
        out = []
        if previous is not None and previous != start and previous == open_time(interval, start - 1):
            # the candle pushed last has closed since: its final state, once
            out.append(self._kline_event(market, symbol, interval, previous, now, closed=True))
        if previous != start or ticks % KLINE_PUSH_TICKS == 0:
            self._kline_open[(market, symbol, interval)] = start
            out.append(self._kline_event(market, symbol, interval, start, now, closed=False))
        return [e for e in out if e is not None]

    def _trade_event(self, market: str, symbol: str, t: PublicTrade, now: int) -> dict:
        row = self.trade_row(market, symbol, t)
        event = {"e": "trade", "E": now, "s": symbol, "t": t.trade_id, "p": row["price"], "q": row["qty"], "T": t.time,
                 "m": t.is_buyer_maker}
        if market == SPOT:
            event["M"] = True
        else:
            event["X"] = "MARKET"
        return event

    def _kline_event(self, market: str, symbol: str, interval: str, start: int, now: int, closed: bool) -> dict | None:
        bar = self.candles.window((market, symbol), start, next_open(interval, start), now)
        if bar is None:
            return None
        row = self.kline_row(market, symbol, bar)
        return {"e": "kline", "E": now, "s": symbol, "k": {
            "t": start, "T": next_open(interval, start) - 1, "s": symbol, "i": interval, "f": bar.first_id,
            "L": bar.last_id, "o": row[1], "c": row[4], "h": row[2], "l": row[3], "v": row[5], "n": row[8],
            "x": closed, "q": row[7], "V": row[9], "Q": row[10], "B": "0"}}
