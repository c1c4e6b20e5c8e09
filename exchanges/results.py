"""What the gateway answers, typed: orders, trades, balances and positions as the venue reported them, with
Decimal amounts. ccxt's dicts are read here and nowhere else, so the worker side never parses one.

The readings keep ccxt's own rules where the ledger depends on them: an order's filled quantity and amounts
are None when the venue left them out (reports show them as blanks), its status is ccxt's unified one
(unknown ones kept as text, for the refusal that names them), and a trade without a fee is fee-free."""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


class VenueStatus(enum.StrEnum):
    """ccxt's unified order statuses (Binance's NEW/PARTIALLY_FILLED are both "open")."""

    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


_STATUSES = {**{s.value: s for s in VenueStatus}, "cancelled": VenueStatus.CANCELED}


def decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


@dataclass(frozen=True)
class VenueTrade:
    id: str
    order_id: str  # the venue's order id ("None" when the venue left it out, as ccxt does)
    price: Decimal | None
    amount: Decimal | None
    fee: Decimal  # 0 when the venue reported none
    fee_asset: str
    is_maker: bool
    timestamp: int | None  # ms since the epoch
    datetime: str | None  # the same instant as ISO text, for reports
    side: str | None


@dataclass(frozen=True)
class VenueOrder:
    id: str  # "" when the venue gave none
    client_order_id: str
    symbol: str  # ccxt's unified symbol (BTC/USDT, BTC/USDT:USDT)
    side: str | None  # "buy" / "sell"
    type: str | None
    time_in_force: str
    amount: Decimal | None
    price: Decimal | None
    filled: Decimal | None
    average: Decimal | None  # ccxt's average fill price
    venue_average: Decimal | None  # the venue's own average price (Binance avgPrice), None when absent or zero
    cost: Decimal | None
    status: VenueStatus | None  # None: a status ccxt reported that we do not know (status_text says which)
    status_text: str  # ccxt's status as given
    venue_status: str  # the venue's own status word (Binance NEW, PARTIALLY_FILLED, ...), else status_text
    message: str  # the venue's own message about the order, if any
    timestamp: int | None
    last_trade_timestamp: int | None
    trades: tuple[VenueTrade, ...] = field(default=())  # those the report itself carries (a FULL answer, a stream event)
    working: bool | None = None  # on the book (Binance isWorking / w): false while a conditional order is armed
    venue_type: str = ""  # the venue's own type word (Binance STOP_LOSS_LIMIT, ...); ccxt's `type` folds it to limit
    stop_price: Decimal | None = None  # a conditional order's trigger (ccxt's triggerPrice)

    @property
    def reason(self) -> str:
        """Why the order ended as it did, in the venue's words (its message, else its status)."""
        return self.message or self.status_text


@dataclass(frozen=True)
class VenueBalance:
    asset: str
    free: Decimal | None
    locked: Decimal | None
    wallet: Decimal | None = None  # USD-M: the wallet balance (deposits + realized PnL - fees + funding), exact

    def row(self) -> dict:
        """The row `orders.services.balances_replace` takes."""
        return {"asset": self.asset, "free": self.free, "locked": self.locked}


@dataclass(frozen=True)
class VenuePosition:
    symbol: str  # the venue's native symbol (BTCUSDT)
    side: str  # LONG, SHORT or FLAT
    size: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: int
    margin: Decimal | None
    liquidation_price: Decimal | None

    def row(self, market: str) -> dict:
        """The row `orders.services.positions_replace` takes (keys of the Position model)."""
        return {"symbol": self.symbol, "market": market, "side": self.side, "size": self.size,
                "entry_price": self.entry_price, "mark_price": self.mark_price, "unrealized_pnl": self.unrealized_pnl,
                "leverage": self.leverage, "margin": self.margin, "liquidation_price": self.liquidation_price}


# -- readings of ccxt's dicts -----------------------------------------------------------------------

def venue_trade(raw: dict) -> VenueTrade:
    fee = raw.get("fee") or {}
    return VenueTrade(
        id=str(raw["id"]), order_id=str(raw.get("order")), price=decimal_or_none(raw["price"]),
        amount=decimal_or_none(raw["amount"]), fee=decimal_or_none(fee.get("cost")) or Decimal(0),
        fee_asset=fee.get("currency") or "", is_maker=raw.get("takerOrMaker") == "maker",
        timestamp=raw.get("timestamp"), datetime=raw.get("datetime"), side=raw.get("side"))


