"""Shared pieces of the operations commands: every argument checked before anything runs, and every refusal a
message naming the argument at fault with exit code 2, nothing changed.

`OpsCommand` is the base of each of them: text arguments holding a NUL, a control character or bytes that are not
UTF-8 are refused before `handle` runs, and a service refusal (`ServiceError`) becomes "<argument>: <message>"."""
from __future__ import annotations

import math
import unicodedata
from contextlib import contextmanager
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from infra.errors import ServiceError, echo

EXIT_ERROR = 2
TEXT_MAX_CHARS = 1000


def refuse(field: str, message: str):
    """A CommandError saying which argument is at fault; exit 2."""
    return CommandError(f"{field}: {message}", returncode=EXIT_ERROR)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be an argument's text (bytes that were not UTF-8, NUL, control characters), or None."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":  # how Python keeps argv/stdin bytes that are not UTF-8 (surrogateescape)
            return "is not valid UTF-8 text"
        if char == "\x00":
            return "contains a NUL character"
        if category == "Cc":
            return f"contains the control character U+{ord(char):04X}"
    if len(value) > TEXT_MAX_CHARS:
        return f"is longer than {TEXT_MAX_CHARS} characters ({len(value)})"
    return None


def text_check(field: str, value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise refuse(field, f"{echo(value)} {problem}" if "UTF-8" not in problem else problem)
    return value


def number_check(field: str, value, *, minimum: float = 0.0, maximum: float | None = None,
                 above_minimum: bool = False):
    """A finite number within bounds (argparse's float() takes nan and inf)."""
    if value is None:
        return value
    if not math.isfinite(value):
        raise refuse(field, f"must be a finite number, not {value}")
    if value < minimum or (above_minimum and value == minimum):
        raise refuse(field, f"must be {'more than' if above_minimum else 'at least'} {minimum:g}, not {value:g}")
    if maximum is not None and value > maximum:
        raise refuse(field, f"must be at most {maximum:g}, not {value:g}")
    return value


DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration_seconds(value: str) -> int | None:
    """Seconds of "90m", "6h", "30d", "2w" (ASCII digits and one unit), else None."""
    number, unit = value[:-1], value[-1:]
    if unit in DURATION_UNITS and number.isascii() and number.isdigit():
        return int(number) * DURATION_UNITS[unit]
    return None


def duration_check(field: str, value: str, *, maximum_seconds: float) -> timedelta:
    """A positive duration like 30d, at most `maximum_seconds`."""
    seconds = duration_seconds(value)
    if seconds is None:
        raise refuse(field, f"{echo(value)} is not a duration like 90m, 12h, 30d or 2w")
    if seconds <= 0:
        raise refuse(field, "must be more than nothing")
    if seconds > maximum_seconds:
        raise refuse(field, f"{echo(value)} is longer than {maximum_seconds / 86400:g} days")
    return timedelta(seconds=seconds)


class OpsCommand(BaseCommand):
    """Base of the operations commands (see the module's docstring). `field_names` maps a service's field name to
    the argument that carries it in this command (e.g. "account_id" -> "--account")."""

    field_names: dict[str, str] = {}

    def argument_names(self) -> dict[str, str]:
        """dest -> how a person typed it: "--base-url" for an option, "name" for a positional argument."""
        parser = self.create_parser("manage.py", self.__module__.rsplit(".", 1)[-1])
        names = {}
        for action in parser._actions:
            if action.option_strings:
                names[action.dest] = max(action.option_strings, key=len)
            else:
                names[action.dest] = action.dest
        return names

    def execute(self, *args, **options):
        names = self.argument_names()
        for dest, value in options.items():
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                if isinstance(item, str):
                    text_check(names.get(dest, dest), item)
        for item in args:
            if isinstance(item, str):
                text_check("argument", item)
        try:
            return super().execute(*args, **options)
        except ServiceError as exc:
            field = self.field_names.get(exc.field or "", exc.field)
            raise CommandError(f"{field}: {exc.message}" if field else exc.message, returncode=EXIT_ERROR) from None


@contextmanager
def service_errors(field_names: dict[str, str] | None = None):
    """Run a service call; a refusal is printed as "<field>: <message>" and exits 2 (nothing changed)."""
    try:
        yield
    except ServiceError as exc:
        field = (field_names or {}).get(exc.field or "", exc.field)
        raise CommandError(f"{field}: {exc.message}" if field else exc.message, returncode=EXIT_ERROR) from None


def user_get(username: str, option: str = "--user"):
    from django.contrib.auth import get_user_model

    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"{option}: no user named {echo(username)}", returncode=EXIT_ERROR)
    return user
