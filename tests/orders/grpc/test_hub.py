"""The process's one Redis subscriber: what its streams see when the Redis connection drops."""
import asyncio
import os

import pytest
import redis
from django.conf import settings

from infra import pubsub
from infra.errors import Unavailable
from infra.grpc_aio import LoopThread
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


def test_streams_on_an_event_loop_get_each_update_once_encoded_for_all(hub):
    loop = LoopThread("test-hub-loop")
    try:
        wanted = [hub.subscribe_prices(["HUBTESTUSDT"], loop=loop.loop) for _ in range(3)]
        other = hub.subscribe_prices(["OTHERUSDT"], loop=loop.loop)
        pubsub.publish_json(pubsub.price_channel("binance", "spot", "HUBTESTUSDT"),
                            {"symbol": "HUBTESTUSDT", "last_price": "2"})
        received = [loop.run(asyncio.wait_for(sub.next(), 5)) for sub in wanted]
        encoded = []
        wires = [item.wire(lambda message: encoded.append(message) or b"wire") for item in received]

        assert received[0].message["last_price"] == "2"
        assert received[0] is received[1] is received[2]
        assert wires == [b"wire"] * 3 and len(encoded) == 1
        assert loop.run(other.next()) is None  # woken by the hub's nudge, with nothing for it
        hub.end_streams(Unavailable("server shutting down; reconnect"))
        with pytest.raises(Unavailable):
            loop.run(wanted[0].next())
    finally:
        loop.stop()
