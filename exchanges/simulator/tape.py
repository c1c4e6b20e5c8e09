"""Every trade made on the venue, in one place: the public tape per (market, symbol), newest last, as
Binance's public trade lists show them (id, price, qty, quote qty, time, isBuyerMaker). A trade between two
user orders is one entry (one trade id, as both sides see it in their own trade lists); trades of user
orders with the synthetic depth and with synthetic takers (the trickle, the flow at the touch of public_trades)
are entries too. Kept in memory only (the newest `KEEP` per symbol), not in the snapshot. `listeners` hear every
entry (public_data: aggregate trades, candles, the trade streams)."""
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

KEEP = 10_000  # GET …/trades answers at most 1000; historicalTrades pages further back (over an hour of flow)


@dataclass(frozen=True, slots=True)
class PublicTrade:
    trade_id: int
    price: Decimal
    qty: Decimal
    time: int
    is_buyer_maker: bool

    @property
    def quote_qty(self) -> Decimal:
        return self.price * self.qty


class Tape:
    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self.trades: dict[tuple[str, str], deque[PublicTrade]] = {}
        self.listeners: list = []  # called with (market, symbol, trade) for every entry

    def record(self, market: str, symbol: str, trade: PublicTrade) -> None:
        self.trades.setdefault((market, symbol), deque(maxlen=self.keep)).append(trade)
        for listener in self.listeners:
            listener(market, symbol, trade)

    def recent(self, market: str, symbol: str, limit: int = 500) -> list[PublicTrade]:
        """The newest `limit` trades of one symbol, oldest first."""
        rows = self.trades.get((market, symbol), ())
        return list(rows)[-limit:] if limit > 0 else []
