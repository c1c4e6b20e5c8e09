"""Shared test setup. Tests run on real PostgreSQL and Redis: DATABASE_URL / REDIS_URL when set,
else the embedded servers under ./var/ (started on first use by the settings).

Fixtures that start real parts live in tests/fixtures/ and are registered here."""
import pytest

pytest_plugins: list[str] = [
    "tests.fixtures.database",
    "tests.fixtures.ledger",
    "tests.fixtures.worker",
    "tests.fixtures.processes",
    "tests.fixtures.worker_process",
    "tests.fixtures.venue",
    "tests.fixtures.trading",
    "tests.fixtures.grpc_server",
    "tests.fixtures.stack",
    "tests.fixtures.private_servers",
]


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing(django_test_environment):
    """Test users get passwords (tests/factories.py); the production hasher's deliberate slowness (PBKDF2, hundreds
    of thousands of rounds: seconds per user on a loaded machine) buys nothing here. For the whole run, under any
    test's own `settings` (a test of the hasher itself would set its own)."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def pytest_sessionfinish(session, exitstatus):
    """Stop the embedded servers this run started (a server that was already running is left alone). Under
    pytest-xdist that is the controller: it reads the settings, hence starts the servers, before it starts the
    workers, which reuse them and stop nothing."""
    from django.db import connections

    from infra import embedded

    if "postgres" in embedded.started:
        connections.close_all()
        embedded.stop_postgres()
    if "redis" in embedded.started:
        embedded.stop_redis()
