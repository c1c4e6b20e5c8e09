from accounts.services import account_create
from infra.commands import OpsCommand, user_get


class Command(OpsCommand):
    help = ("Create a trading account (credentials are set separately with set_credentials). The exchange id and "
            "venue URL are checked against what the gateway supports; a refusal exits 2 naming the argument.")
    field_names = {"exchange": "--exchange", "base_url": "--base-url", "sandbox": "--sandbox"}

    def add_arguments(self, parser):
        parser.add_argument("name", help="account name clients send as account_id, e.g. main")
        parser.add_argument("--exchange", default="binance", help="ccxt exchange id (default binance)")
        parser.add_argument("--sandbox", action="store_true", help="use the venue's testnet")
        parser.add_argument("--base-url", default="", help="override the venue's API host, e.g. http://127.0.0.1:8765")
        parser.add_argument("--user", default="", help="record this user as the one who made the change")

    def handle(self, *args, **o):
        account = account_create(name=o["name"], exchange=o["exchange"], sandbox=o["sandbox"],
                                 base_url=o["base_url"], user=user_get(o["user"]))
        self.stdout.write(self.style.SUCCESS(f"created account {account.name} on {account.exchange}"
                                             f"{' (sandbox)' if account.sandbox else ''}"
                                             f"{' at ' + account.base_url if account.base_url else ''}"))
