"""`manage.py sync_markets [ACCOUNT ...]`: refresh the instrument catalog from the venues."""
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from exchanges.markets import sync_markets


class Command(BaseCommand):
    help = "Load the markets of each enabled account's venue (or the named accounts) into the instrument catalog."

    def add_arguments(self, parser):
        parser.add_argument("accounts", nargs="*", help="account names (default: every enabled account)")

    def handle(self, *args, accounts, **options):
        qs = Account.objects.filter(name__in=accounts) if accounts else Account.objects.filter(enabled=True)
        missing = set(accounts) - set(qs.values_list("name", flat=True))
        if missing:
            raise CommandError(f"unknown account(s): {', '.join(sorted(missing))}")
        for account in qs:
            count = sync_markets(account)
            self.stdout.write(f"{account.name}: {count} instruments")
