"""Refusals before any view runs, for what no view can handle: a NUL in the path or query string (PostgreSQL text
cannot hold one, so a lookup would fail as a 500) and a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413 before it is
read). API paths answer in the API's error shape; other paths in plain text."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def _refusal(request, status: int, code: str, message: str, field: str | None = None) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse({"error": {"code": code, "message": message, "field": field}}, status=status)
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    @staticmethod
    def refusal(request) -> HttpResponse | None:
        if "\x00" in request.path_info:
            return _refusal(request, 400, "invalid", "The URL path must not contain NUL (%00) characters.")
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return _refusal(request, 400, "invalid", f"{name.replace(chr(0), '%00')}: must not contain NUL (%00) "
                                                         "characters.", name.replace("\x00", "%00"))
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refusal(request, 400, "invalid", "The Content-Length header is not a number.")
        if limit is not None and length > limit:
            return _refusal(request, 413, "too_large", f"The request body is {length} bytes; at most {limit} are accepted.")
        return None
