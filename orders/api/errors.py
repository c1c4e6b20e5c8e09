"""The one translation of errors to HTTP: every error body is {"error": {"code", "message", "field"}}."""
from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from infra.errors import InvalidInput, ServiceError

log = logging.getLogger(__name__)

SERVICE_STATUS = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "not_found": status.HTTP_404_NOT_FOUND,
    "failed_precondition": status.HTTP_409_CONFLICT,
    "conflict": status.HTTP_409_CONFLICT,
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "unauthenticated": status.HTTP_401_UNAUTHORIZED,
    "rate_limited": status.HTTP_429_TOO_MANY_REQUESTS,
    "unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
}

# DRF's own exceptions, named in our vocabulary (the same codes ServiceError uses where they overlap).
DRF_CODES = [
    (exceptions.ValidationError, "invalid"),
    (exceptions.ParseError, "invalid"),
    (exceptions.NotAuthenticated, "unauthenticated"),
    (exceptions.AuthenticationFailed, "unauthenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),
]


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return {"error": {"code": code, "message": message, "field": field}}


def _first_error(detail, path: str = "") -> tuple[str | None, str]:
    """The first (field path, message) of a DRF validation detail (nested dicts/lists)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = key if key != "non_field_errors" else ""
            field, message = _first_error(value, f"{path}.{sub}" if path and sub else (sub or path))
            return field, message
    if isinstance(detail, list) and detail:
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                return _first_error(item, f"{path}.{index}" if path else str(index))
            return path or None, str(item)
    return path or None, str(detail)


def validation_refusal(detail) -> InvalidInput:
    """A DRF validation detail as the refusal the handler below renders for it (message "field: rule")."""
    field, message = _first_error(detail)
    return InvalidInput(f"{field}: {message}" if field else message, field=field)


def refusal_item(exc: ServiceError) -> tuple[int, dict]:
    """(HTTP status, error detail) of a refusal, as the single call would answer it (a batch's item)."""
    return SERVICE_STATUS.get(exc.code, 400), error_body(exc.code, exc.message, exc.field)["error"]


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.code, exc.message, exc.field), status=SERVICE_STATUS.get(exc.code, 400))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(error_body("internal", "Internal error; it has been logged."),
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    code = next((c for cls, c in DRF_CODES if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        refusal = validation_refusal(exc.detail)
        response.data = error_body(code, refusal.message, refusal.field)
    else:
        response.data = error_body(code, str(exc.detail))
    return response


def not_found_view(request, exception=None):
    """Django's 404 for URLs no API route matched: the same JSON shape under /api/, the usual page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)
    return page_not_found(request, exception)
