from django.apps import AppConfig


class ExecutionConfig(AppConfig):
    """The worker side: order lane, Celery tasks, venue steps, recovery, reconciliation, start-up sync."""

    name = "execution"
    verbose_name = "Execution"
