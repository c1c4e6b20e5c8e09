"""Workers keep their database connections across tasks (a new PostgreSQL connection per task used to
cost more than the task's own queries), yet still drop one that broke or outlived CONN_MAX_AGE."""
from __future__ import annotations

from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from execution import tasks
from oms_project.celery import app


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _run_task_signals(task) -> None:
    """What a worker does around one task: Celery's Django fixup and every task_prerun/postrun receiver."""
    fixup = DjangoWorkerFixup(app)
    fixup.on_task_prerun(sender=task)
    task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    task_postrun.send(sender=task, task_id="t", task=task, args=(), kwargs={}, retval=None, state="SUCCESS")
    fixup.on_task_postrun(sender=task)


def test_a_connection_serves_many_tasks(transactional_db, settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    connection.close()
    pid = _backend_pid()
    task = tasks.order_submit

    for _ in range(3):
        _run_task_signals(task)
        assert _backend_pid() == pid


def test_a_connection_past_its_max_age_is_replaced(transactional_db, settings):
    connection.close()
    pid = _backend_pid()
    connection.close_at = 0  # its CONN_MAX_AGE has run out

    _run_task_signals(tasks.order_submit)

    assert connection.connection is None
    assert _backend_pid() != pid
