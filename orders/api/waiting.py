"""Placement and cancellation answer with the venue's outcome when it comes quickly: the adapter listens
for the order's published update, bounded by OMS_PLACE_WAIT_SECONDS. A timeout answers with the pending
state, never an error that invites a blind retry."""
from __future__ import annotations

import json
import time

from django.conf import settings

from infra import pubsub
from orders.models import Order
from orders.selectors import order_get


def order_settled(order: Order, *, pending: str) -> Order:
    """The order once it has left `pending`, or as it stands when the wait is over."""
    timeout = settings.OMS_PLACE_WAIT_SECONDS
    if order.status != pending or timeout <= 0:
        return order
    subscription = pubsub.client().pubsub(ignore_subscribe_messages=True)
    subscription.subscribe(pubsub.order_channel(order.account.name))
    try:
        current = order_get(order.pk)  # the outcome may have landed before we listened
        deadline = time.monotonic() + timeout
        while current.status == pending and (left := deadline - time.monotonic()) > 0:
            message = subscription.get_message(timeout=min(left, 1.0))
            if message and json.loads(message["data"])["order"]["order_id"] == order.pk:
                current = order_get(order.pk)
        return current
    finally:
        subscription.close()
