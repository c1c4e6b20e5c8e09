"""Who a REST client is, for throttling: the connecting address, unless that is a proxy we trust
(OMS_TRUSTED_PROXIES), in which case the nearest X-Forwarded-For address that is not one. A client-sent
X-Forwarded-For is never believed on its own: anyone can send a new one with each request."""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from rest_framework import throttling


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]):
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.OMS_TRUSTED_PROXIES)))


def client_address(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    if not _trusted(remote):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):  # the rightmost hops were added by our proxies; the first other one is the client
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a forged hop our proxy passed on: the proxy is all we know
    return remote


class _ByClientAddress:
    def get_ident(self, request):
        return client_address(request)


class AnonRateThrottle(_ByClientAddress, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_ByClientAddress, throttling.UserRateThrottle):
    pass
