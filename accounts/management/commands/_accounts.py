"""Account arguments of the operations commands (infra.commands holds the rest)."""
from __future__ import annotations

from accounts.models import Account
from infra.commands import refuse
from infra.errors import echo


def account_names_check(names: list[str], option: str = "account") -> list:
    """The accounts named, in order; exit 2 naming every one that does not exist."""
    found = {a.name: a for a in Account.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise refuse(option, f"no account named {', '.join(echo(n) for n in missing)}")
    return [found[n] for n in names]

