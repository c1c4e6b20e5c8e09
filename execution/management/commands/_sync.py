"""sync_balances / sync_positions: the worker's account sync, run now for the named (or every enabled) account."""
from __future__ import annotations

from django.core.management.base import CommandError

from accounts.management.commands._accounts import account_names_check
from accounts.selectors import accounts_to_sync
from infra.commands import EXIT_ERROR


def accounts_named(names: list[str]):
    if not names:
        return list(accounts_to_sync().order_by("name"))
    return account_names_check(names, "account")


def sync(command, names: list[str], render) -> None:
    """Replace each account's balances and positions with the venue's (one fetch serves both), then render."""
    from exchanges.errors import VenueError, venue_reason
    from execution import venue_orders
    from venues.supported import config_problem

    failed = []
    for account in accounts_named(names):
        problem = config_problem(account)
        if problem:  # a row stored before the services checked it: the others still sync
            failed.append(account.name)
            command.stderr.write(f"{account.name}: {problem}")
            continue
        try:
            venue_orders.account_sync(account.pk)
        except (VenueError, venue_orders.RetryLater) as exc:
            failed.append(account.name)
            command.stderr.write(f"{account.name}: {venue_reason(exc)}")
            continue
        render(account)
    if failed:
        raise CommandError(f"sync failed for {', '.join(failed)}", returncode=EXIT_ERROR)
