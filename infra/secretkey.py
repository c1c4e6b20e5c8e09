"""The web tier (WSGI and the ASGI events process) signs sessions and CSRF tokens: it does not start without
DJANGO_SECRET_KEY. The other processes need none (settings leave it empty and Django refuses any use of it)."""
from django.core.exceptions import ImproperlyConfigured


def require_secret_key() -> None:
    from django.conf import settings

    try:
        settings.SECRET_KEY  # noqa: B018 - Django raises when it is empty
    except ImproperlyConfigured:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is required by the web tier "
                                   "(OMS_DEV=1 uses a local development key)") from None
