"""Failed authentications are counted per client (an IP address) and, past OMS_AUTH_FAILURE_RATE, the client is
refused before its token is even looked up until the window ends: guessing tokens costs time. Shared by gRPC and
REST through the cache (Redis), so every process sees the same counts. While the cache cannot be reached the
throttle stands aside (a warning a minute): authentication itself needs only the database."""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from accounts.auth import user_for_token
from infra.errors import RateLimited
from infra.jsonlog import RateLimitedLog

CACHE_DOWN_LOG = RateLimitedLog(logging.getLogger("oms.auth"), interval=60.0)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def failure_rate() -> tuple[int, int]:
    """(failures allowed, window seconds) from OMS_AUTH_FAILURE_RATE, e.g. "20/min"."""
    count, _, period = settings.OMS_AUTH_FAILURE_RATE.partition("/")
    return int(count), PERIODS[period.strip()[:1].lower()]


def _keys(client: str) -> tuple[str, str]:
    # "throttle_" like DRF's own throttle keys, so whatever clears throttle counters clears these too.
    return f"throttle_auth_failures:{client}", f"throttle_auth_failures_since:{client}"


def auth_failures_check(client: str) -> None:
    """Raises RateLimited (with `retry_after` seconds) while `client` is over its failure budget."""
    allowed, window = failure_rate()
    count_key, since_key = _keys(client)
    if (cache.get(count_key) or 0) < allowed:
        return
    since = cache.get(since_key) or time.time()
    retry_after = max(1, int(window - (time.time() - since)) + 1)
    error = RateLimited(f"too many failed authentications from {client}; retry in {retry_after} s")
    error.retry_after = retry_after
    raise error


def auth_failure_record(client: str) -> None:
    _, window = failure_rate()
    count_key, since_key = _keys(client)
    if cache.add(count_key, 0, timeout=window):
        cache.set(since_key, time.time(), timeout=window)
    try:
        cache.incr(count_key)
    except ValueError:  # the window expired between add and incr
        cache.add(count_key, 1, timeout=window)


def user_for_token_from(token: str | None, *, client: str):
    """user_for_token for a caller at `client`: refused with RateLimited while it is over its failure budget; an
    unknown or revoked token counts as a failure."""
    try:
        auth_failures_check(client)
    except RateLimited:
        raise
    except Exception as exc:  # noqa: BLE001 - the cache (Redis) is down: no throttle rather than no service
        CACHE_DOWN_LOG.warning("failed-authentication throttle skipped: cache unavailable (%s)", exc.__class__.__name__)
    user = user_for_token(token)
    if user is None:
        try:
            auth_failure_record(client)
        except Exception as exc:  # noqa: BLE001
            CACHE_DOWN_LOG.warning("failed-authentication throttle skipped: cache unavailable (%s)", exc.__class__.__name__)
    return user
