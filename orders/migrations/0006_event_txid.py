"""OrderEvent.txid / txid_snapshot: lets a StreamOrders resume find events committed out of id order.

The columns are added without a default first, so existing rows stay NULL (no table rewrite, and old events
are never mistaken for late commits); the default then applies to new rows only."""
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

import orders.models


class Migration(migrations.Migration):
    # The index is built without locking writes to the event table (a live ledger may hold millions of events).
    atomic = False

    dependencies = [
        ("orders", "0005_order_open_account_symbol_index"),
    ]

    operations = [
        migrations.AddField(model_name="orderevent", name="txid",
                            field=models.BigIntegerField(editable=False, null=True)),
        migrations.AddField(model_name="orderevent", name="txid_snapshot",
                            field=models.TextField(editable=False, null=True)),
        migrations.AlterField(model_name="orderevent", name="txid",
                              field=models.BigIntegerField(db_default=orders.models.TransactionId(), editable=False, null=True)),
        migrations.AlterField(model_name="orderevent", name="txid_snapshot",
                              field=models.TextField(db_default=orders.models.TransactionSnapshot(), editable=False, null=True)),
        AddIndexConcurrently(model_name="orderevent", index=models.Index(fields=["txid"], name="event_txid")),
    ]
