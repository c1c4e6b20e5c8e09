"""Shared test setup. Tests run on real PostgreSQL and Redis: DATABASE_URL / REDIS_URL when set,
else the embedded servers under ./var/ (started on first use by the settings).

Fixtures that start real parts live in tests/fixtures/ and are registered here."""

pytest_plugins: list[str] = [
    "tests.fixtures.ledger",
    "tests.fixtures.worker",
    "tests.fixtures.venue",
    "tests.fixtures.trading",
    "tests.fixtures.grpc_server",
]
