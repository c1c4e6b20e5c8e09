"""Bearer-token authentication shared by gRPC and REST: a token is looked up by its SHA-256 digest."""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiToken

# last_used_at is for people ("is this token still in use?"): minute precision spares a write per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def bearer_token_parse(value: str | None) -> str | None:
    """The token of an `Authorization` value (`Bearer <token>`): the one reading of that header, for gRPC metadata,
    REST, the event streams and /healthz. None: no value, or another scheme (session, basic); "": the Bearer
    scheme without exactly one token after it (malformed)."""
    parts = (value or "").split()  # any whitespace between scheme and token, as HTTP allows
    if not parts or parts[0].lower() != "bearer":
        return None
    return parts[1] if len(parts) == 2 else ""


def user_for_token(token: str | None):
    """The active user owning this unrevoked, unexpired token, or None. The one check gRPC (every call, and open
    streams again every few seconds) and REST make."""
    if not token:
        return None
    now = timezone.now()
    found = (ApiToken.objects.select_related("user")
             .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now),
                     digest=ApiToken.digest_of(token.strip()), revoked_at__isnull=True).first())
    if found is None or not found.user.is_active:
        return None
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user
