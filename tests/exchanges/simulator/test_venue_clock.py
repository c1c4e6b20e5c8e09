"""Venue time (exchanges/simulator/venue_clock.py): the `clock_speed` knob and `advance_ms` age the venue's state
while the wire clock (serverTime, order times, recvWindow) stays on wall time."""
import pytest

from exchanges.simulator.control import VenueControlError
from exchanges.simulator.venue_clock import VenueClock, wall_ms
from tests.waiting import wait_until


def test_speed_and_advance_move_venue_time_but_not_the_wire_clock(venue, venue_exchange):
    before = venue.control.clock()
    assert before["speed"] == 1.0 and abs(before["ahead_ms"]) < 1000

    after = venue.control.set_clock(advance_ms=3 * 86_400_000)
    assert after["venue_ms"] - after["wall_ms"] >= 3 * 86_400_000 - 1000

    venue.control.set_clock(speed=100_000)
    wait_until(lambda: venue.control.clock()["ahead_ms"] > 4 * 86_400_000, what="a day of venue time")
    assert abs(venue_exchange.fetch_time() - wall_ms()) < 5000  # signed requests keep working
    venue_exchange.fetch_balance()


def test_bad_clock_settings_change_nothing(venue):
    before = venue.control.clock()
    for payload in ({"speed": 0}, {"speed": "fast"}, {"advance_ms": -1}, {"speed": 2, "advance_ms": -5}):
        with pytest.raises(VenueControlError):
            venue.control._call("POST", "clock", json=payload)
    after = venue.control.clock()
    assert after["speed"] == 1.0 and abs(after["ahead_ms"] - before["ahead_ms"]) < 1000


def test_past_wire_times_map_to_the_venue_time_they_happened_at():
    clock = VenueClock()
    t0 = wall_ms()
    clock.advance(10_000)
    assert clock.at(t0 - 1) <= t0  # before the jump: wall time
    assert clock.now_ms() - clock.at(t0 - 1) >= 10_000
