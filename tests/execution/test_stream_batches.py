"""What a user stream's ledger side does with events that piled up while it was busy: balance events are applied as
one, leaving what applying them one by one would; a report the ledger already shows writes nothing."""
import asyncio
import contextlib
import threading
from decimal import Decimal

from django.db import connections

from accounts.models import Balance
from exchanges.results import venue_order
from execution import user_streams
from orders import services
from orders.models import Order, OrderEvent, Status
from tests import factories
from tests.waiting import wait_until


def _stored(account) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.free, b.locked) for b in Balance.objects.filter(account=account, market="spot")}


@contextlib.contextmanager
def applying(stream: user_streams.Stream, items: list):
    """The stream's ledger side running on its own event loop over `items`, all queued before it starts (so it
    takes them as one batch); stopped when the block ends."""
    loop = asyncio.new_event_loop()
    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    task = loop.create_task(stream._apply(queue))
    thread = threading.Thread(target=_run_until_cancelled, args=(loop, task), daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        loop.close()
        stream.ledger.submit(connections.close_all).result()  # the ledger thread's own connection
        stream.ledger.shutdown(wait=True)


def _run_until_cancelled(loop, task) -> None:
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        pass


def test_balance_events_that_piled_up_leave_each_assets_latest_amounts(transactional_db, account):
    services.balances_replace(account="main", market="spot", balances=[
        {"asset": "USDT", "free": "1000", "locked": "0"}, {"asset": "ETH", "free": "2", "locked": "0"}])
    with applying(user_streams.Stream(account.pk, "spot", "test"), [
        ("balance", [{"asset": "USDT", "free": "900", "locked": "100"}, {"asset": "BTC", "free": "1", "locked": "0"}]),
        ("balance", [{"asset": "USDT", "free": "800", "locked": "200"}]),
        ("balance", [{"asset": "ETH", "free": "0", "locked": "0"}]),
    ]):
        wait_until(lambda: _stored(account) == {"USDT": (Decimal("800"), Decimal("200")),
                                                "BTC": (Decimal("1"), Decimal("0"))},
                   what="the balances the last events give each asset")


def test_a_report_the_ledger_already_shows_writes_no_event(order_lane, account):
    factories.instrument_create()
    order = services.order_place(account="main", symbol="BTCUSDT", side="BUY", quantity=Decimal("0.01"),
                                 price=Decimal("20000"))
    ack = venue_order({"id": "77", "clientOrderId": order.id, "status": "open", "filled": 0,
                       "info": {"status": "NEW"}})
    user_streams.apply_order_report(account.pk, "spot", ack)
    assert Order.objects.get(pk=order.pk).status == Status.NEW
    events = OrderEvent.objects.filter(order_id=order.pk).count()
    user_streams.apply_order_report(account.pk, "spot", ack)  # heard again (the worker recorded it first)
    assert OrderEvent.objects.filter(order_id=order.pk).count() == events
    assert Order.objects.get(pk=order.pk).version == events
