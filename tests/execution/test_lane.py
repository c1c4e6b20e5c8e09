"""The order lane (execution/lane.py): which workers run it, and that nothing an item does stops it."""
import threading
from decimal import Decimal

from celery.contrib.testing.worker import start_worker

from infra import pubsub
from oms_project.celery import app
from orders import handoff, services
from orders.models import Order, Status
from tests.fixtures.venue_audit import posts_of
from tests.waiting import wait_until


def lane_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("oms-lane-")]


def test_only_workers_of_the_orders_queue_run_the_lane_and_they_stop_it(transactional_db, settings):
    settings.OMS_LANE_THREADS = 3
    with start_worker(app, pool="threads", concurrency=1, queues=["sync"], perform_ping_check=False,
                      shutdown_timeout=30):
        assert lane_threads() == []
    with start_worker(app, pool="threads", concurrency=1, queues=["orders", "sync"], perform_ping_check=False,
                      shutdown_timeout=30):
        assert len(lane_threads()) == 3
    wait_until(lambda: lane_threads() == [], timeout=10, what="lane threads to stop with their worker")


def test_items_it_cannot_use_do_not_stop_it(venue, venue_account):
    # given items that are malformed, of an unknown action, or about an order that does not exist
    redis = pubsub.client()
    redis.rpush(handoff.lane_key(), b"garbage", b"explode:01abc:main", b"submit:01doesnotexist:main")
    # when a real placement follows them
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.001"),
                                 price=Decimal("90000"))
    # then it is sent once and acknowledged, and the lane is empty
    wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.NEW).exists(), timeout=20, what="NEW")
    assert len(posts_of(venue, order.id)) == 1
    assert redis.llen(handoff.lane_key()) == 0
