"""Shared pieces of the operations commands: service errors become a clear message and exit code 2."""
from __future__ import annotations

from contextlib import contextmanager

from django.core.management.base import CommandError

from oms_project.errors import ServiceError

EXIT_ERROR = 2


@contextmanager
def service_errors():
    """Run a service call; a refusal is printed as "<field>: <message>" and exits 2 (nothing changed)."""
    try:
        yield
    except ServiceError as exc:
        raise CommandError(str(exc), returncode=EXIT_ERROR) from None


def user_get(username: str):
    from django.contrib.auth import get_user_model

    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--user: no user named {username!r}", returncode=EXIT_ERROR)
    return user
