"""Property-based run of the live OpenAPI schema (schemathesis) against a real server on a free port:
no 5xx, and every response matches the schema (status, content type, headers, body)."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from infra import pubsub
from oms_project.celery import app as celery_app
from orders import services as order_services
from tests import factories
from tests.orders.api.conftest import order_acked, order_filled

MAX_EXAMPLES = 10  # per operation and mode: bounded so the whole run stays well under a minute
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def bearer(transactional_db, no_prices):
    """A trader with orders, fills, balances, positions and a price to read."""
    user = factories.user_create(username="fuzz")
    factories.instrument_create()
    account = factories.account_create(name="main", member=user)
    order_acked(account)
    order_filled(account, trade_id="f-1")
    order_services.balances_replace(account="main", market="spot", balances=[
        {"asset": "USDT", "free": Decimal("100"), "locked": Decimal("1")}])
    order_services.positions_replace(account="main", positions=[{
        "symbol": "BTCUSDT", "side": "LONG", "size": Decimal("1"), "entry_price": Decimal("1"),
        "mark_price": Decimal("2"), "unrealized_pnl": Decimal("1"), "leverage": 1, "margin": Decimal("1")}])
    pubsub.publish_price({"exchange": "binance", "market": "spot", "symbol": "BTCUSDT", "bid_price": "1",
                          "bid_quantity": "1", "ask_price": "2", "ask_quantity": "1", "last_price": "1.5",
                          "timestamp_ms": int(time.time() * 1000)})
    yield {"Authorization": f"Bearer {account_services.api_token_create(user=user)}"}
    # Placements the fuzzer got accepted were queued for a worker that is not running here.
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("orders")


def operations(base_url: str):
    """Every operation of the schema the server serves now, except the endless event streams."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/")
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/stream/" not in operation.path:
            yield operation


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_honours_its_schema(live_server, bearer, mode):
    tested = []
    for operation in operations(live_server.url):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case):
            case.call_and_validate(base_url=live_server.url, headers=bearer, checks=CHECKS)

        conforms()
        tested.append(operation.label)

    assert len(tested) >= 12, tested
