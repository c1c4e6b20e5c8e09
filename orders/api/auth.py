"""`Authorization: Bearer <token>` with our ApiToken (the same tokens gRPC accepts)."""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.auth_throttle import auth_failure_record, user_for_token_from
from oms_project.errors import RateLimited
from orders.api.throttling import client_address


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: let session authentication try
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        client = client_address(request)
        try:
            token = header[1].decode()
        except UnicodeError:
            auth_failure_record(client)
            raise exceptions.AuthenticationFailed("The token contains invalid characters.") from None
        try:
            user = user_for_token_from(token, client=client)
        except RateLimited as exc:  # failed authentications are throttled per client
            raise exceptions.Throttled(wait=exc.retry_after, detail=exc.message) from None
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("The token is unknown or revoked.")
        return user, None

    def authenticate_header(self, request) -> str:
        # Makes unauthenticated requests 401 (with this challenge) rather than 403.
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API token created in the admin (shown once)."}
