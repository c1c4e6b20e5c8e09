"""How long the venue keeps closed orders and how far its order and trade queries reach, as Binance does, in
venue time (venue_clock: `clock_speed` and `advance_ms` let tests pass days in a second).

- USD-M: an order CANCELED or EXPIRED without a fill is gone 3 days after it was created (lookups -2013, absent
  from allOrders); any order is gone after 90 days. allOrders and userTrades cover at most 7 days between
  startTime and endTime (-1127); with neither they cover the last 7 days, with one the 7 days from/to it.
- Spot: an order CANCELED or EXPIRED without a fill is archived 90 days after it closed: a lookup answers -2026
  "Order was canceled or expired with no executed qty over 90 days ago and has been archived." and allOrders
  leaves it out. allOrders with startTime and endTime covers at most 24 hours (-1127).
Open orders and orders with fills stay (spot) as they are; trades are never dropped."""
from .refusals import VenueError

DAY_MS = 86_400_000
FUTURES_UNFILLED_KEEP_MS = 3 * DAY_MS
FUTURES_KEEP_MS = 90 * DAY_MS
SPOT_ARCHIVE_MS = 90 * DAY_MS
FUTURES_SPAN_MS = 7 * DAY_MS
SPOT_ORDERS_SPAN_MS = DAY_MS
UNFILLED_CLOSED = ("CANCELED", "EXPIRED")


def archived(order) -> VenueError:
    return VenueError(-2026, "Order was canceled or expired with no executed qty over 90 days ago and has been archived.")


def retained(venue, order) -> bool:
    """Whether a query may still return this order."""
    if order.market == "spot":
        return not (order.status in UNFILLED_CLOSED and not order.executed_qty
                    and venue.venue_age_ms(order.update_time) > SPOT_ARCHIVE_MS)
    age = venue.venue_age_ms(order.time)
    if age > FUTURES_KEEP_MS:
        return False
    return not (order.status in UNFILLED_CLOSED and not order.executed_qty and age > FUTURES_UNFILLED_KEEP_MS)


def lookup_refusal(venue, order, missing: VenueError) -> VenueError | None:
    """The refusal a lookup of a no longer retained order gets (spot: archived; USD-M: does not exist)."""
    if retained(venue, order):
        return None
    return archived(order) if order.market == "spot" else missing


def orders_window(market: str, start: int | None, end: int | None) -> None:
    """Refuse a startTime..endTime window wider than Binance allows for allOrders."""
    span = SPOT_ORDERS_SPAN_MS if market == "spot" else FUTURES_SPAN_MS
    if start is not None and end is not None and end - start > span:
        raise VenueError(-1127, "More than 24 hours between startTime and endTime." if market == "spot"
                         else "More than 7 days between startTime and endTime.")


def recent(venue, wire_ms: int) -> bool:
    """Within the last 7 days of venue time: what a USD-M query without startTime/endTime covers."""
    return venue.venue_age_ms(wire_ms) <= FUTURES_SPAN_MS
