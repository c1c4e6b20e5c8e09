"""USD-M income history (`GET /fapi/v1/income`), field for field as Binance's: every change of a key's futures
wallet that is not a position's margin. Written here: FUNDING_FEE (funding settlements), COMMISSION and
REALIZED_PNL (each trade, `tradeId` its trade id; realized PnL only when the trade closed exposure) and TRANSFER
(`/_venue/fund` deposits and withdrawals). `tranId` is one counter per venue, so unique per key and type as Binance
promises. Rows are stamped with the wire clock (`Venue.now()`), as trades are."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .instruments import FUTURES
from .refusals import VenueError

if TYPE_CHECKING:
    from .engine import Venue

INCOME_TYPES = ("TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION", "INSURANCE_CLEAR",
                "REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE", "CONTEST_REWARD", "CROSS_COLLATERAL_TRANSFER",
                "OPTIONS_PREMIUM_FEE", "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER", "AUTO_EXCHANGE",
                "DELIVERED_SETTELMENT", "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW", "POSITION_LIMIT_INCREASE_FEE")
DEFAULT_SPAN_MS = 7 * 86_400_000  # neither startTime nor endTime: the last 7 days


def record(venue: Venue, api_key: str, income_type: str, amount: Decimal, asset: str, symbol: str = "",
           trade_id: str = "") -> dict:
    venue.next_tran_id += 1
    row = {"symbol": symbol, "incomeType": income_type, "income": format(amount.quantize(Decimal("0.00000001")), "f"),
           "asset": asset, "info": income_type, "time": venue.now(), "tranId": venue.next_tran_id, "tradeId": trade_id}
    venue.income.setdefault(api_key, []).append(row)
    venue.dirty = True
    return row


def history(venue: Venue, api_key: str, params: dict) -> list[dict]:
    """The key's rows by Binance's rules: oldest first; `symbol`, `incomeType`, `startTime`/`endTime` (inclusive;
    with neither, the last 7 days), `limit` 1..1000 (default 100) rows from the start of the window, `page`."""
    symbol = venue.instrument(FUTURES, params["symbol"]).symbol if params.get("symbol") else None
    income_type = params.get("incomeType")
    if income_type and income_type not in INCOME_TYPES:
        raise VenueError(-1100, "Illegal characters found in parameter 'incomeType'; legal range is "
                                f"'{', '.join(INCOME_TYPES)}'.")
    limit = venue.integer(params, "limit") or 100
    if not 1 <= limit <= 1000:
        raise VenueError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1..1000'.")
    page = venue.integer(params, "page") or 1
    if page < 1:
        raise VenueError(-1100, "Illegal characters found in parameter 'page'; legal range is '1..'.")
    start, end = venue.integer(params, "startTime"), venue.integer(params, "endTime")
    if start is None and end is None:
        start = venue.now() - DEFAULT_SPAN_MS
    rows = [r for r in venue.income.get(api_key, [])
            if (not symbol or r["symbol"] == symbol) and (not income_type or r["incomeType"] == income_type)
            and (start is None or r["time"] >= start) and (end is None or r["time"] <= end)]
    return rows[(page - 1) * limit: page * limit]
