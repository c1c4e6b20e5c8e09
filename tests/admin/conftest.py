from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests import factories


@pytest.fixture
def operator(db):
    """Staff with the change permissions that admin actions need (not a superuser)."""
    user = factories.user_create(username="operator", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=[
        "view_order", "change_order", "view_fill", "view_orderevent", "view_account", "change_account", "add_account",
        "view_credential", "add_credential", "change_credential", "view_tradingswitch", "change_tradingswitch",
        "view_controlchange", "view_risklimit", "change_risklimit", "add_risklimit", "view_balance", "view_position",
        "view_instrument", "change_instrument", "view_apitoken", "add_apitoken", "change_apitoken",
        "view_accountmember", "add_accountmember", "change_accountmember", "set_trading_state"]))
    return user


@pytest.fixture
def viewer(db):
    """Staff who may look at everything and act on nothing."""
    user = factories.user_create(username="viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def admin_as(client):
    def login(user):
        client.force_login(user)
        return client
    return login
