from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # The admin's lists read in the order of an index with each filter (see the models). Built without locking
    # writes: orders, events and fills keep arriving while they build on a live ledger.
    atomic = False

    dependencies = [
        ('orders', '0013_fillpnl_books_after'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(fields=['order_type', '-created_at', '-id'], name='order_type_created'),
        ),
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(fields=['market', '-created_at', '-id'], name='order_market_created'),
        ),
        AddIndexConcurrently(
            model_name='orderevent',
            index=models.Index(fields=['kind', '-at', '-id'], name='event_kind'),
        ),
        AddIndexConcurrently(
            model_name='orderevent',
            index=models.Index(fields=['to_status', '-at', '-id'], name='event_to_status'),
        ),
        AddIndexConcurrently(
            model_name='orderevent',
            index=models.Index(fields=['source', '-at', '-id'], name='event_source'),
        ),
        AddIndexConcurrently(
            model_name='fill',
            index=models.Index(fields=['market', '-executed_at', '-id'], name='fill_market_time'),
        ),
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
        AddIndexConcurrently(
            model_name='reconciliationrun',
            index=models.Index(fields=['outcome', '-started_at', '-id'], name='recon_run_outcome'),
        ),
        AddIndexConcurrently(
            model_name='reconciliationrun',
            index=models.Index(fields=['trigger', '-started_at', '-id'], name='recon_run_trigger'),
        ),
    ]
