from accounts.models import TradingSwitch
from accounts.services import kill_switch_set
from infra.commands import OpsCommand, user_get
from orders.services import order_cancel_all


class Command(OpsCommand):
    help = "Stop (on) or allow (off) all new orders; `status` shows it. --cancel-open also cancels every working order."

    def add_arguments(self, parser):
        parser.add_argument("state", choices=["on", "off", "status"])
        parser.add_argument("--reason", default="", help="why (recorded with who and when)")
        parser.add_argument("--cancel-open", action="store_true", help="with on: cancel every open order as well")
        parser.add_argument("--user", default="", help="record this user as the one who made the change")

    def handle(self, *args, **o):
        if o["state"] == "status":
            switch = TradingSwitch.current()
            self.stdout.write(f"kill switch {'ON' if switch.kill_switch else 'off'}"
                              f"{': ' + switch.reason if switch.reason else ''} (since {switch.updated_at:%Y-%m-%d %H:%M:%S} UTC)")
            return
        user = user_get(o["user"])
        switch = kill_switch_set(on=o["state"] == "on", reason=o["reason"], user=user)
        self.stdout.write(self.style.WARNING("kill switch ON: new orders are refused") if switch.kill_switch
                          else self.style.SUCCESS("kill switch off: trading allowed"))
        if o["cancel_open"] and switch.kill_switch:
            cancelled = order_cancel_all(user=user, source="admin", reason=o["reason"] or "kill switch")
            self.stdout.write(f"cancel requested for {len(cancelled)} open order(s)")
