from infra.commands import OpsCommand, user_get
from orders.services import order_cancel_all


class Command(OpsCommand):
    help = "Request cancellation of every open order (optionally of one account and/or symbol)."
    field_names = {"account_id": "--account", "symbol": "--symbol"}

    def add_arguments(self, parser):
        parser.add_argument("--account", default="")
        parser.add_argument("--symbol", default="", help="exchange-native (BTCUSDT) or BTC/USDT")
        parser.add_argument("--reason", default="cancel_all")
        parser.add_argument("--user", default="", help="act as this user (only accounts they may trade)")

    def handle(self, *args, **o):
        orders = order_cancel_all(account=o["account"], symbol=o["symbol"], user=user_get(o["user"]),
                                  source="admin", reason=o["reason"])
        for order in orders:
            self.stdout.write(f"{order.id} {order.account.name} {order.symbol} {order.side} {order.quantity} -> {order.status}")
        self.stdout.write(self.style.SUCCESS(f"cancel requested for {len(orders)} order(s)"))
