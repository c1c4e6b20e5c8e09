"""Secrets at rest: Fernet tokens under MultiFernet, so keys can rotate (newest key first)."""
from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.OMS_FERNET_KEYS
    if not keys:
        raise ImproperlyConfigured("OMS_FERNET_KEYS is not set: credentials cannot be encrypted or read")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured("a stored credential cannot be decrypted with OMS_FERNET_KEYS") from None


def rotate(token: str) -> str:
    """Re-encrypt under the newest key."""
    return _fernet().rotate(token.encode()).decode()


def reset_cache() -> None:
    _fernet.cache_clear()
