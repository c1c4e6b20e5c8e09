from accounts.management.commands._accounts import account_names_check
from accounts.models import Account
from infra.commands import OpsCommand
from orders.portfolio import portfolio_rebuild


class Command(OpsCommand):
    help = ("Rebuild the ledger's computed positions, holdings and per-fill PnL from scratch (fills, funding payments "
            "and adjustments) and print what changed. Safe beside live trading: each position is rebuilt under the "
            "lock the fold takes.")

    def add_arguments(self, parser):
        parser.add_argument("--account", default="", help="only this account (default: every account)")

    def handle(self, *args, **o):
        accounts = account_names_check([o["account"]], "--account") if o["account"] else list(Account.objects.order_by("name"))

        def progress(done: int, total: int, label: str) -> None:
            self.stdout.write(f"[{done}/{total}] {label}")

        changes = portfolio_rebuild(accounts, progress=progress)
        for change in changes:
            self.stdout.write(str(change))
        self.stdout.write(self.style.SUCCESS(f"{len(changes)} value(s) changed" if changes else "no change: the books "
                                             "equal a rebuild from the fills"))
