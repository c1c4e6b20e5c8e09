"""The one application error type. Services raise it; each adapter translates it once
(gRPC status code, HTTP status + {"error": {"code", "message", "field"}})."""
from __future__ import annotations


class ServiceError(Exception):
    """A refusal a person can act on. `code` is adapter-neutral; `field` names the input at fault."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(ServiceError):
    code = "invalid"  # gRPC INVALID_ARGUMENT, HTTP 400


class NotFound(ServiceError):
    code = "not_found"  # gRPC NOT_FOUND, HTTP 404


class FailedPrecondition(ServiceError):
    code = "failed_precondition"  # gRPC FAILED_PRECONDITION, HTTP 409


class Conflict(ServiceError):
    code = "conflict"  # gRPC ALREADY_EXISTS / ABORTED, HTTP 409


class PermissionDenied(ServiceError):
    code = "permission_denied"  # gRPC PERMISSION_DENIED, HTTP 403


class Unauthenticated(ServiceError):
    code = "unauthenticated"  # gRPC UNAUTHENTICATED, HTTP 401


class RateLimited(ServiceError):
    code = "rate_limited"  # gRPC RESOURCE_EXHAUSTED, HTTP 429


class Unavailable(ServiceError):
    code = "unavailable"  # gRPC UNAVAILABLE, HTTP 503


ECHO_LIMIT = 64  # characters of a caller's value quoted back in a message


def echo(value, *, quote: bool = True, limit: int = ECHO_LIMIT) -> str:
    """A caller's value as a refusal message quotes it: its start and its length when longer than `limit`,
    so a 10 KB field makes a short message that still says what was sent. `quote` shows strings as repr."""
    text = value if isinstance(value, str) else str(value)
    cut = text if len(text) <= limit else text[:limit]
    shown = repr(cut) if quote and isinstance(value, str) else cut
    return shown if cut is text else f"{shown}… ({len(text)} characters)"
