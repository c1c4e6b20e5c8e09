"""A trade's identity includes its symbol: venues number trades per symbol, so (account, market, trade id)
dropped the second symbol's trade with a shared id. Every existing fill keeps its row and gets its order's symbol."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_event_txid")]

    operations = [
        migrations.AddField(model_name="fill", name="symbol", field=models.CharField(default="", max_length=32),
                            preserve_default=False),
        migrations.RunSQL(
            "UPDATE orders_fill AS f SET symbol = o.symbol FROM orders_order AS o WHERE f.order_id = o.id",
            reverse_sql=migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="fill", name="uniq_fill_trade"),
        migrations.AddConstraint(model_name="fill", constraint=models.UniqueConstraint(
            fields=["account", "market", "symbol", "trade_id"], name="uniq_fill_symbol_trade")),
    ]
