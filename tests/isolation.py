"""Loaded first (`-p tests.isolation` in pyproject.toml), before pytest-django reads the settings: unless
OMS_PUBSUB_PREFIX is set, the run gets a Redis key prefix of its own, so it shares no channel, lane item, cache
entry or Celery queue with a `make run` (or another run) on the same Redis. Child processes inherit it, and its
keys are deleted when the run ends.

Under pytest-xdist each worker process is a run of its own on the one Redis: it takes the run's prefix with its
worker id appended (`…-gw0`), so the workers' Celery queues, lanes and channels never meet either (as their test
databases do not: pytest-django appends the same id to the database name)."""
from __future__ import annotations

import os
import secrets

import pytest

OWNED = "OMS_TEST_OWN_PREFIX"  # the prefix the run chose itself (its xdist workers inherit both)

if "OMS_PUBSUB_PREFIX" not in os.environ:
    os.environ["OMS_PUBSUB_PREFIX"] = os.environ[OWNED] = f"test-{os.getpid()}-{secrets.token_hex(3)}"
OWN_PREFIX = os.environ.get(OWNED) == os.environ["OMS_PUBSUB_PREFIX"]
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # set by xdist in a worker before it loads any plugin
if WORKER:
    os.environ["OMS_PUBSUB_PREFIX"] = f"{os.environ['OMS_PUBSUB_PREFIX']}-{WORKER}"


@pytest.hookimpl(tryfirst=True)  # before tests/conftest.py stops an embedded Redis this run started
def pytest_sessionfinish(session, exitstatus):
    """Delete the keys of the run's own prefix (a run whose prefix was given keeps them, as before); each xdist
    worker deletes its own."""
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
