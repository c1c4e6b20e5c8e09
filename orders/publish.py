"""Order updates on Redis, published after commit. One JSON shape read by every stream server
(gRPC StreamOrders, REST server-sent events) so nobody re-reads the database per message."""
from __future__ import annotations

from collections.abc import Iterator

from infra import pubsub
from infra.cpu_stages import stage
from orders.lifecycle import EventKind
from orders.models import Order, OrderEvent, Status
from orders.selectors import order_events_to_resume

# update_type on the wire (OrderUpdate.update_type) for each status an event leaves the order in.
UPDATE_TYPE = {
    Status.PENDING_NEW: "NEW",
    Status.NEW: "NEW",
    Status.PARTIALLY_FILLED: "UPDATE",
    Status.PENDING_CANCEL: "UPDATE",
    Status.FILLED: "FILLED",
    Status.CANCELLED: "CANCELLED",
    Status.REJECTED: "REJECTED",
    Status.EXPIRED: "EXPIRED",
}


def _ms(dt) -> int:
    return int(dt.timestamp() * 1000) if dt else 0


def _dec(value) -> str:
    return "" if value is None else format(value.normalize(), "f") if value else "0"


def order_payload(order: Order, account_name: str | None = None) -> dict:
    """The order as plain JSON types; decimals as exact strings, times in Unix ms."""
    return {
        "order_id": order.id,
        "client_order_id": order.client_order_id or "",
        "exchange_order_id": order.exchange_order_id,
        "account_id": account_name or order.account.name,
        "exchange": order.exchange,
        "market": order.market,
        "symbol": order.symbol,
        "side": order.side,
        "order_type": order.order_type,
        "time_in_force": order.time_in_force,
        "reduce_only": order.reduce_only,
        "post_only": order.post_only,
        "leverage": order.leverage or 0,
        "quantity": _dec(order.quantity),
        "price": _dec(order.price),
        "stop_price": _dec(order.stop_price),
        "triggered_at_ms": _ms(order.triggered_at),
        "filled_quantity": _dec(order.filled_quantity),
        "average_price": _dec(order.average_price),
        "cumulative_fee": _dec(order.cumulative_fee),
        "fee_asset": order.fee_asset,
        "status": order.status,
        "reason": order.reason,
        "version": order.version,
        "amend_pending": order.amend_request is not None,
        "created_at_ms": _ms(order.created_at),
        "updated_at_ms": _ms(order.updated_at),
    }


def update_message(order: Order, event: OrderEvent, account_name: str | None = None) -> dict:
    return {
        "sequence": event.id,
        "event_kind": event.kind,
        "update_type": UPDATE_TYPE[event.to_status],
        "at_ms": _ms(event.at),
        "order": order_payload(order, account_name),
    }


def event_update_message(event: OrderEvent) -> dict:
    """The update `event` published, as a resuming stream hears it: the order with the status, version and time
    that event left it in (other fields as they stand now), never its current status under an old sequence."""
    message = update_message(event.order, event)
    message["order"].update(status=event.to_status, version=event.sequence, updated_at_ms=_ms(event.at))
    return message


def updates_to_resume(*, since: int, accounts) -> Iterator[dict]:
    """The updates a stream client that received sequence `since` may have missed (selectors.order_events_to_resume),
    oldest first, rendered by event_update_message. Both stream servers (gRPC StreamOrders, REST events) resume
    with it. STALE_IGNORED events are never published live, so they are not replayed either."""
    events = order_events_to_resume(since=since, accounts=accounts).exclude(kind=EventKind.STALE_IGNORED)
    for event in events.iterator(chunk_size=500):
        yield event_update_message(event)


def publish_order_update(order: Order, event: OrderEvent) -> None:
    """Call from transaction.on_commit only: subscribers must never see an update that rolled back."""
    with stage("publish"):
        account_name = order.account.name
        pubsub.publish_json(pubsub.order_channel(account_name), update_message(order, event, account_name))
