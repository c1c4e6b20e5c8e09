"""The shared rate limiter on real Redis: counts across limiter instances (workers), windows, bans."""
import os

import pytest

from exchanges.errors import VenueBackoff
from exchanges.ratelimit import Limit, SharedLimiter, limits_from_exchange_info
from tests.waiting import wait_until


def _account_id() -> int:
    return int.from_bytes(os.urandom(4), "big")  # fresh keys per test


def test_two_workers_share_one_order_budget():
    account = _account_id()
    limits = (Limit("orders", 10, 3),)
    worker_a = SharedLimiter(account, "spot", limits, max_wait=0)
    worker_b = SharedLimiter(account, "spot", limits, max_wait=0)
    worker_a.acquire(orders=1)
    worker_b.acquire(orders=1)
    worker_a.acquire(orders=1)
    with pytest.raises(VenueBackoff) as refused:
        worker_b.acquire(orders=1)
    assert 0 < refused.value.retry_after <= 10


def test_a_refused_request_is_not_counted():
    account = _account_id()
    limiter = SharedLimiter(account, "spot", (Limit("weight", 60, 10), Limit("orders", 10, 1)), max_wait=0)
    limiter.acquire(weight=1, orders=1)
    with pytest.raises(VenueBackoff):
        limiter.acquire(weight=1, orders=1)  # orders full: the weight must not be spent either
    for _ in range(9):
        limiter.acquire(weight=1)
    with pytest.raises(VenueBackoff):
        limiter.acquire(weight=1)


def test_a_full_short_window_waits_instead_of_failing():
    limiter = SharedLimiter(_account_id(), "spot", (Limit("orders", 1, 2),), max_wait=2)
    for _ in range(3):  # two per one-second window: the third waits for the next window (within max_wait)
        limiter.acquire(orders=1)  # and is not refused with VenueBackoff


def test_a_ban_stops_every_request_of_the_account_until_it_ends():
    account = _account_id()
    spot = SharedLimiter(account, "spot", (Limit("weight", 60, 1000),), max_wait=5)
    futures = SharedLimiter(account, "futures", (Limit("weight", 60, 1000),), max_wait=5)
    spot.ban(0.3)
    for limiter in (spot, futures):
        with pytest.raises(VenueBackoff) as refused:
            limiter.acquire(weight=1)
        assert 0 < refused.value.retry_after <= 0.3
    wait_until(lambda: spot.banned_for() <= 0, timeout=5, what="the ban to end")
    spot.acquire(weight=1)
    futures.acquire(weight=1)


def test_published_binance_limits_are_read_with_headroom():
    limits = limits_from_exchange_info([
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ])
    # kept to 90%: a request counted at send time may be counted in the venue's next window
    assert limits == (Limit("weight", 60, 5400), Limit("orders", 10, 90), Limit("orders", 86400, 180000))
