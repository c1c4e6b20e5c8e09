"""`Authorization: Bearer <token>` with our ApiToken (the same tokens gRPC accepts)."""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.auth import bearer_token_parse
from accounts.auth_throttle import user_for_token_from
from infra.errors import RateLimited
from orders.api.throttling import client_address


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        # latin-1 maps each byte to one character, so the header parses as bytes would; the token is UTF-8.
        token = bearer_token_parse(authentication.get_authorization_header(request).decode("latin-1"))
        if token is None:
            return None  # not ours: let session authentication try
        if not token:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        client = client_address(request)
        try:
            token = token.encode("latin-1").decode()
        except UnicodeError:
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
