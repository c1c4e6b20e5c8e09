"""The USD-M funding-rate schedule, in one place: funding every 8 hours (00:00, 08:00, 16:00 UTC), each rate
a seeded draw around Binance's usual 0.01 %, the same for the same seed, symbol and funding time.
premiumIndex (`lastFundingRate`, `nextFundingTime`) and fundingRate (the history) read it; funding payments
should read the same function."""
import random
from decimal import Decimal

FUNDING_INTERVAL_MS = 8 * 3_600_000
BASE_RATE = Decimal("0.0001")


def funding_time_at_or_before(t: int) -> int:
    return t - t % FUNDING_INTERVAL_MS


def next_funding_time(t: int) -> int:
    return funding_time_at_or_before(t) + FUNDING_INTERVAL_MS


def funding_rate(seed: int, symbol: str, funding_time: int) -> Decimal:
    """The rate settled at `funding_time` (a multiple of 8 h): 0.01 % most of the time, sometimes a little
    more or less, never beyond Binance's default cap of ±0.75 %; 8 decimals, as Binance prints it."""
    rng = random.Random(f"{seed}:funding:{symbol}:{funding_time}")
    if rng.random() < 0.6:
        return BASE_RATE.quantize(Decimal("0.00000001"))
    drift = Decimal(repr(round(rng.gauss(0.0, 0.0002), 8)))
    return max(Decimal("-0.0075"), min(Decimal("0.0075"), BASE_RATE + drift)).quantize(Decimal("0.00000001"))
