"""Bearer-token authentication for every OrderService call.

`authorization: Bearer <token>` metadata maps to a user (accounts.auth.user_for_token); the servicer gets
it as `context.user`. Without a token the caller is trusted (user None) only when the server does not
require auth, which by default is the case only on a loopback address. Health and reflection stay open
so load balancers and `grpcurl list` work without a token."""
from __future__ import annotations

import asyncio
import logging
import time

import grpc
from django.conf import settings
from django.db import close_old_connections, connections

from accounts.auth import bearer_token_parse
from accounts.auth_throttle import user_for_token_from
from accounts.models import ApiToken
from accounts.stream_access import stream_access_check
from infra.grpc_aio import is_async
from orders.grpc.errors import status_for

log = logging.getLogger("oms.grpc.auth")

OPEN_METHOD_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
HOW_TO_AUTHENTICATE = ("authentication required: send the metadata header 'authorization: Bearer <token>' "
                       "with an OMS API token (Python SDK: OMSClient(address, token=...); CLI: --token or OMS_TOKEN)")


class CallerContext:
    """The servicer context plus the authenticated caller (None = trusted, auth not required)."""

    __slots__ = ("_context", "user", "_token", "_checked_at")

    def __init__(self, context, user, token: str | None = None):
        self._context, self.user, self._token, self._checked_at = context, user, token, time.monotonic()

    @property
    def caller_key(self) -> str | None:
        """Who holds a stream, for the per-token stream caps (the token's digest; None = trusted, no token)."""
        return ApiToken.digest_of(self._token) if self._token is not None else None

    def recheck_due(self) -> bool:
        return self._token is not None and (
            time.monotonic() - self._checked_at >= settings.OMS_GRPC_STREAM_AUTH_RECHECK_SECONDS)

    def check_still_authenticated(self, accounts=None) -> None:
        """A stream outlives its first token check: a token revoked (or a user deactivated) meanwhile ends it, and
        so does losing any of `accounts` (the names an order stream delivers). Looked up again at most every
        OMS_GRPC_STREAM_AUTH_RECHECK_SECONDS (queries: on the event loop, call it in a thread when recheck_due())."""
        if not self.recheck_due():
            return
        self._checked_at = time.monotonic()
        try:
            stream_access_check(user=self.user, token=self._token, accounts=accounts)
        finally:
            connections.close_all()  # a stream holds no database connection between checks

    def __getattr__(self, name):
        return getattr(self._context, name)


def bearer_token(metadata) -> str | None:
    """The token from `authorization: Bearer <token>`; "" when the header is there but malformed."""
    for key, value in metadata or ():
        if key.lower() == "authorization":
            token = bearer_token_parse(str(value))
            return "" if token is None else token  # another scheme: there is nothing else to authenticate with
    return None


def _refuse(details: str):
    def behavior(request, context):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, details)
    return behavior


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, *, require_auth: bool):
        self.require_auth = require_auth

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(OPEN_METHOD_PREFIXES):
            return handler
        token = bearer_token(handler_call_details.invocation_metadata)
        if token == "":
            return self._replace(handler, _refuse("malformed authorization metadata: expected 'Bearer <token>'"))
        if token is None and self.require_auth:
            return self._replace(handler, _refuse(HOW_TO_AUTHENTICATE))
        # The token lookup touches the database, so it runs in a worker thread, not on the event loop.
        return self._replace(handler, self._authenticated(handler, token))

    @staticmethod
    def _replace(handler, behavior):
        if handler.unary_unary:
            return handler._replace(unary_unary=behavior)
        if handler.unary_stream:
            return handler._replace(unary_stream=behavior)
        raise TypeError(f"unsupported RPC kind for {handler}")  # OrderService has only these two kinds

    @staticmethod
    def _authenticated(handler, token: str | None):
        inner = handler.unary_unary or handler.unary_stream

        if is_async(inner):  # a stream on the event loop (unary RPCs here are all thread-pool functions)
            async def async_stream(request, context):
                user, refusal = ((None, None) if token is None else
                                 await asyncio.to_thread(_user_for_token_closing, token, peer_address(context.peer())))
                if refusal:
                    await context.abort(*refusal)
                async for response in inner(request, CallerContext(context, user, token)):
                    yield response
            return async_stream

        def resolve(context):
            if token is None:
                return CallerContext(context, None)
            close_old_connections()
            user, refusal = _user_for(token, peer_address(context.peer()))
            if refusal:
                context.abort(*refusal)
            return CallerContext(context, user, token)

        if handler.unary_unary:
            def unary(request, context):
                return inner(request, resolve(context))
            return unary

        def stream(request, context):
            yield from inner(request, resolve(context))
        return stream


def peer_address(peer: str | None) -> str:
    """The client's address from grpc's peer string ("ipv4:10.0.0.7:51234", "ipv6:[::1]:51234", "unix:...")."""
    kind, _, rest = (peer or "").partition(":")
    if kind in ("ipv4", "ipv6"):
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer or "unknown"


def _user_for(token: str, client: str):
    """(user, None), or (None, (code, details)) to refuse the call with. Failed authentications are throttled
    per client address (RESOURCE_EXHAUSTED)."""
    try:
        user = user_for_token_from(token, client=client)
    except Exception as exc:  # noqa: BLE001 - e.g. the database is down: say so, never the exception text
        return None, status_for(exc, "authentication")
    if user is None:
        return None, (grpc.StatusCode.UNAUTHENTICATED, "invalid or revoked API token")
    return user, None


def _user_for_token_closing(token: str, client: str):
    """_user_for in a pool thread that keeps no database connection afterwards."""
    try:
        return _user_for(token, client)
    finally:
        connections.close_all()
