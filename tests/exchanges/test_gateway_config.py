"""How the gateway builds ccxt clients and reads their errors (no venue needed)."""
import json

import ccxt
import pytest

from accounts.models import Account
from exchanges.errors import Outcome, classify, venue_reason
from exchanges.gateway import build_client, override_base_url


def test_base_url_override_replaces_scheme_and_host_and_keeps_each_path():
    urls = {"public": "https://api.binance.com/api/v3", "fapiPrivateV3": "https://fapi.binance.com/fapi/v3",
            "ws": {"spot": "wss://stream.binance.com:9443/ws"}}
    assert override_base_url(urls, "http://127.0.0.1:8765") == {
        "public": "http://127.0.0.1:8765/api/v3", "fapiPrivateV3": "http://127.0.0.1:8765/fapi/v3",
        "ws": {"spot": "ws://127.0.0.1:8765/ws"}}


@pytest.mark.django_db
def test_a_local_binance_client_never_retries_and_points_everything_at_the_base_url():
    account = Account.objects.create(name="local", exchange="binance", base_url="http://127.0.0.1:9")
    client = build_client(account, {"apiKey": "k", "secret": "s"})
    assert client.options["maxRetriesOnFailure"] == 0
    assert client.options["defaultType"] == "spot"
    assert client.timeout > 0
    hosts = {u.split("/")[2] for u in client.urls["api"].values() if isinstance(u, str)}
    assert hosts == {"127.0.0.1:9"}


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "code", "msg", "expected"), [
    ("/fapi/v1/order", -2019, "Margin is insufficient.", ccxt.InsufficientFunds),
    ("/fapi/v1/order", -4164, "Order's notional must be no smaller than 100.", ccxt.InvalidOrder),
    ("/api/v3/order", -2010, "Account has insufficient balance for requested action.", ccxt.InsufficientFunds),
    ("/api/v3/order", -2013, "Order does not exist.", ccxt.OrderNotFound),
    ("/api/v3/order", -1022, "Signature for this request is not valid.", ccxt.AuthenticationError),
])
def test_binance_error_codes_keep_their_meaning_on_a_local_host(path, code, msg, expected):
    account = Account.objects.create(name="local", exchange="binance", base_url="http://127.0.0.1:9")
    client = build_client(account, {})
    body = json.dumps({"code": code, "msg": msg})
    with pytest.raises(expected):
        client.handle_errors(400, "Bad Request", f"http://127.0.0.1:9{path}", "POST", {}, body, json.loads(body), {}, "")


@pytest.mark.parametrize(("exc", "outcome"), [
    (ccxt.InsufficientFunds("binance {}"), Outcome.REJECTED),
    (ccxt.InvalidOrder("binance {}"), Outcome.REJECTED),
    (ccxt.BadSymbol("binance {}"), Outcome.REJECTED),
    (ccxt.OrderNotFound("binance {}"), Outcome.NOT_FOUND),
    (ccxt.RequestTimeout("binance POST"), Outcome.UNKNOWN),
    (ccxt.NetworkError("binance POST"), Outcome.UNKNOWN),
    (ccxt.ExchangeNotAvailable("binance 503"), Outcome.UNKNOWN),
    (ccxt.OperationFailed("binance -1001"), Outcome.UNKNOWN),
    (ccxt.DDoSProtection("binance 429"), Outcome.BACKOFF),
    # ccxt reports -2015 as DDoSProtection once the key has worked: still a refused key, never a retry loop.
    (ccxt.DDoSProtection('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'), Outcome.AUTH),
    (ccxt.DDoSProtection('binance {"code":-1003,"msg":"Too many requests."}'), Outcome.BACKOFF),
    (ccxt.RateLimitExceeded("binance -1003"), Outcome.BACKOFF),
    # -1021: the timestamp was outside recvWindow, refused before the order was looked at; sent again once corrected.
    (ccxt.InvalidNonce('binance {"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}'),
     Outcome.BACKOFF),
    (ccxt.AuthenticationError("binance -2015"), Outcome.AUTH),
    (ccxt.PermissionDenied("binance"), Outcome.AUTH),
    (ConnectionResetError(), Outcome.UNKNOWN),
])
def test_each_ccxt_error_has_one_outcome(exc, outcome):
    assert classify(exc) == outcome


def test_a_transport_failure_ccxt_reports_as_a_plain_exchange_error_is_unknown_not_rejected():
    import requests

    try:
        try:
            raise requests.exceptions.ContentDecodingError("garbled")
        except requests.RequestException as inner:
            raise ccxt.ExchangeError("binance POST http://x/api/v3/order") from inner
    except ccxt.ExchangeError as exc:
        assert classify(exc) == Outcome.UNKNOWN


def test_the_reason_is_the_venues_words_without_the_exchange_prefix():
    exc = ccxt.InsufficientFunds('binance {"code":-2010,"msg":"Account has insufficient balance for requested action."}')
    assert venue_reason(exc) == "Account has insufficient balance for requested action. (code -2010)"
    assert venue_reason(ccxt.ExchangeNotAvailable("binance GET http://h/api/v3/order 503")) == "GET http://h/api/v3/order 503"
