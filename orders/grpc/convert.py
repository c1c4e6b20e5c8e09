"""Wire <-> domain at the edge: doubles and exact decimal strings in, Decimal inside; Unix seconds on
the original fields, milliseconds on the extensions. Nothing past this module sees a float."""
from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

from infra.errors import InvalidInput, echo
from orders.publish import order_payload
from orders.validation import DECIMAL_TEXT_RULE, decimal_from_text
from proto import oms_pb2


def decimal_in(field: str, value: float, exact: str = "") -> Decimal:
    """The request's number as a Decimal: `exact` (a decimal string extension field) wins over the double.

    Refuses what is not an amount at all (NaN, infinities, negatives) naming the wire field; zero and
    range pass through to the services, which own the rules for amounts."""
    if exact.strip():
        number = decimal_from_text(exact)
        if number is None:
            raise InvalidInput(f"{field}_decimal {DECIMAL_TEXT_RULE}, not {echo(exact)}", field=field)
    else:
        if math.isnan(value):
            raise InvalidInput("must be a number, got NaN", field=field)
        if math.isinf(value):
            raise InvalidInput("must be finite, got infinity", field=field)
        number = Decimal(repr(value))  # shortest repr: 0.001 stays 0.001, not 0.001000000000000000020816...
    if not number.is_finite():
        raise InvalidInput(f"must be a finite number, got {echo(number)}", field=field)
    if number < 0:
        raise InvalidInput(f"must not be negative, got {echo(format(number, 'f'), quote=False)}", field=field)
    return number


def optional_decimal_in(field: str, value: float, exact: str = "") -> Decimal | None:
    """Like decimal_in, but proto3's 0 / "" means "not given" (e.g. no price on a market order)."""
    number = decimal_in(field, value, exact)
    return number if number else None


