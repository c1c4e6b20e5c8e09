"""The periodic re-check of a long-lived stream (gRPC StreamOrders/StreamPrices, the REST event streams): its
caller is still who it was (token not revoked, user active) and still sees every account the stream delivers.
A stream whose caller lost an account ends with PERMISSION_DENIED / an `error` event naming it; reconnecting
streams the accounts still visible."""
from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model

from accounts.auth import user_for_token
from accounts.selectors import accounts_for_user
from infra.errors import PermissionDenied, Unauthenticated, echo


def stream_access_check(*, user, token: str | None, accounts: Iterable[str] | None = None):
    """The caller as it is now (None for the trusted system), or Unauthenticated / PermissionDenied.
    `token`: what the stream authenticated with (None for a browser session); `accounts`: the names it delivers."""
    if token is not None:
        current = user_for_token(token)
        if current is None:
            raise Unauthenticated("the API token was revoked or its user deactivated; the stream ends")
    elif user is not None:
        current = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
        if current is None:
            raise Unauthenticated("the user was deactivated; the stream ends")
    else:
        return None
    names = set(accounts or ())
    if names:
        lost = sorted(names - set(accounts_for_user(current).filter(name__in=names).values_list("name", flat=True)))
        if lost:
            shown = ", ".join(echo(name) for name in lost)
            raise PermissionDenied(f"access to account {shown} was removed; the stream ends (reconnect to stream "
                                   "the accounts you may still see)", field="account_id")
    return current
