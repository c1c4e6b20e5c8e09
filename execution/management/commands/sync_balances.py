from accounts.models import Balance
from execution.management.commands._sync import sync
from infra.commands import OpsCommand


class Command(OpsCommand):
    help = "Replace the ledger's balances (and positions) with the venue's now, for the named or every enabled account."

    def add_arguments(self, parser):
        parser.add_argument("account", nargs="*")

    def handle(self, *args, **o):
        def render(account):
            rows = Balance.objects.filter(account=account).order_by("market", "asset")
            self.stdout.write(f"{account.name}: {rows.count()} balance(s)")
            for b in rows:
                self.stdout.write(f"  {b.market:8} {b.asset:8} free {b.free.normalize():f} locked {b.locked.normalize():f}")

        sync(self, o["account"], render)