def text_decimal(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if value else "0"


def float_of(text_or_decimal) -> float:
    """A double for the original fields (exact strings travel beside them)."""
    if text_or_decimal in (None, ""):
        return 0.0
    return float(Decimal(str(text_or_decimal)))


def seconds(dt: datetime | None) -> int:
    return int(dt.timestamp()) if dt else 0


def millis(dt: datetime | None) -> int:
    return int(dt.timestamp() * 1000) if dt else 0


def order_message(payload: dict) -> oms_pb2.Order:
    """An Order message from the JSON shape of orders.publish (the one shape on Redis and here)."""
    p = payload
    return oms_pb2.Order(
        order_id=p["order_id"],
        exchange_order_id=p.get("exchange_order_id") or "",
        symbol=p["symbol"],
        side=p["side"],
        order_type=p["order_type"],
        quantity=float_of(p["quantity"]),
        price=float_of(p["price"]),
        filled_quantity=float_of(p["filled_quantity"]),
        status=p["status"],
        exchange=p["exchange"],
        market=p["market"],
        account_id=p["account_id"],
        created_at=p["created_at_ms"] // 1000,
        updated_at=p["updated_at_ms"] // 1000,
        client_order_id=p.get("client_order_id") or "",
        time_in_force=p.get("time_in_force") or "",
        reduce_only=bool(p.get("reduce_only")),
        post_only=bool(p.get("post_only")),
        leverage=int(p.get("leverage") or 0),
        average_price=float_of(p.get("average_price")),
        cumulative_fee=float_of(p.get("cumulative_fee")),
        fee_asset=p.get("fee_asset") or "",
        reason=p.get("reason") or "",
        version=int(p.get("version") or 0),
        created_at_ms=p["created_at_ms"],
        updated_at_ms=p["updated_at_ms"],
        quantity_decimal=p["quantity"],
        price_decimal=p["price"],
        filled_quantity_decimal=p["filled_quantity"],
        average_price_decimal=p.get("average_price") or "",
        stop_price=float_of(p.get("stop_price")),
        stop_price_decimal=p.get("stop_price") or "",
        triggered_at_ms=int(p.get("triggered_at_ms") or 0),
    )


def order_of(order) -> oms_pb2.Order:
    return order_message(order_payload(order))


def order_update_message(message: dict) -> oms_pb2.OrderUpdate:
    """An OrderUpdate from orders.publish.update_message's shape."""
    return oms_pb2.OrderUpdate(
        order=order_message(message["order"]),
        update_type=message["update_type"],
        sequence=int(message["sequence"]),
        event_kind=message.get("event_kind") or "",
        at_ms=int(message.get("at_ms") or 0),
    )


def price_update_message(update: dict) -> oms_pb2.PriceUpdate:
    """A PriceUpdate from infra.pubsub.publish_price's shape."""
    ts_ms = int(update.get("timestamp_ms") or 0)
    return oms_pb2.PriceUpdate(
        exchange=update["exchange"],
        symbol=update["symbol"],
        bid_price=float_of(update.get("bid_price")),
        bid_quantity=float_of(update.get("bid_quantity")),
        ask_price=float_of(update.get("ask_price")),
        ask_quantity=float_of(update.get("ask_quantity")),
        last_price=float_of(update.get("last_price")),
        timestamp=ts_ms // 1000,
        market=update.get("market") or "",
        timestamp_ms=ts_ms,
    )


def price_update_bytes(update: dict) -> bytes:
    """price_update_message, encoded for the wire (once per update, for every stream that wants it)."""
    return price_update_message(update).SerializeToString()


def balance_message(balance) -> oms_pb2.Balance:
    return oms_pb2.Balance(
        asset=balance.asset,
        free=float(balance.free),
        locked=float(balance.locked),
        total=float(balance.free + balance.locked),
        free_decimal=text_decimal(balance.free),
        locked_decimal=text_decimal(balance.locked),
        updated_at_ms=millis(balance.updated_at),
    )


def candle_message(row: dict) -> oms_pb2.Candle:
    """One candle of exchanges.ohlcv (decimal strings) as doubles plus the exact strings."""
    return oms_pb2.Candle(
        open_time_ms=row["open_time"], close_time_ms=row["close_time"],
        open=float(row["open"]), high=float(row["high"]), low=float(row["low"]), close=float(row["close"]),
        volume=float(row["volume"]), open_decimal=row["open"], high_decimal=row["high"], low_decimal=row["low"],
        close_decimal=row["close"], volume_decimal=row["volume"],
    )


def _double(value: Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def _exacts(amounts: dict[str, Decimal]) -> dict[str, str]:
    return {asset: text_decimal(amount) for asset, amount in amounts.items()}


def position_message(row) -> oms_pb2.Position:
    """A Position from orders.selectors_portfolio.PositionRow: the original fields carry its figures (the ledger's,
    or the venue's for a position the ledger does not hold); pnl_percentage is 0 when unknown (a double cannot say
    so; pnl_percentage_decimal is then "")."""
    return oms_pb2.Position(
        symbol=row.symbol,
        side=row.side,
        size=float(row.size),
        entry_price=float(row.entry_price),
        mark_price=_double(row.mark_price),
        unrealized_pnl=_double(row.unrealized_pnl),
        pnl_percentage=_double(row.pnl_percentage),
        leverage=row.leverage,
        margin=float(row.margin),
        liquidation_price=_double(row.liquidation_price),
        account_id=row.account,
        updated_at_ms=millis(row.updated_at),
        source=row.source,
        realized_pnl=float(row.realized_pnl),
        fees=float(row.fees),
        funding=float(row.funding),
        other_fees=_exacts(row.other_fees),
        venue_side=row.venue_side or "",
        venue_size=_double(row.venue_size),
        venue_entry_price=_double(row.venue_entry_price),
        market=row.market,
        exchange=row.exchange,
        size_decimal=text_decimal(row.size),
        entry_price_decimal=text_decimal(row.entry_price),
        mark_price_decimal=text_decimal(row.mark_price),
        unrealized_pnl_decimal=text_decimal(row.unrealized_pnl),
        pnl_percentage_decimal=text_decimal(row.pnl_percentage),
        realized_pnl_decimal=text_decimal(row.realized_pnl),
        fees_decimal=text_decimal(row.fees),
        funding_decimal=text_decimal(row.funding),
        venue_size_decimal=text_decimal(row.venue_size),
        venue_entry_price_decimal=text_decimal(row.venue_entry_price),
    )


def holding_message(h) -> oms_pb2.Holding:
    """A Holding from orders.selectors_pnl.Holding (unknown figures: 0 and "")."""
    return oms_pb2.Holding(
        account_id=h.account, exchange=h.exchange, asset=h.asset, quote_asset=h.quote_asset,
        quantity=float(h.quantity), average_cost=float(h.average_cost), realized_pnl=float(h.realized_pnl),
        fees=float(h.fees), last_price=_double(h.last_price), unrealized_pnl=_double(h.unrealized_pnl),
        pnl_percentage=_double(h.pnl_percentage), other_fees=_exacts(h.other_fees),
        quantity_decimal=text_decimal(h.quantity), average_cost_decimal=text_decimal(h.average_cost),
        realized_pnl_decimal=text_decimal(h.realized_pnl), fees_decimal=text_decimal(h.fees),
        last_price_decimal=text_decimal(h.last_price), unrealized_pnl_decimal=text_decimal(h.unrealized_pnl),
        pnl_percentage_decimal=text_decimal(h.pnl_percentage),
    )


def pnl_row_message(r) -> oms_pb2.PnLRow:
    """A PnLRow from orders.selectors_pnl.PnlRow."""
    return oms_pb2.PnLRow(
        key=r.key, realized_pnl=float(r.realized_pnl), fees=float(r.fees), funding=float(r.funding),
        net_pnl=float(r.net_pnl), unrealized_pnl=float(r.unrealized_pnl), volume=float(r.volume),
        trade_count=r.trade_count, other_fees=_exacts(r.other_fees), realized_pnl_decimal=text_decimal(r.realized_pnl),
        fees_decimal=text_decimal(r.fees), funding_decimal=text_decimal(r.funding),
        net_pnl_decimal=text_decimal(r.net_pnl), unrealized_pnl_decimal=text_decimal(r.unrealized_pnl),
        volume_decimal=text_decimal(r.volume),
    )


def pnl_response(read) -> oms_pb2.GetPnLResponse:
    """GetPnLResponse from orders.selectors_portfolio.PnlRead."""
    return oms_pb2.GetPnLResponse(
        rows=[pnl_row_message(r) for r in read.report.rows], total=pnl_row_message(read.report.total),
        since_ms=millis(read.since), until_ms=millis(read.until), group_by=read.group_by, account_ids=read.accounts,
    )


MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last time Python and PostgreSQL both hold


def time_in(field: str, ms: int) -> datetime | None:
    """A request's ms since 1970 as a UTC time; 0 is "not given"."""
    if ms < 0 or ms > MAX_MS:
        raise InvalidInput(f"must be ms since 1970 from 0 (not given) to {MAX_MS}, got {ms}", field=field)
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None