def venue_order(raw: dict) -> VenueOrder:
    info = raw.get("info") or {}
    text = raw.get("status") or ""
    status = _STATUSES.get(text.lower())
    average = decimal_or_none(info.get("avgPrice"))
    return VenueOrder(
        id=str(raw.get("id") or ""), client_order_id=raw.get("clientOrderId") or "", symbol=raw.get("symbol") or "",
        side=raw.get("side"), type=raw.get("type"), time_in_force=raw.get("timeInForce") or "",
        amount=decimal_or_none(raw.get("amount")), price=decimal_or_none(raw.get("price")),
        filled=decimal_or_none(raw.get("filled")), average=decimal_or_none(raw.get("average")),
        venue_average=average if average else None, cost=decimal_or_none(raw.get("cost")),
        status=status, status_text=str(text), venue_status=str(info.get("status") or text or ""),
        message=str(info.get("msg") or ""), timestamp=raw.get("timestamp"),
        last_trade_timestamp=raw.get("lastTradeTimestamp"),
        trades=tuple(venue_trade(t) for t in (raw.get("trades") or []) if t.get("id")),
        working=_working(info), venue_type=str(info.get("type") or info.get("o") or ""),
        stop_price=decimal_or_none(raw.get("triggerPrice")) or None)


def _working(info: dict) -> bool | None:
    working = info.get("isWorking", info.get("w"))  # a query's answer, or a stream's executionReport
    return working if isinstance(working, bool) else None


def _unified_balances(raw: dict) -> list[VenueBalance]:
    return [VenueBalance(code, decimal_or_none(raw[code].get("free") or 0), decimal_or_none(raw[code].get("used") or 0))
            for code in raw.get("total") or {}]


def spot_balances(raw: dict) -> list[VenueBalance]:
    """Binance's own rows (exact strings) when ccxt kept them, else ccxt's unified amounts; assets holding nothing
    left out."""
    rows = (raw.get("info") or {}).get("balances")
    if isinstance(rows, list):
        out = [VenueBalance(b["asset"], decimal_or_none(b["free"]), decimal_or_none(b["locked"])) for b in rows]
    else:
        out = _unified_balances(raw)
    return [b for b in out if b.free or b.locked]


def futures_balances(raw: dict) -> list[VenueBalance]:
    """ccxt's unified amounts, with each asset's exact wallet balance where Binance's own rows (`assets`) give it."""
    wallets = {a.get("asset"): decimal_or_none(a.get("walletBalance")) for a in (raw.get("info") or {}).get("assets") or []
               if isinstance(a, dict)}
    return [VenueBalance(b.asset, b.free, b.locked, wallets.get(b.asset)) for b in _unified_balances(raw)
            if b.free or b.locked]


def venue_position(raw: dict) -> VenuePosition:
    """The venue's own fields (Binance positionRisk) first, ccxt's unified ones when absent."""
    info = raw.get("info") or {}

    def venue(key: str, unified: str):
        return info.get(key) if info.get(key) is not None else raw.get(unified) or 0

    size = abs(decimal_or_none(venue("positionAmt", "contracts")) or Decimal(0))
    margin = decimal_or_none(venue("initialMargin", "initialMargin"))
    notional = abs(decimal_or_none(venue("notional", "notional")) or Decimal(0))
    leverage = raw.get("leverage") or (round(notional / margin) if margin else 1)
    side = (raw.get("side") or "").upper()
    return VenuePosition(
        symbol=info.get("symbol") or raw["symbol"], side=side if side in ("LONG", "SHORT") and size else "FLAT",
        size=size, entry_price=decimal_or_none(info.get("entryPrice") or raw.get("entryPrice") or 0),
        mark_price=decimal_or_none(info.get("markPrice") or raw.get("markPrice") or 0),
        unrealized_pnl=decimal_or_none(info.get("unRealizedProfit") or raw.get("unrealizedPnl") or 0),
        leverage=int(leverage), margin=margin,
        liquidation_price=decimal_or_none(info.get("liquidationPrice") or raw.get("liquidationPrice")))


@dataclass(frozen=True)
class VenueFunding:
    """One funding payment as the venue reports it: its id (Binance tranId), the exchange-native symbol, the
    asset, the signed amount (received positive, paid negative) and when it was booked (ms since the epoch, UTC)."""

    venue_id: str
    symbol: str
    asset: str
    amount: Decimal
    time_ms: int


def venue_funding(row: dict, native_of: Callable[[str], str]) -> VenueFunding:
    """A ccxt funding-history row: the amount and symbol as the venue wrote them (its decimal string, its own
    symbol) where the raw row has them, never ccxt's float."""
    raw = row.get("info")
    info: dict = raw if isinstance(raw, dict) else {}
    amount = info.get("income") if info.get("income") is not None else row["amount"]
    return VenueFunding(venue_id=str(row["id"]), symbol=str(info.get("symbol") or native_of(row["symbol"])),
                        asset=str(row["code"]), amount=Decimal(str(amount)), time_ms=int(row["timestamp"]))
