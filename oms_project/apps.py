from django.apps import AppConfig


class OmsProjectConfig(AppConfig):
    name = "oms_project"
    verbose_name = "Operations"

    def ready(self):
        from celery import signals as celery_signals
        from django.db.models.signals import post_save

        from oms_project import observers
        from orders.models import OrderEvent

        post_save.connect(observers.order_event_saved, sender=OrderEvent, dispatch_uid="oms_order_event_observed")
        celery_signals.task_prerun.connect(observers.task_started, dispatch_uid="oms_task_log_context", weak=False)
        celery_signals.task_postrun.connect(observers.task_finished, dispatch_uid="oms_task_log_context_end", weak=False)
        celery_signals.worker_init.connect(observers.worker_init, dispatch_uid="oms_worker_metrics", weak=False)
        celery_signals.worker_process_shutdown.connect(observers.worker_process_shutdown,
                                                       dispatch_uid="oms_worker_child_metrics", weak=False)
        celery_signals.worker_ready.connect(observers.worker_ready, dispatch_uid="oms_worker_recovery", weak=False)
