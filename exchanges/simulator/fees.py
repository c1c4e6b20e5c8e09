"""Trading fees: the venue's maker/taker rates per market, and per key (and symbol) where the control API set
others (`POST /_venue/fees`). Fills are charged what `rate` says, and tradeFee / commissionRate answer the same."""
from decimal import Decimal

from .instruments import FUTURES, SPOT

DEFAULT_FEES = {SPOT: (Decimal("0.001"), Decimal("0.001")), FUTURES: (Decimal("0.0002"), Decimal("0.0005"))}


class FeeSchedule:
    def __init__(self):
        self.overrides: dict[tuple[str, str, str | None], tuple[Decimal, Decimal]] = {}  # (key, market, symbol|None)

    def rates(self, api_key: str | None, market: str, symbol: str) -> tuple[Decimal, Decimal]:
        """(maker, taker) for this key and symbol: its symbol's rates, else its market's, else the venue's."""
        for scope in ((api_key, market, symbol), (api_key, market, None)):
            if scope in self.overrides:
                return self.overrides[scope]
        return DEFAULT_FEES[market]

    def rate(self, api_key: str | None, market: str, symbol: str, is_maker: bool) -> Decimal:
        maker, taker = self.rates(api_key, market, symbol)
        return maker if is_maker else taker

    def set(self, api_key: str, market: str, symbol: str | None, maker: Decimal, taker: Decimal) -> None:
        self.overrides[(api_key, market, symbol)] = (maker, taker)
