"""API tokens may expire: `expires_at` (admin, `create_api_token --expires-in 30d`) is enforced by the one check
gRPC and REST share (accounts.auth.user_for_token), so an expired token is refused by both."""
from __future__ import annotations

import io
from datetime import timedelta

import grpc
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.auth import user_for_token
from accounts.models import ApiToken
from infra.errors import InvalidInput
from proto import oms_pb2, oms_pb2_grpc
from tests import factories


def expire(token: str) -> None:
    ApiToken.objects.filter(digest=ApiToken.digest_of(token)).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_a_token_is_refused_once_it_has_expired(db):
    user = factories.user_create()
    token = services.api_token_create(user=user, expires_at=timezone.now() + timedelta(hours=1))
    assert user_for_token(token) == user

    expire(token)

    assert user_for_token(token) is None


def test_an_expiry_must_be_in_the_future_and_bounded(db):
    user = factories.user_create()
    for when in (timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=4000)):
        with pytest.raises(InvalidInput) as err:
            services.api_token_create(user=user, expires_at=when)
        assert err.value.field == "expires_at"
    assert not ApiToken.objects.exists()


def test_rest_refuses_an_expired_token(db):
    token = services.api_token_create(user=factories.user_create(), expires_at=timezone.now() + timedelta(hours=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/accounts/").status_code == 200

    expire(token)

    assert client.get("/api/v1/accounts/").status_code == 401


def test_grpc_refuses_an_expired_token(grpc_server_factory):
    token = services.api_token_create(user=factories.user_create(), expires_at=timezone.now() + timedelta(hours=1))
    address = grpc_server_factory(require_auth=True)
    with grpc.insecure_channel(address) as channel:
        stub = oms_pb2_grpc.OrderServiceStub(channel)
        stub.ListOrders(oms_pb2.ListOrdersRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=5)

        expire(token)

        with pytest.raises(grpc.RpcError) as err:
            stub.ListOrders(oms_pb2.ListOrdersRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_create_api_token_expires_in(db):
    out = io.StringIO()
    call_command("create_api_token", "bot", "--create-user", "--expires-in", "30d", stdout=out, stderr=io.StringIO())

    expires = ApiToken.objects.get().expires_at
    assert abs(expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert user_for_token(out.getvalue().strip()).username == "bot"


@pytest.mark.parametrize("value", ["0d", "99999d", "1y", "-5d", "30"])
def test_create_api_token_refuses_a_bad_lifetime_and_creates_nothing(db, value):
    from django.contrib.auth import get_user_model

    with pytest.raises(CommandError) as err:
        call_command("create_api_token", "bot", "--create-user", f"--expires-in={value}", stdout=io.StringIO(),
                     stderr=io.StringIO())
    assert err.value.returncode == 2 and str(err.value).startswith("--expires-in: ")
    assert not get_user_model().objects.exists() and not ApiToken.objects.exists()


def test_the_admin_sets_an_expiry(db, client):
    root = factories.user_create(username="root", superuser=True)
    client.force_login(root)
    when = timezone.now() + timedelta(days=7)

    response = client.post("/admin/accounts/apitoken/add/", {
        "user": root.pk, "name": "week", "expires_at_0": when.strftime("%Y-%m-%d"),
        "expires_at_1": when.strftime("%H:%M:%S")})

    assert user_for_token(response.context["token"]) == root
    assert abs(ApiToken.objects.get().expires_at - when) < timedelta(seconds=2)
