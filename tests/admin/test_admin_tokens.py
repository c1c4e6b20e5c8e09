"""API tokens in the admin (issue 19, item 1): a staff user creates tokens for themselves; a token for anyone
else needs the permission `accounts.issue_token_for_others` (for a superuser, being one), and the audit row
names the staff user who acted, not the token's owner."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accounts.auth import user_for_token
from accounts.models import ApiToken, ControlChange
from tests import factories


@pytest.fixture
def token_clerk(db):
    """Staff holding only the add and view permissions on API tokens."""
    user = factories.user_create(username="clerk", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken"]))
    return user


def messages_of(response) -> list[str]:
    return [m.message for m in response.context["messages"]]


def test_staff_with_add_permission_cannot_create_a_token_for_a_superuser(admin_as, token_clerk):
    boss = factories.user_create(username="boss", superuser=True)

    response = admin_as(token_clerk).post("/admin/accounts/apitoken/add/", {"user": boss.pk, "name": "mine now"},
                                          follow=True)

    assert not ApiToken.objects.exists()
    assert not ControlChange.objects.filter(what="api_token_create").exists()
    assert "token" not in response.context or not response.context.get("token")
    [message] = messages_of(response)
    assert message.startswith("Not saved: user: you may create API tokens only for yourself ('clerk')")


def test_staff_with_add_permission_cannot_create_a_token_for_another_user(admin_as, token_clerk):
    bot = factories.user_create(username="bot")

    admin_as(token_clerk).post("/admin/accounts/apitoken/add/", {"user": bot.pk, "name": "bot"}, follow=True)

    assert not ApiToken.objects.exists()


def test_staff_creates_a_token_for_themselves_and_is_recorded_as_the_actor(admin_as, token_clerk):
    client = admin_as(token_clerk)
    assert f'value="{token_clerk.pk}" selected' in client.get("/admin/accounts/apitoken/add/").content.decode()

    response = client.post("/admin/accounts/apitoken/add/", {"user": token_clerk.pk, "name": "laptop"})

    assert user_for_token(response.context["token"]) == token_clerk
    change = ControlChange.objects.get(what="api_token_create")
    assert change.user == token_clerk and change.after["user"] == "clerk"


def test_the_dedicated_permission_allows_tokens_for_others_and_the_actor_is_recorded(admin_as, token_clerk):
    token_clerk.user_permissions.add(Permission.objects.get(codename="issue_token_for_others"))
    bot = factories.user_create(username="bot")

    response = admin_as(token_clerk).post("/admin/accounts/apitoken/add/", {"user": bot.pk, "name": "bot"})

    assert user_for_token(response.context["token"]) == bot
    change = ControlChange.objects.get(what="api_token_create")
    assert (change.user, change.after["user"]) == (token_clerk, "bot")


def test_the_dedicated_permission_does_not_reach_a_superuser(admin_as, token_clerk):
    token_clerk.user_permissions.add(Permission.objects.get(codename="issue_token_for_others"))
    boss = factories.user_create(username="boss", superuser=True)

    response = admin_as(token_clerk).post("/admin/accounts/apitoken/add/", {"user": boss.pk}, follow=True)

    assert not ApiToken.objects.exists()
    assert messages_of(response) == ["Not saved: user: only a superuser may create a token for a superuser"]


def test_a_superuser_may_create_tokens_for_anyone(db, admin_as):
    root = factories.user_create(username="root", superuser=True)
    other = factories.user_create(username="other-root", superuser=True)

    response = admin_as(root).post("/admin/accounts/apitoken/add/", {"user": other.pk})

    assert user_for_token(response.context["token"]) == other
    assert ControlChange.objects.get(what="api_token_create").user == root
