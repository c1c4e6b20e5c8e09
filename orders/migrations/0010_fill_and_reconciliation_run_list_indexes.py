from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking writes (fills arrive while the index builds on a live ledger).
    atomic = False

    dependencies = [
        ('orders', '0009_order_pending_index'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='fill',
            index=models.Index(fields=['-executed_at', '-id'], name='fill_time'),
        ),
        AddIndexConcurrently(
            model_name='fill',
            index=models.Index(fields=['trade_id'], name='fill_trade_id'),
        ),
        AddIndexConcurrently(
            model_name='reconciliationrun',
            index=models.Index(fields=['account', 'market', '-started_at', '-id'], name='recon_run_latest'),
        ),
        AddIndexConcurrently(
            model_name='reconciliationrun',
            index=models.Index(fields=['-started_at', '-id'], name='recon_run_time'),
        ),
    ]
