"""The benchmark's CPU-per-stage counters: off by default, exclusive when nested, readable from Redis."""
import os
import time

from infra import cpu_stages, pubsub
from tests.waiting import wait_until


def _burn(seconds: float) -> None:
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_off_by_default_it_counts_nothing():
    assert cpu_stages.ENABLED is False
    before = cpu_stages._totals.snapshot()
    with cpu_stages.stage("off-stage"):
        _burn(0.01)
    assert "off-stage" not in cpu_stages._totals.snapshot()
    assert cpu_stages._totals.snapshot() == before


def test_a_nested_stage_is_charged_to_itself_only_and_the_totals_reach_redis(monkeypatch):
    monkeypatch.setattr(cpu_stages, "ENABLED", True)
    with cpu_stages.stage("t-outer"):
        _burn(0.03)
        with cpu_stages.stage("t-inner"):
            _burn(0.05)
        _burn(0.03)
    totals = cpu_stages._totals.snapshot()
    outer_ns, outer_n = totals["t-outer"]
    inner_ns, inner_n = totals["t-inner"]
    assert (outer_n, inner_n) == (1, 1)
    assert 0.05e9 <= inner_ns < 0.06e9  # the inner burn, nothing of the outer's
    assert 0.06e9 <= outer_ns < 0.075e9  # the outer's two burns, without the inner one
    pubsub.client().delete(cpu_stages.key(os.getpid()))
    cpu_stages._totals.changed = True  # the flusher writes again
    _, written = wait_until(lambda: cpu_stages.read(pubsub.client(), os.getpid())[1].get("t-inner") and
                            cpu_stages.read(pubsub.client(), os.getpid()), what="the stage totals in Redis")
    assert written["t-inner"] == (inner_ns, 1)
    assert written["t-outer"][0] >= outer_ns
