"""An order whose event takes its sequence now but commits later, as under concurrent writers."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction

from orders.models import OrderEvent
from tests import factories


@contextmanager
def placement_committed_late(account, price: Decimal) -> Iterator[dict]:
    """Place an order in a transaction another thread holds open: yields {order_id, sequence} once its event is
    written (its sequence taken, invisible to everyone else); the transaction commits when the block ends.
    Needs committed test data (transactional_db)."""
    written, commit = threading.Event(), threading.Event()
    slow: dict = {}

    def hold_open():
        try:
            with transaction.atomic():
                order = factories.order_place(account, price=price)
                slow.update(order_id=order.id, sequence=OrderEvent.objects.get(order=order).id)
                written.set()
                commit.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=hold_open)
    writer.start()
    try:
        assert written.wait(10), "the held-open placement was not written"
        yield slow
    finally:
        commit.set()
        writer.join(10)
