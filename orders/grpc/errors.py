"""The one gRPC error mapper: application errors become status codes with the message a person reads.

User mistakes never surface as INTERNAL or a stack trace; unexpected failures are logged here with a
reference the caller can quote, and the caller sees only that reference."""
from __future__ import annotations

import logging
import uuid

import grpc
import redis
from django.db import DatabaseError, InterfaceError, OperationalError

from infra.errors import ServiceError

log = logging.getLogger("oms.grpc")

STATUS_FOR_CODE = {
    "invalid": grpc.StatusCode.INVALID_ARGUMENT,
    "not_found": grpc.StatusCode.NOT_FOUND,
    "failed_precondition": grpc.StatusCode.FAILED_PRECONDITION,
    "conflict": grpc.StatusCode.ALREADY_EXISTS,
    "permission_denied": grpc.StatusCode.PERMISSION_DENIED,
    "unauthenticated": grpc.StatusCode.UNAUTHENTICATED,
    "rate_limited": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "unavailable": grpc.StatusCode.UNAVAILABLE,
}


def status_for(exc: BaseException, method: str = "") -> tuple[grpc.StatusCode, str]:
    """(status code, details) for an exception raised while serving `method`."""
    if isinstance(exc, ServiceError):
        return STATUS_FOR_CODE.get(exc.code, grpc.StatusCode.INVALID_ARGUMENT), str(exc)
    if isinstance(exc, (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)):
        log.warning("%s: storage unavailable: %s", method, exc.__class__.__name__)
        return grpc.StatusCode.UNAVAILABLE, "the OMS storage is unavailable; retry shortly"
    ref = uuid.uuid4().hex[:12]
    if isinstance(exc, DatabaseError):
        log.exception("%s failed on the database (ref %s)", method, ref)
    else:
        log.exception("%s failed (ref %s)", method, ref)
    return grpc.StatusCode.INTERNAL, f"internal error (ref {ref}); nothing about your request was wrong that we know of"
