import json

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from accounts.management.commands._accounts import account_names_check
from execution.recovery import recover
from infra.commands import OpsCommand, number_check
from orders.lifecycle import is_pending


class Command(OpsCommand):
    help = ("Settle every order left PENDING_NEW or PENDING_CANCEL by looking it up on the venue (never re-sending it). "
            "Exit 0 when none is left pending, 1 when some still are, 2 when a lookup failed.")

    def add_arguments(self, parser):
        parser.add_argument("--account", default="")
        parser.add_argument("--min-age", type=float, default=None,
                            help="skip orders changed in the last N seconds (default OMS_RECOVERY_MIN_AGE_SECONDS)")
        parser.add_argument("--wait", type=float, default=30.0,
                            help="keep looking at orders still within recvWindow + grace for up to N seconds (default 30)")
        parser.add_argument("--json", action="store_true", help="one JSON document on stdout")

    def handle(self, *args, **o):
        if o["account"]:
            account_names_check([o["account"]], "--account")
        number_check("--min-age", o["min_age"], maximum=86400)
        number_check("--wait", o["wait"], maximum=3600)
        console = Console(file=self.stdout, stderr=False, highlight=False)
        if o["json"]:
            results = recover(account=o["account"], min_age_seconds=o["min_age"], wait_seconds=o["wait"])
            self.stdout.write(json.dumps([r.as_dict() for r in results], indent=2))
        else:
            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("recovering", total=None)
                results = recover(account=o["account"], min_age_seconds=o["min_age"], wait_seconds=o["wait"],
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
            if not results:
                console.print("no pending orders")
            else:
                table = Table("order", "account", "symbol", "before", "after", "outcome", "detail")
                for r in results:
                    table.add_row(r.order_id, r.account, r.symbol, r.before, r.after, r.outcome, r.detail)
                console.print(table)
        if any(r.outcome == "error" for r in results):
            raise SystemExit(2)
        if any(is_pending(r.after) for r in results):
            raise SystemExit(1)
