"""2c. The venue acknowledged the order but the database commit that records it fails.

The failure is real: a PostgreSQL constraint trigger, deferred to COMMIT, fires when the worker writes the
venue's answer (the order's exchange id) and either refuses the commit (an error, on every attempt while the
fault lasts) or kills the worker's connection in the middle of the commit (once). A sequence, which a
rolled-back transaction does not undo, counts the commits the trigger has seen. Whatever happens, the venue holds one order per intent
and the ledger ends with it: by reconciliation once the database is healthy again, or by the worker's
own retry, which looks the order up and never sends it again."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from orders import services
from orders.models import Order, Status
from tests.execution.test_reconcile_e2e import reconcile
from tests.fixtures.venue_audit import posts_of
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal

FAULTS = {
    # The commit is refused (a PL/pgSQL error is not a transient error: the worker's task gives up).
    "refused": "RAISE EXCEPTION 'fault injected: the commit recording order % is refused', NEW.id",
    # The worker's connection dies during the commit (OperationalError: the task retries, once the shot is spent).
    "connection killed": "PERFORM pg_terminate_backend(pg_backend_pid())",
}


class CommitFault:
    """Installs the trigger on orders_order; `shots` is how many commits it may break (None: every one)."""

    def __init__(self, action: str, shots: int | None):
        limit = "" if shots is None else f"IF nextval('fault_commit_shots') > {shots} THEN RETURN NULL; END IF;"
        count = "" if shots is not None else "PERFORM nextval('fault_commit_shots');"
        with connection.cursor() as cur:
            cur.execute("CREATE SEQUENCE fault_commit_shots")
            cur.execute(f"""
                CREATE FUNCTION fault_commit_after_ack() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN {limit} {count} {action}; RETURN NULL; END $$""")
            cur.execute("""
                CREATE CONSTRAINT TRIGGER fault_commit_after_ack AFTER UPDATE ON orders_order
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
                WHEN (NEW.exchange_order_id IS DISTINCT FROM OLD.exchange_order_id)
                EXECUTE FUNCTION fault_commit_after_ack()""")

    @staticmethod
    def seen() -> int:
        with connection.cursor() as cur:
            cur.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM fault_commit_shots")
            return cur.fetchone()[0]

    @staticmethod
    def remove() -> None:
        with connection.cursor() as cur:
            cur.execute("DROP TRIGGER IF EXISTS fault_commit_after_ack ON orders_order")
            cur.execute("DROP FUNCTION IF EXISTS fault_commit_after_ack()")
            cur.execute("DROP SEQUENCE IF EXISTS fault_commit_shots")


@pytest.fixture
def commit_fault(venue_account):
    installed: list[CommitFault] = []

    def install(kind: str, shots: int | None) -> CommitFault:
        installed.append(CommitFault(FAULTS[kind], shots))
        return installed[-1]

    yield install
    CommitFault.remove()


def _place(**fields) -> Order:
    return services.order_place(**{"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": D("0.01"),
                                   **fields})


def _one_venue_order(venue, venue_view, order: Order) -> dict:
    posts = posts_of(venue, order.id)
    assert len(posts) == 1 and posts[0]["status"] == 200, posts  # sent once, accepted
    return venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order.id})


@pytest.mark.parametrize("order_type", ["LIMIT", "MARKET"])
def test_a_refused_commit_after_the_ack_is_repaired_by_reconciliation_with_nothing_orphaned(
        order_type, venue, venue_account, venue_view, commit_fault):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    fault = commit_fault("refused", shots=None)
    order = _place(order_type=order_type, price=D("90000") if order_type == "LIMIT" else None)

    wait_until(lambda: posts_of(venue, order.id), what="the order reached the venue")
    wait_until(fault.seen, what="the commit recording the ack refused")
    # The ledger still has the order as sent and unanswered; the venue has it working (or filled).
    stuck = Order.objects.get(pk=order.id)
    assert stuck.status == Status.PENDING_NEW and stuck.submitted_at is not None and not stuck.exchange_order_id
    assert not stuck.fills.exists()
    on_venue = _one_venue_order(venue, venue_view, order)
    assert on_venue["status"] == ("open" if order_type == "LIMIT" else "closed")

    # The database is healthy again: reconciliation finds the venue's order and the ledger takes it.
    fault.remove()
    code, runs = reconcile("--fix")
    drift = [d for run in runs for d in run["drift"] if d["order_id"] == order.id or d["reference"] == order.id]
    assert drift and all(d["fixed"] for d in drift), runs
    assert not [d for run in runs for d in run["drift"] if d["kind"] == "ORDER_UNKNOWN"]  # nothing adopted twice

    order = Order.objects.get(pk=order.id)
    assert order.exchange_order_id == on_venue["id"]
    if order_type == "LIMIT":
        assert order.status == Status.NEW
    else:
        trades = venue_view.fetch_my_trades("BTC/USDT", None, None, {"orderId": on_venue["id"]})
        assert order.status == Status.FILLED and trades
        assert sorted(f.trade_id for f in order.fills.all()) == sorted(t["id"] for t in trades)
        assert order.filled_quantity == D(on_venue["info"]["executedQty"]) == D("0.01")
    assert Order.objects.count() == 1 and len(posts_of(venue, order.id)) == 1  # nothing duplicated
    assert {o["clientOrderId"] for o in venue_view.fetch_open_orders("BTC/USDT")} == (
        {order.id} if order_type == "LIMIT" else set())  # nothing orphaned on the venue
    code, runs = reconcile()
    assert code == 0 and runs[0]["outcome"] == "agree", runs


def test_a_connection_killed_while_committing_the_ack_is_resolved_by_the_workers_lookup(
        venue, venue_account, venue_view, commit_fault):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    fault = commit_fault("connection killed", shots=1)
    order = _place(order_type="LIMIT", price=D("90000"))

    order = wait_until(lambda: Order.objects.filter(pk=order.id, status=Status.NEW).first(), timeout=20,
                       what="NEW after the retried task looked the order up")
    assert fault.seen() >= 1  # the shot was spent (the first commit died with its connection)
    on_venue = _one_venue_order(venue, venue_view, order)
    assert order.exchange_order_id == on_venue["id"] and on_venue["status"] == "open"
    lookups = [r for r in venue.control.audit(order.id) if r["method"] == "GET" and r["path"] == "/api/v3/order"]
    assert lookups, "the retry looked the order up instead of sending it again"
    assert Order.objects.count() == 1
