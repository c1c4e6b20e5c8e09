import os

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_project.settings")

app = Celery("oms_project")
# The default in every thread too (lane threads, gRPC workers), so the apps below send tasks through
# `celery.current_app` without importing the project.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add("execution.lane.LaneStep")  # order submits and cancels, off the task queue (execution/lane.py)
app.steps["worker"].add("execution.user_streams.UserStreamStep")  # venues' user-data streams (execution/user_streams.py)
app.steps["worker"].add("infra.heartbeat.WorkerHeartbeatStep")  # "alive" on the admin's overview (infra/heartbeat.py)


@beat_init.connect(weak=False)
def _beat_heartbeat(sender=None, **_kwargs) -> None:
    """The beat process reports itself alive for the admin's overview (a daemon thread; gone when beat exits)."""
    from infra.heartbeat import Heartbeat

    Heartbeat("beat").start()


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def _database_connections_checked(sender=None, **_kwargs) -> None:
    """Around each task, as Django does around each request: drop connections that broke or grew older
    than CONN_MAX_AGE, keep the rest (settings.CELERY_DB_REUSE_MAX stops Celery closing them all).
    An eager task runs inside its caller's transaction: nothing to do there."""
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
