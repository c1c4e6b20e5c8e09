"""Bearer tokens: found by digest, revocable, shown once."""
from datetime import timedelta

from django.utils import timezone

from accounts import services
from accounts.auth import user_for_token
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
