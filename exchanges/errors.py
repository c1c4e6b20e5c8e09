"""What a ccxt exception means for an order: one classification, used by every venue call.

REJECTED  the venue answered and refused (bad order, funds, symbol): final, keep its reason.
UNKNOWN   the request may or may not have been processed (timeouts, network, 5xx): look it up, never resend.
BACKOFF   the venue asks us to slow down (429/418, rate-limit codes): retry later, send nothing meanwhile.
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
# DDoSProtection/RateLimitExceeded are NetworkErrors, PermissionDenied is an AuthenticationError).
_TABLE: tuple[tuple[type[BaseException], Outcome], ...] = (
    (ccxt.OrderNotFound, Outcome.NOT_FOUND),
    (ccxt.RateLimitExceeded, Outcome.BACKOFF),
    (ccxt.DDoSProtection, Outcome.BACKOFF),
    (ccxt.AuthenticationError, Outcome.AUTH),  # incl. PermissionDenied, AccountSuspended
    (ccxt.OperationFailed, Outcome.UNKNOWN),  # NetworkError, RequestTimeout, ExchangeNotAvailable, BadResponse
    (ccxt.ExchangeError, Outcome.REJECTED),  # InsufficientFunds, InvalidOrder, BadSymbol, MarketClosed, other coded refusals
)


def classify(exc: BaseException) -> Outcome:
    """Anything that is not a ccxt error (a bug, a dropped socket below ccxt) counts as UNKNOWN: look it up."""
    if isinstance(exc, ccxt.ExchangeError) and isinstance(exc.__cause__, requests.RequestException):
        return Outcome.UNKNOWN  # ccxt's fallback for a transport failure it did not recognize: not a refusal
    for cls, outcome in _TABLE:
        if isinstance(exc, cls):
            return outcome
    return Outcome.UNKNOWN


def venue_reason(exc: BaseException, limit: int = 500) -> str:
    """The venue's own words (its `msg` and `code` when the answer was JSON), without ccxt's exchange-id
    prefix. Never carries secrets: ccxt messages hold only the exchange id, method, URL and the response body."""
    text = str(exc).strip()
    parts = text.split(" ", 1)
    if len(parts) == 2 and parts[0].isidentifier():
        text = parts[1]
    if text.startswith("{"):
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("msg"):
            text = f"{body['msg']} (code {body['code']})" if "code" in body else str(body["msg"])
    return text[:limit]


class VenueBackoff(Exception):
    """Raised before sending when the account is rate-limited or banned; retry after `retry_after` seconds."""

    def __init__(self, retry_after: float, why: str = "rate limit"):
        super().__init__(f"{why}: retry after {retry_after:.1f}s")
        self.retry_after = retry_after
