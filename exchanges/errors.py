"""What a ccxt exception means for an order: one classification, used by every venue call.

REJECTED  the venue answered and refused (bad order, funds, symbol): final, keep its reason.
UNKNOWN   the request may or may not have been processed (timeouts, network, 5xx): look it up, never resend.
BACKOFF   the venue refused the request unprocessed and it may be sent again later: it asks us to slow down
          (429/418, rate-limit codes: send nothing meanwhile), or the request's timestamp was outside
          recvWindow (-1021; the gateway has corrected the clock offset by then).
AUTH      the key was refused: stop trading the account and say why.
NOT_FOUND the venue does not know the order (cancel/lookup).
"""
from __future__ import annotations

import enum
import json

import ccxt
import requests


class Outcome(enum.StrEnum):
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"
    BACKOFF = "BACKOFF"
    AUTH = "AUTH"
    NOT_FOUND = "NOT_FOUND"


# Checked in order: subclasses before their bases (OrderNotFound is an InvalidOrder,
# DDoSProtection/RateLimitExceeded/InvalidNonce are NetworkErrors, PermissionDenied is an AuthenticationError).
_TABLE: tuple[tuple[type[BaseException], Outcome], ...] = (
    (ccxt.OrderNotFound, Outcome.NOT_FOUND),
    (ccxt.RateLimitExceeded, Outcome.BACKOFF),
    (ccxt.DDoSProtection, Outcome.BACKOFF),
    (ccxt.AuthenticationError, Outcome.AUTH),  # incl. PermissionDenied, AccountSuspended
    (ccxt.InvalidNonce, Outcome.BACKOFF),  # -1021, checked before the order is looked at: nothing reached the book
    (ccxt.OperationFailed, Outcome.UNKNOWN),  # NetworkError, RequestTimeout, ExchangeNotAvailable, BadResponse
    (ccxt.ExchangeError, Outcome.REJECTED),  # InsufficientFunds, InvalidOrder, BadSymbol, MarketClosed, other coded refusals
)


# Binance's "invalid API key, IP or permissions" codes. Once a key has worked, ccxt reports -2015 as
# DDoSProtection (it guesses a temporary ban); a refused key is still a refused key, not a reason to retry.
KEY_REFUSED_CODES = frozenset({-2014, -2015})


def classify(exc: BaseException) -> Outcome:
    """Anything that is not a ccxt error (a bug, a dropped socket below ccxt) counts as UNKNOWN: look it up."""
    if isinstance(exc, ccxt.ExchangeError) and isinstance(exc.__cause__, requests.RequestException):
        return Outcome.UNKNOWN  # ccxt's fallback for a transport failure it did not recognize: not a refusal
    if isinstance(exc, ccxt.DDoSProtection) and venue_body(exc).get("code") in KEY_REFUSED_CODES:
        return Outcome.AUTH
    for cls, outcome in _TABLE:
        if isinstance(exc, cls):
            return outcome
    return Outcome.UNKNOWN


def _venue_text(exc: BaseException) -> str:
    """The exception's text without ccxt's exchange-id prefix."""
    text = str(exc).strip()
    parts = text.split(" ", 1)
    return parts[1] if len(parts) == 2 and parts[0].isidentifier() else text


def venue_body(exc: BaseException) -> dict:
    """The venue's JSON answer carried in a ccxt exception, or {} when it was not JSON."""
    text = _venue_text(exc)
    if not text.startswith("{"):
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# Venue refusals whose words name a rule only by its filter or code: the rule, said plainly, goes first.
_RULES: tuple[tuple[str | int, str], ...] = (
    ("PERCENT_PRICE", "price band: the limit price is too far from the market price"),
    (-4016, "price band: the limit price is above the highest the venue accepts now"),
    (-4024, "price band: the limit price is below the lowest the venue accepts now"),
    ("MAX_NUM_ORDERS", "too many open orders on the symbol"),
    (-2025, "too many open orders on the symbol"),
    ("Filter failure: NOTIONAL", "order value outside the venue's minimum and maximum"),
)


def _rule_of(body: dict, text: str) -> str | None:
    for key, rule in _RULES:
        if (isinstance(key, int) and body.get("code") == key) or (isinstance(key, str) and key in text):
            return rule
    return None


def venue_reason(exc: BaseException, limit: int = 500) -> str:
    """The venue's own words (its `msg` and `code` when the answer was JSON), without ccxt's exchange-id
    prefix, after the rule they mean when they name it only by a filter or code (price band, too many open
    orders). Never carries secrets: ccxt messages hold only the exchange id, method, URL and the response body."""
    body = venue_body(exc)
    if body.get("msg"):
        text = f"{body['msg']} (code {body['code']})" if "code" in body else str(body["msg"])
    else:
        text = _venue_text(exc)
    rule = _rule_of(body, text)
    return (f"{rule}: {text}" if rule else text)[:limit]


# The venue errors the worker side catches, by our names: ccxt stays inside exchanges.
VenueError = ccxt.BaseError
VenueOrderNotFound = ccxt.OrderNotFound
VenueAuthError = ccxt.AuthenticationError
VENUE_TRANSIENT: tuple[type[BaseException], ...] = (ccxt.NetworkError, ccxt.ExchangeNotAvailable)


class VenueBackoff(Exception):
    """Raised before sending when the account is rate-limited or banned; retry after `retry_after` seconds."""

    def __init__(self, retry_after: float, why: str = "rate limit"):
        super().__init__(f"{why}: retry after {retry_after:.1f}s")
        self.retry_after = retry_after
