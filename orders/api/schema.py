"""OpenAPI: every operation documents the one error shape for the statuses it can answer."""
from __future__ import annotations

from drf_spectacular import openapi
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="machine-readable reason, e.g. invalid, not_found, failed_precondition")
    message = serializers.CharField(help_text="what was wrong, for a person")
    field = serializers.CharField(allow_null=True, help_text="the input at fault, if any")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_STATUSES = {
    "400": "Bad input (names the field and the rule)",
    "401": "Missing, unknown or revoked token",
    "403": "Not allowed for this caller",
    "404": "Not found among the caller's accounts",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Refused in the current state (e.g. not cancellable, kill switch, risk limit, reused Idempotency-Key)",
    "415": "Unsupported media type",
    "429": "Too many requests",
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error = self._get_response_for_code(ErrorSerializer, "400", direction=direction)
        for code, description in ERROR_STATUSES.items():
            responses.setdefault(code, {**error, "description": description})
        return responses
