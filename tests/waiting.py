"""Waiting on conditions (never fixed sleeps): poll until true or fail with what was last seen."""
from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], object], *, timeout: float = 15.0, interval: float = 0.02, what: str = "",
               tick: Callable[[], None] | None = None):
    """Return check()'s first truthy value; `tick` runs between tries (e.g. a poll of the venue)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}: last {value!r}")
        if tick is not None:
            tick()
        time.sleep(interval)
