"""`manage.py sync_markets [ACCOUNT ...]`: refresh the instrument catalog from the venues."""
import ccxt
from django.core.management.base import CommandError

from accounts.management.commands._accounts import account_names_check
from accounts.selectors import venue_accounts
from exchanges.errors import VenueBackoff, venue_reason
from exchanges.markets import sync_markets
from infra.commands import EXIT_ERROR, OpsCommand
from venues.supported import config_problem


class Command(OpsCommand):
    help = ("Load the markets of each enabled account's venue (or the named accounts) into the instrument catalog. "
            "An account whose venue fails is reported and the others go on; exit 2 when any failed.")

    def add_arguments(self, parser):
        parser.add_argument("accounts", nargs="*", help="account names (default: every enabled account)")

    def handle(self, *args, accounts, **options):
        targets = account_names_check(accounts, "accounts") if accounts else venue_accounts()
        failed = []
        for account in targets:
            problem = config_problem(account)
            if problem:
                failed.append(account.name)
                self.stderr.write(f"{account.name}: {problem}")
                continue
            try:
                count = sync_markets(account)
            except (ccxt.BaseError, VenueBackoff) as exc:
                failed.append(account.name)
                self.stderr.write(f"{account.name}: {venue_reason(exc)}")
                continue
            self.stdout.write(f"{account.name}: {count} instruments")
        if failed:
            raise CommandError(f"accounts: the catalog of {', '.join(failed)} was not synced", returncode=EXIT_ERROR)
