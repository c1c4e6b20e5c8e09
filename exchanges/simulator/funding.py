"""USD-M funding settlements (the rates come from `funding_rates`, the venue's one rate schedule).

Funding settles every 8 hours of venue time, at 00:00, 08:00 and 16:00 UTC (`venue_clock`: speed it up, or jump
it, to see one in a test), and when the control API asks for one now (`POST /_venue/funding`). At a settlement
every open position pays or receives `positionAmt × mark price × rate`, rounded to 8 decimals: with a positive rate
longs pay and shorts receive, with a negative one the reverse. The payment changes the futures wallet, is written to
the key's income history (`FUNDING_FEE`, `GET /fapi/v1/income`) and streams an ACCOUNT_UPDATE with reason
FUNDING_FEE (the wallet only, no positions, as Binance sends it for cross margin).

Rates come from `funding_rates.funding_rate(seed, symbol, funding time)`, the venue's one rate schedule (seeded
with the venue's seed), which premiumIndex (`lastFundingRate`) and the fundingRate history also read, so what is
published is what is paid."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .book import round_to
from .funding_rates import FUNDING_INTERVAL_MS, funding_rate, next_funding_time
from .instruments import FUTURES, INSTRUMENTS

if TYPE_CHECKING:
    from .engine import Venue

INTERVAL_MS = FUNDING_INTERVAL_MS
AMOUNT_UNIT = Decimal("0.00000001")
MAX_CATCH_UP = 100  # settlements made in one tick when venue time jumped over several funding times


def published(venue: Venue, symbol: str, venue_ms: int) -> tuple[Decimal, int]:
    """(rate, nextFundingTime) as premiumIndex shows them at venue time `venue_ms`: the rate of the next
    settlement (also what a settlement asked for now pays) and its time."""
    upcoming = next_funding_time(venue_ms)
    return funding_rate(venue.seed, symbol, upcoming), upcoming


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
            paid_rate, _ = published(venue, symbol, venue_ms - 1)
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
