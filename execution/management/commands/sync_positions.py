from accounts.models import Position
from execution.management.commands._sync import sync
from infra.commands import OpsCommand


class Command(OpsCommand):
    help = "Replace the ledger's positions (and balances) with the venue's now, for the named or every enabled account."

    def add_arguments(self, parser):
        parser.add_argument("account", nargs="*")

    def handle(self, *args, **o):
        def render(account):
            rows = Position.objects.filter(account=account).order_by("symbol")
            self.stdout.write(f"{account.name}: {rows.count()} position(s)")
            for p in rows:
                self.stdout.write(f"  {p.symbol:12} {p.side:5} {p.size.normalize():f} @ {p.entry_price.normalize():f} x{p.leverage}")

        sync(self, o["account"], render)
