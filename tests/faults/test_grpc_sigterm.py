"""Scenario 10: the gRPC server gets SIGTERM while clients are placing orders.

`manage.py grpcserve` runs as its own process (as deployed) in front of a real worker and the local venue,
which answers slowly so placements are waiting on it when the signal lands. In-flight placements must finish
(answered with the venue's status, or PENDING_NEW when the wait runs out), later ones be refused with
UNAVAILABLE and leave nothing behind, every order keep its events, and the process exit 0 once every call
has its answer (none is cut off by the end of the grace).
Twice: the venue answers within the grace (in-flight placements come back NEW), and the venue is slower than
the grace (they come back PENDING_NEW just before it ends, never cut off)."""
from __future__ import annotations

import time

import grpc
import pytest

from orders.models import Order, Status
from proto import oms_pb2_grpc
from tests.faults.load import Placer, calls_of
from tests.fixtures.venue_audit import posts_of
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]


@pytest.mark.parametrize(("clients", "venue_latency_ms", "grace_seconds", "in_flight_answer"), [
    (8, 300, 8, Status.NEW), (4, 1500, 1, Status.PENDING_NEW)], ids=["venue-within-grace", "venue-beyond-grace"])
def test_sigterm_under_load_finishes_in_flight_placements_and_exits_cleanly(
        venue, venue_account, oms_processes, settings, clients, venue_latency_ms, grace_seconds, in_flight_answer):
    settings.OMS_RECV_WINDOW_MS = 5000  # the slow venue's answers stay inside the signed request's window
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(latency_ms=venue_latency_ms)  # placements wait on the venue: some are in flight
    server = oms_processes.grpc(env={"OMS_GRPC_SHUTDOWN_GRACE_SECONDS": str(grace_seconds),
                                     "OMS_PLACE_WAIT_SECONDS": "5"})
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(server.address))
    placers = [Placer(stub, f"sigterm-{i}", stop_on_error=True) for i in range(clients)]
    for placer in placers:
        placer.start()
    calls = lambda: calls_of(placers)  # noqa: E731
    wait_until(lambda: sum(c["code"] == grpc.StatusCode.OK for c in calls()) >= clients, timeout=60,
               what="placements flowing")

    signalled = time.monotonic()
    exit_code = server.terminate(timeout=grace_seconds + 15)
    for placer in placers:
        placer.join(30)
    assert not [p.prefix for p in placers if p.is_alive()], "a client is still waiting for an answer"

    assert exit_code == 0 and "stopped" in server.log_text(), server.log_text()[-3000:]
    assert "Traceback" not in server.log_text(), server.log_text()[-3000:]
    outcomes = calls()
    assert {c["code"] for c in outcomes} <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, outcomes
    answered = [c for c in outcomes if c["code"] == grpc.StatusCode.OK]
    in_flight = [c for c in answered if c["started"] < signalled < c["ended"]]
    assert in_flight, "no placement was in flight when the signal landed"
    assert {c["status"] for c in in_flight} == {in_flight_answer}, in_flight
    assert {c["status"] for c in answered} <= {Status.NEW, Status.PENDING_NEW}, answered

    orders = {o.client_order_id: o for o in Order.objects.prefetch_related("events")}
    # Refused calls left nothing behind; every answered one is an order with its events, from PLACED on, no gap.
    refused = [c for c in outcomes if c["code"] == grpc.StatusCode.UNAVAILABLE]
    assert not [c["client_order_id"] for c in refused if c["client_order_id"] in orders]
    assert {c["client_order_id"] for c in answered} == set(orders)
    for order in orders.values():
        events = sorted(order.events.all(), key=lambda e: e.sequence)
        assert events and events[0].kind == "PLACED" and [e.sequence for e in events] == list(range(1, len(events) + 1))

    # The worker settles everything the server accepted; each order reached the venue once.
    wait_until(lambda: not Order.objects.filter(status=Status.PENDING_NEW).exists(), timeout=60, interval=0.2,
               what="no order left PENDING_NEW")
    settled = list(Order.objects.values_list("status", "reason"))
    assert {status for status, _ in settled} == {Status.NEW}, settled
    assert all(len(posts_of(venue, o.id)) == 1 for o in orders.values())
    print(f"\nscenario 10, venue {venue_latency_ms} ms, grace {grace_seconds} s: {len(answered)} placements answered ({len(in_flight)} in flight at SIGTERM, "
          f"answered {in_flight_answer}), {len(refused)} refused "
          f"with UNAVAILABLE, exit 0, orders without events 0, duplicates 0")
