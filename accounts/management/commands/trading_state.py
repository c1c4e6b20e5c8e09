from accounts.management.commands._accounts import account_names_check
from accounts.models import TradingState
from accounts.selectors import trading_states
from accounts.services import trading_state_set
from infra.commands import OpsCommand, refuse


class Command(OpsCommand):
    help = ("Set the global trading state, or one account's (--account): ACTIVE (every order), REDUCING (only orders "
            "that reduce a position or holding) or HALTED (no new orders; cancels are always taken). Without a "
            "state: print every state. The stricter of an account's own and the global state applies.")
    field_names = {"state": "state", "reason": "--reason", "account_id": "--account"}

    def add_arguments(self, parser):
        parser.add_argument("state", nargs="?", default="", help="ACTIVE, REDUCING or HALTED; omit to print the states")
        parser.add_argument("--account", default="", help="the account to set (default: the global state)")
        parser.add_argument("--reason", default="", help="why (recorded with when; required for REDUCING and HALTED)")

    def handle(self, *args, **o):
        if not o["state"]:
            if o["reason"]:
                raise refuse("--reason", "give a state to change as well (ACTIVE, REDUCING or HALTED)")
            self._print(o["account"])
            return
        row = trading_state_set(state=o["state"], account=o["account"], reason=o["reason"])
        scope = f"account {o['account']}" if o["account"] else "global"
        style = self.style.SUCCESS if row.trading_state == TradingState.ACTIVE else self.style.WARNING
        self.stdout.write(style(f"{scope} trading state: {row.trading_state}"
                                f"{': ' + row.trading_state_reason if row.trading_state_reason else ''}"))

    def _print(self, account: str) -> None:
        if account:
            account_names_check([account], "--account")
        for row in trading_states():
            if account and row.account not in ("", account):
                continue
            since = f" since {row.since:%Y-%m-%d %H:%M:%S} UTC" if row.since else ""
            reason = f": {row.reason}" if row.reason else ""
            if not row.account:
                self.stdout.write(f"global: {row.state}{reason}{since}")
                continue
            governs = "" if row.effective.scope == "account" else f" (effective {row.effective.state}: global)"
            self.stdout.write(f"{row.account}: {row.state}{reason}{since}{governs}")
