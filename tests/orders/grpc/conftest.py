"""Fixtures for the gRPC tests: the SDK client on a real server, and a funded account."""
import threading
from decimal import Decimal

import pytest

from clients.python.oms_client import OMSClient
from orders import services
from orders.models import Order
from tests.waiting import wait_until


@pytest.fixture
def client(grpc_server):
    with OMSClient(grpc_server, timeout=10) as c:
        yield c


@pytest.fixture
def funded(account):
    services.balances_replace(account=account.name, market="spot",
                              balances=[{"asset": "USDT", "free": Decimal("10000"), "locked": Decimal("0")},
                                        {"asset": "BTC", "free": Decimal("1.5"), "locked": Decimal("0.25")}])
    return account


class VenueAnswer(threading.Thread):
    """Plays the worker's part for one order: once the order is in the ledger, report what the venue said
    through the real service (used where no worker/venue runs)."""

    def __init__(self, *, status="NEW", exchange_order_id="X-1", **fields):
        super().__init__(daemon=True)
        self.report = {"status": status, "exchange_order_id": exchange_order_id, **fields}
        self.order_id = None

    def run(self):
        from django.db import connection
        try:
            order = wait_until(lambda: Order.objects.filter(status="PENDING_NEW").order_by("-created_at").first())
            self.order_id = order.id
            services.order_apply_venue_update(order_id=order.id, **self.report)
        finally:
            connection.close()


class StreamReader(threading.Thread):
    """Reads a server stream in the background; the test waits for what it expects, never sleeps."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.messages, self.error = call, [], None

    def start(self):
        """Start reading once the server says the stream is live (its initial metadata)."""
        assert ("oms-stream", "live") in tuple(self.call.initial_metadata())
        super().start()
        return self

    def run(self):
        try:
            for message in self.call:
                self.messages.append(message)
        except Exception as exc:  # noqa: BLE001 - kept for the test to inspect
            self.error = exc

    def wait_for(self, count, timeout=10.0):
        wait_until(lambda: len(self.messages) >= count or self.error, timeout=timeout)
        assert len(self.messages) >= count, f"stream ended early: {self.error!r}"
        return self.messages[:count]

    def wait_ended(self, timeout=10.0):
        self.join(timeout)
        assert not self.is_alive(), "stream still open"
        return self.error

    def stop(self):
        self.call.cancel()
        self.join(5)
