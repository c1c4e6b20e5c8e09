from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    """The worker side: order lane, Celery tasks, venue steps, recovery, reconciliation, start-up sync."""

    name = "execution"
    verbose_name = "Execution"

    def ready(self):
        from execution.metrics import UserStreamCollector
        from infra import metrics

        metrics.register_scrape_collector(UserStreamCollector())
