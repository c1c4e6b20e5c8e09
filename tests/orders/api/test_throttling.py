"""Throttles key on who really connects (issue 19, item 11): a client-sent X-Forwarded-For is believed only from
a configured proxy, and failed authentications are throttled per client."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from tests.orders.api.conftest import error_of

DOCS = "/api/docs/"  # open to anonymous callers, so the anonymous throttle applies


@pytest.fixture
def anon_rate_3(monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "1200/min", "anon": "3/min"})


def test_a_client_sent_forwarded_for_does_not_reset_the_anonymous_throttle(db, anon_rate_3):
    client = APIClient()
    statuses = [client.get(DOCS, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client(db, anon_rate_3, settings):
    settings.OMS_TRUSTED_PROXIES = ["127.0.0.0/8", "10.0.0.0/8"]
    client = APIClient()

    apart = [client.get(DOCS, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 10.0.0.2").status_code for i in range(4)]
    # The client forges the leftmost hop each time; our proxies appended the address it really came from.
    forged = [client.get(DOCS, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, 192.0.2.7, 10.0.0.2").status_code for i in range(4)]

    assert apart == [200, 200, 200, 200]
    assert forged == [200, 200, 200, 429]


def test_failed_authentications_are_throttled_per_client(alice, settings):
    settings.OMS_AUTH_FAILURE_RATE = "3/min"
    good = account_services.api_token_create(user=alice)
    guesser, neighbour = APIClient(REMOTE_ADDR="192.0.2.66"), APIClient(REMOTE_ADDR="192.0.2.77")

    guesses = [guesser.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer guess-{i}") for i in range(4)]
    with_good_token = guesser.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {good}")
    elsewhere = neighbour.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {good}")

    assert [r.status_code for r in guesses] == [401, 401, 401, 429]
    error = error_of(guesses[-1])
    assert error["code"] == "rate_limited" and "failed authentications" in error["message"]
    assert int(guesses[-1]["Retry-After"]) > 0
    assert with_good_token.status_code == 429  # the budget is per client, whatever token it sends next
    assert elsewhere.status_code == 200
