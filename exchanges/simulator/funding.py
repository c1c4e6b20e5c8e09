"""USD-M funding: the rate schedule (one place: premiumIndex, the fundingRate history and the settlements all read
it) and the settlements themselves.

Funding settles every 8 hours of venue time, at 00:00, 08:00 and 16:00 UTC (`venue_clock`: speed it up, or jump
it, to see one in a test), and when the control API asks for one now (`POST /_venue/funding`). At a settlement
every open position pays or receives `positionAmt × mark price × rate`, rounded to 8 decimals: with a positive rate
longs pay and shorts receive, with a negative one the reverse. The payment changes the futures wallet, is written to
the key's income history (`FUNDING_FEE`, `GET /fapi/v1/income`) and streams an ACCOUNT_UPDATE with reason
FUNDING_FEE (the wallet only, no positions, as Binance sends it for cross margin).

Rates are deterministic: a function of the symbol and the funding time alone (no venue seed), so anything that
publishes a rate (premiumIndex `lastFundingRate`, the fundingRate history) agrees with what is paid."""
from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING

from .book import round_to
from .instruments import FUTURES, INSTRUMENTS

if TYPE_CHECKING:
    from .engine import Venue

INTERVAL_MS = 8 * 3_600_000
RATE_STEP = Decimal("0.000005")  # rates move in steps of 0.0005 %
RATE_UNIT = Decimal("0.00000001")
AMOUNT_UNIT = Decimal("0.00000001")
MAX_CATCH_UP = 100  # settlements made in one tick when venue time jumped over several funding times


def next_funding_time(venue_ms: int) -> int:
    """The first funding time after `venue_ms` (venue time, ms): the next multiple of 8 h since the epoch."""
    return (venue_ms // INTERVAL_MS + 1) * INTERVAL_MS


def rate(symbol: str, funding_time_ms: int) -> Decimal:
    """The rate paid at the funding time `funding_time_ms` (a multiple of 8 h): never zero, mostly positive
    (longs pay), between -0.0100 % and +0.0200 %, 8 decimals as Binance publishes it."""
    rng = random.Random(f"funding:{symbol}:{funding_time_ms}")
    steps = rng.randint(1, 40)
    sign = -1 if rng.random() < 0.25 else 1
    return (sign * steps * RATE_STEP / (2 if sign < 0 else 1)).quantize(RATE_UNIT)


def published(symbol: str, venue_ms: int) -> tuple[Decimal, int]:
    """(rate, nextFundingTime) as premiumIndex shows them at venue time `venue_ms`: the rate of the next
    settlement (also what a settlement asked for now pays) and its time."""
    upcoming = next_funding_time(venue_ms)
    return rate(symbol, upcoming), upcoming


def rate_history(symbol: str, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
    """(fundingTime, fundingRate) of every scheduled funding time from `start_ms` to `end_ms` (venue time)."""
    first = -(-start_ms // INTERVAL_MS) * INTERVAL_MS
    return [(t, rate(symbol, t)) for t in range(first, end_ms + 1, INTERVAL_MS)]


def settle(venue: Venue, venue_ms: int, symbols: set[str] | None = None) -> list[tuple[str, dict]]:
    """One funding settlement at venue time `venue_ms` over every key's open positions (of `symbols`, or all),
    at the rate `published` just before it. Returns (api key, income row) of each payment."""
    from . import income

    rows = []
    for account in list(venue.accounts.values()):
        for symbol, position in sorted(account.positions.items()):
            if not position.amt or (symbols and symbol not in symbols) or symbol not in INSTRUMENTS[FUTURES]:
                continue
            mark = venue.books[(FUTURES, symbol)].mid
            paid_rate, _ = published(symbol, venue_ms - 1)
            amount = round_to(-(position.amt * mark * paid_rate), AMOUNT_UNIT)
            if not amount:
                continue
            account.wallet["USDT"] = account.wallet.get("USDT", Decimal(0)) + amount
            account.update_time = venue.now()
            rows.append((account.api_key, income.record(venue, account.api_key, "FUNDING_FEE", amount, "USDT", symbol)))
            venue.dirty = True
            for listener in venue.fund_listeners:
                listener(FUTURES, account.api_key, "USDT", amount, "FUNDING_FEE")
    return rows


def settle_due(venue: Venue) -> list[tuple[str, dict]]:
    """Every scheduled settlement venue time has reached since the last one (called on each venue tick)."""
    rows: list[tuple[str, dict]] = []
    now = venue.venue_now()
    for _ in range(MAX_CATCH_UP):
        if now < venue.funding_due:
            break
        rows += settle(venue, venue.funding_due)
        venue.funding_due += INTERVAL_MS
    if now >= venue.funding_due:  # jumped further than MAX_CATCH_UP intervals: the rest are skipped
        venue.funding_due = next_funding_time(now)
    return rows
