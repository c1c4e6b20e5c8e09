"""The process's one Redis subscriber: what its streams see when the Redis connection drops."""
import os

import pytest
import redis
from django.conf import settings

from oms_project import pubsub
from oms_project.errors import Unavailable
from orders.grpc.hub import Hub
from tests.waiting import wait_until


@pytest.fixture
def hub():
    name = f"oms-grpc-hub-test-{os.getpid()}"
    hub = Hub(queue_size=10, max_streams=5,
              client_factory=lambda: redis.Redis.from_url(settings.REDIS_URL, client_name=name))
    hub.client_name = name
    hub.start()
    yield hub
    hub.stop()


def drop_connection(name):
    admin = pubsub.client()
    ids = [c["id"] for c in admin.client_list() if c.get("name") == name]
    assert ids, "the hub's connection is not there"
    for client_id in ids:
        admin.client_kill_filter(_id=client_id)


def test_a_dropped_connection_ends_order_streams_and_the_hub_reconnects(hub):
    orders = hub.subscribe_orders(None)
    prices = hub.subscribe_prices(["HUBTESTUSDT"])

    drop_connection(hub.client_name)

    def ended():
        try:
            orders.next(0.1)
        except Unavailable as exc:
            return str(exc)
        return None

    # Updates published during the gap are lost to this subscriber: its client must resume from the ledger.
    assert "interrupted" in wait_until(ended)
    wait_until(lambda: hub.connected.is_set() and hub.client_name in {c.get("name") for c in pubsub.client().client_list()})
    pubsub.publish_json(pubsub.price_channel("binance", "spot", "HUBTESTUSDT"), {"symbol": "HUBTESTUSDT", "last_price": "1"})
    assert wait_until(lambda: prices.next(0.1))["last_price"] == "1"  # price streams carry on after the reconnect
    assert orders not in hub.subscriptions and prices in hub.subscriptions
