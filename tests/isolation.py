"""Loaded first (`-p tests.isolation` in pyproject.toml), before pytest-django reads the settings: unless
OMS_PUBSUB_PREFIX is set, the run gets a Redis key prefix of its own, so it shares no channel, lane item, cache
entry or Celery queue with a `make run` (or another run) on the same Redis. Child processes inherit it, and its
keys are deleted when the run ends."""
from __future__ import annotations

import os
import secrets

import pytest

OWN_PREFIX = "OMS_PUBSUB_PREFIX" not in os.environ
if OWN_PREFIX:
    os.environ["OMS_PUBSUB_PREFIX"] = f"test-{os.getpid()}-{secrets.token_hex(3)}"


@pytest.hookimpl(tryfirst=True)  # before tests/conftest.py stops an embedded Redis this run started
def pytest_sessionfinish(session, exitstatus):
    """Delete the keys of the run's own prefix (a run whose prefix was given keeps them, as before)."""
    if not OWN_PREFIX:
        return
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"{settings.OMS_PUBSUB_PREFIX}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
    except redis.ConnectionError:
        pass  # a test stopped the server: nothing to tidy
    finally:
        client.close()
