"""`Idempotency-Key` for REST placement: a retry returns the first result; the same key with another
body is refused. The key row and the order commit in one transaction (see IdempotencyKey)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction

from infra.errors import Conflict, InvalidInput
from orders.models import IdempotencyKey, Order

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _canonical(value):
    """The same number written two ways ("0.01", "0.010") is the same request."""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def request_digest(data: dict) -> str:
    text = json.dumps(data, sort_keys=True, default=_canonical, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def place_once(*, user, key: str, data: dict, place: Callable[[], Order]) -> tuple[Order, bool]:
    """Runs `place` once per (user, key). Returns (order, replayed)."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"must be 1 to {MAX_KEY_LENGTH} printable characters", field=HEADER)
    digest = request_digest(data)
    with transaction.atomic():
        # A concurrent twin blocks on the unique index until this commits, then sees the stored order.
        record, created = IdempotencyKey.objects.get_or_create(user=user, key=key, defaults={"request_digest": digest})
        if record.request_digest != digest:
            raise Conflict(f"this {HEADER} was already used with a different request body", field=HEADER)
        if not created:
            return Order.objects.select_related("account").get(pk=record.order_id), True
        record.order = place()
        record.save(update_fields=["order"])
        return record.order, False
