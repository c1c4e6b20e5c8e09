"""The long versions of the reliability runs (`make soak`, a few minutes): each checks ledger == venue by I1–I5
and records its figures (orders, faults injected, duplicates found, lost) for the table printed at the end."""
from __future__ import annotations

from decimal import Decimal

import pytest

from orders.models import Order, Status
from tests.execution import bursts
from tests.faults import concurrent_clients, order_machine
from tests.faults.ledger_venue import settle

pytestmark = [pytest.mark.soak, pytest.mark.timeout(900)]

D = Decimal


def test_scenario_15_eight_clients_for_60_seconds(oms_stack, soak_figures):
    # with the venue's random synthetic takers on (about 2 a second), partially filling resting orders
    soak_figures.update(concurrent_clients.run(oms_stack, seconds=60, trickle_per_min=120))

    assert soak_figures["duplicates found"] == 0 and soak_figures["lost"] == 0
    assert soak_figures["funding settlements"] >= 3 and soak_figures["funding payments"] >= 3


def test_state_machine_long(oms_stack, soak_figures):
    soak_figures.update(order_machine.run(oms_stack, examples=20, steps=20))

    assert soak_figures["duplicates found"] == 0 and soak_figures["lost"] == 0


def test_scenario_1_every_create_answer_dropped_over_200_placements(oms_stack, soak_figures):
    venue = oms_stack.venue
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(drop_response_rate=1.0, endpoints=["POST /api/v3/order"])
    with oms_stack.client() as client:
        for i in range(200):
            client_order_id = f"s1-{i}"
            oms_stack.intents[client_order_id] = None
            answer = client.place_order("BTCUSDT", "BUY", D("0.001"), "LIMIT", D("90000") + i,
                                        client_order_id=client_order_id)
            oms_stack.intents[client_order_id] = answer["order_id"]

    result = settle(venue, oms_stack.account, window_ms=oms_stack.window_ms, intents=oms_stack.intents, timeout=120)

    orders = Order.objects.filter(account=oms_stack.account)
    assert orders.count() == 200 and set(orders.values_list("status", flat=True)) == {Status.NEW}
    assert len(set(orders.values_list("exchange_order_id", flat=True))) == 200
    faults = venue.control.fault_counts()
    soak_figures.update({"orders placed": result.orders, "venue orders": result.venue_orders,
                         "answers dropped": faults.get("drop_response", 0), "duplicates found": result.duplicates,
                         "lost": result.lost})
    assert faults.get("drop_response", 0) == 200


def test_every_create_answer_dropped_over_200_placements_through_the_worker(venue, venue_account, venue_view,
                                                                            soak_figures):
    bursts.answers_dropped(venue, venue_view, placements=200)  # 20 in `make test`
    soak_figures.update({"orders placed": 200, "answers dropped": venue.control.fault_counts().get("drop_response", 0)})


def test_a_burst_of_200_random_orders_and_fills_leaves_the_ledger_balances_equal_the_venues(venue, venue_account,
                                                                                           venue_view, soak_figures):
    bursts.random_orders(venue, venue_account, venue_view, count=200)  # 60 in `make test`
    soak_figures.update({"orders placed": 200, "orders filled": Order.objects.filter(status=Status.FILLED).count()})
