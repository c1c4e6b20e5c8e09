"""Two traders on two accounts, bearer-token clients, and orders placed through the real services."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from orders import services as order_services
from tests import factories


@pytest.fixture(autouse=True)
def no_venue_wait(settings):
    """No worker runs in most API tests: answer at once instead of waiting for a venue outcome."""
    settings.OMS_PLACE_WAIT_SECONDS = 0


@pytest.fixture(autouse=True)
def throttle_counts_reset(settings):
    """Throttle counters live in Redis and user ids restart with each test database: start from zero."""
    from infra import pubsub

    pattern = f"{settings.CACHES['default']['KEY_PREFIX']}:*throttle_*"
    for key in pubsub.client().scan_iter(match=pattern, count=500):
        pubsub.client().delete(key)


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {account_services.api_token_create(user=user)}")
    return client


@pytest.fixture
def instrument(db):
    return factories.instrument_create()


@pytest.fixture
def alice(db):
    return factories.user_create(username="alice")


@pytest.fixture
def bob(db):
    return factories.user_create(username="bob")


@pytest.fixture
def acct_a(alice, instrument):
    return factories.account_create(name="acct-a", member=alice)


@pytest.fixture
def acct_b(bob, instrument):
    return factories.account_create(name="acct-b", member=bob)


@pytest.fixture
def client_a(alice):
    return token_client(alice)


@pytest.fixture
def client_b(bob):
    return token_client(bob)


def order_acked(account, **overrides):
    """An order the venue has acknowledged (NEW with an exchange id), via the real services."""
    order = factories.order_place(account, **overrides)
    return order_services.order_apply_venue_update(order_id=order.id, status="NEW", exchange_order_id=f"x-{order.id[-8:]}")


def order_filled(account, *, trade_id: str, price="20000", **overrides):
    order = order_acked(account, price=Decimal(price), **overrides)
    order_services.fill_record(order_id=order.id, trade_id=trade_id, price=Decimal(price), quantity=order.quantity,
                               fee=Decimal("0.02"), fee_asset="USDT", is_maker=True, executed_at=datetime.now(UTC))
    order.refresh_from_db()
    return order


def error_of(response) -> dict:
    assert set(response.json()) == {"error"}, response.json()
    assert set(response.json()["error"]) == {"code", "message", "field"}
    return response.json()["error"]
