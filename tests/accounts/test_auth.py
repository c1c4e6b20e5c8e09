"""Bearer tokens: found by digest, revocable, shown once."""
from datetime import timedelta

from django.utils import timezone

from accounts import services
from accounts.auth import bearer_token_parse, user_for_token
from accounts.models import ApiToken
from tests import factories


def test_token_authenticates_its_user_and_is_stored_only_as_a_digest(db):
    # given
    user = factories.user_create()
    token = services.api_token_create(user=user, name="bot")
    # when / then
    assert user_for_token(token) == user
    stored = ApiToken.objects.get()
    assert token not in (stored.digest, stored.prefix) and stored.digest == ApiToken.digest_of(token)
    assert stored.last_used_at is not None


def test_unknown_empty_and_revoked_tokens_are_refused(db):
    user = factories.user_create()
    token = services.api_token_create(user=user)
    assert user_for_token("") is None and user_for_token(None) is None and user_for_token(token + "x") is None
    services.api_token_revoke(token_id=ApiToken.objects.get().pk)
    assert user_for_token(token) is None


def test_inactive_user_is_refused(db):
    user = factories.user_create()
    token = services.api_token_create(user=user)
    user.is_active = False
    user.save()
    assert user_for_token(token) is None


def test_last_used_is_written_at_most_once_a_minute(db):
    user = factories.user_create()
    token = services.api_token_create(user=user)
    user_for_token(token)
    first = ApiToken.objects.get().last_used_at
    user_for_token(token)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=5))
    user_for_token(token)
    assert ApiToken.objects.get().last_used_at > timezone.now() - timedelta(minutes=1)


def test_token_for_another_user_needs_the_dedicated_permission(db):
    import pytest
    from django.contrib.auth.models import Permission

    from accounts.models import ControlChange
    from infra.errors import PermissionDenied

    staff = factories.user_create(username="staff", is_staff=True)
    bot = factories.user_create(username="bot")
    with pytest.raises(PermissionDenied) as err:
        services.api_token_create(user=bot, by=staff)
    assert err.value.field == "user" and not ApiToken.objects.exists()

    services.api_token_create(user=staff, by=staff)  # for oneself: always
    staff.user_permissions.add(Permission.objects.get(codename="issue_token_for_others"))
    staff = type(staff).objects.get(pk=staff.pk)  # permissions are cached per instance
    services.api_token_create(user=bot, by=staff)
    assert sorted(ApiToken.objects.values_list("user__username", flat=True)) == ["bot", "staff"]
    assert [c.user for c in ControlChange.objects.filter(what="api_token_create")] == [staff, staff]


def test_the_one_reading_of_the_authorization_header():
    assert [bearer_token_parse(v) for v in (None, "", "Basic abc", "Session x")] == [None] * 4
    assert [bearer_token_parse(v) for v in ("Bearer abc", "bearer  abc ", "BEARER\tabc")] == ["abc"] * 3
    assert [bearer_token_parse(v) for v in ("Bearer", "Bearer ", "Bearer a b")] == [""] * 3
