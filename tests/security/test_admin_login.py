"""Admin sign-in is protected against guessing (django-axes): after OMS_LOGIN_FAILURE_LIMIT failures for one user
name from one address, that pair is refused (even with the right password) until the lockout ends; another
address is not affected, and a success resets the count."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories

ATTACKER, OFFICE = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def ops(db):
    return factories.user_create(username="ops", is_staff=True)  # password "pw-ops"


def sign_in(client: Client, password: str, address: str):
    return client.post("/admin/login/?next=/admin/", {"username": "ops", "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_repeated_failures_lock_the_name_out_from_that_address(ops, settings):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(attacker, "guess", ATTACKER).status_code == 200  # the form again, with its error
    assert sign_in(attacker, "guess", ATTACKER).status_code == 429

    locked = sign_in(attacker, "pw-ops", ATTACKER)  # the right password no longer helps

    assert locked.status_code == 429 and not signed_in(attacker)
    office = Client()
    assert sign_in(office, "pw-ops", OFFICE).status_code == 302 and signed_in(office)


def test_the_lockout_ends_after_the_cool_off(ops, settings):
    from axes.models import AccessAttempt

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "guess", ATTACKER)
    assert sign_in(client, "pw-ops", ATTACKER).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert sign_in(client, "pw-ops", ATTACKER).status_code == 302 and signed_in(client)


def test_a_success_resets_the_count(ops, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "guess", ATTACKER)
    assert sign_in(client, "pw-ops", ATTACKER).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "guess", ATTACKER).status_code == 200
    assert sign_in(client, "pw-ops", ATTACKER).status_code == 302
