"""Latency samples and their summary (nearest-rank percentiles, milliseconds)."""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile of `samples` (p in 0..100); NaN when there are none."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(samples_ms: Iterable[float]) -> dict:
    samples = list(samples_ms)
    return {"n": len(samples), "p50_ms": round(percentile(samples, 50), 3), "p99_ms": round(percentile(samples, 99), 3),
            "max_ms": round(max(samples), 3) if samples else math.nan}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(elapsed ms, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def compare(oms: dict, raw: dict) -> dict:
    """OMS against its raw-venue baseline at p50/p99: the overhead in ms and the ratio."""
    out = {}
    for key in ("p50_ms", "p99_ms"):
        out[f"overhead_{key}"] = round(oms[key] - raw[key], 3)
        out[f"ratio_{key[:3]}"] = round(oms[key] / raw[key], 3) if raw[key] else math.nan
    return out
