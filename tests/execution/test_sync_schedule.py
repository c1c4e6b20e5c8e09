"""Which working orders the poller looks at, and when (no venue needed)."""
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from execution import venue_orders
from orders import services
from orders.models import Order, Status
from tests import factories


def _order(account, *, age: timedelta, status=Status.NEW) -> Order:
    order = factories.order_place(account, client_order_id=f"c{age.total_seconds()}{status}")
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - age, status=status)
    return Order.objects.get(pk=order.pk)


def test_young_orders_are_polled_every_second_and_old_ones_once_a_minute(account, btcusdt, order_lane):
    young, old = _order(account, age=timedelta(seconds=5)), _order(account, age=timedelta(hours=1))
    assert venue_orders.sync_interval(young) == timedelta(seconds=1)
    assert venue_orders.sync_interval(old) == timedelta(seconds=60)
    aged = _order(account, age=timedelta(seconds=100))
    interval = venue_orders.sync_interval(aged)
    assert timedelta(seconds=10) <= interval <= (timezone.now() - aged.created_at) / 10  # a tenth of its age


GRACE = timedelta(seconds=30)


def test_a_due_order_is_claimed_once_and_rescheduled_by_its_age(account, btcusdt, order_lane):
    working = _order(account, age=timedelta(minutes=10))
    done = _order(account, age=timedelta(minutes=10), status=Status.FILLED)
    just_placed = _order(account, age=timedelta(0), status=Status.PENDING_NEW)
    queued = _order(account, age=timedelta(seconds=10), status=Status.PENDING_NEW)  # its submit task still coming

    before = timezone.now()
    claimed = services.order_sync_due_claim(limit=100, interval=venue_orders.sync_interval, handoff_grace=GRACE)
    after = timezone.now()

    assert claimed == [working.id]  # not the closed one, nor one placed this instant or still in the queue
    working.refresh_from_db()
    assert before + timedelta(seconds=60) <= working.next_sync_at <= after + timedelta(seconds=60)  # a minute on
    assert services.order_sync_due_claim(limit=100, interval=venue_orders.sync_interval, handoff_grace=GRACE) == []
    for untouched in (done, just_placed, queued):
        untouched.refresh_from_db()
        assert untouched.next_sync_at is None
    lost = _order(account, age=timedelta(minutes=2), status=Status.PENDING_NEW)  # its hand-off was lost
    assert services.order_sync_due_claim(limit=100, interval=venue_orders.sync_interval, handoff_grace=GRACE) == [lost.id]


def test_the_send_of_an_order_is_claimed_exactly_once(account, btcusdt, order_lane):
    order = factories.order_place(account, price=Decimal("20000"))
    assert services.order_submission_claim(order_id=order.id) is True
    assert services.order_submission_claim(order_id=order.id) is False
    services.order_submission_release(order_id=order.id)
    assert services.order_submission_claim(order_id=order.id) is True
