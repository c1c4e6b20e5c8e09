"""django-celery-beat's pages in the admin can schedule any task with any arguments and run it at once: staff need
`oms_project.schedule_periodic_tasks` besides the model permissions to add, change, delete, enable or run them."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests import factories

TASK_PERMISSIONS = [f"{action}_{model}" for action in ("view", "add", "change", "delete")
                    for model in ("periodictask", "intervalschedule")]


@pytest.fixture
def scheduler(db):
    """Staff holding every model permission on periodic tasks and intervals, not the dedicated one."""
    user = factories.user_create(username="scheduler", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="django_celery_beat",
                                                        codename__in=TASK_PERMISSIONS))
    return user


@pytest.fixture
def task(db):
    every = IntervalSchedule.objects.create(every=30, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(name="recover-pending", task="oms_project.tasks.recover_pending", interval=every)


def add_form(interval) -> dict:
    return {"name": "drain", "regtask": "orders.tasks.accounts_sync_all", "task": "", "interval": interval.pk,
            "args": "[]", "kwargs": "{}", "enabled": "on", "headers": "{}", "priority": "", "queue": "",
            "exchange": "", "routing_key": "", "expire_seconds": "", "description": ""}


def test_model_permissions_alone_cannot_add_change_delete_or_run(admin_as, scheduler, task):
    client = admin_as(scheduler)

    assert client.post("/admin/django_celery_beat/periodictask/add/", add_form(task.interval)).status_code == 403
    client.post(f"/admin/django_celery_beat/periodictask/{task.pk}/change/",
                {**add_form(task.interval), "name": "recover-pending", "args": '["x"]'})
    assert client.post(f"/admin/django_celery_beat/periodictask/{task.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert 'value="run_tasks"' not in listing and 'value="disable_tasks"' not in listing
    assert client.post("/admin/django_celery_beat/intervalschedule/add/",
                       {"every": 1, "period": "seconds"}).status_code == 403

    task.refresh_from_db()
    assert (task.args, task.enabled) == ("[]", True)
    assert list(PeriodicTask.objects.values_list("name", flat=True)) == ["recover-pending"]


def test_the_dedicated_permission_allows_scheduling(admin_as, scheduler, task):
    scheduler.user_permissions.add(Permission.objects.get(codename="schedule_periodic_tasks"))
    client = admin_as(scheduler)

    response = client.post("/admin/django_celery_beat/periodictask/add/", add_form(task.interval))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert PeriodicTask.objects.filter(name="drain", task="orders.tasks.accounts_sync_all").exists()
    assert 'value="run_tasks"' in client.get("/admin/django_celery_beat/periodictask/").content.decode()
