"""Periodic work, defined here and written to django-celery-beat's tables on deploy.

`manage.py migrate` (post_migrate) and `manage.py load_schedules` upsert one PeriodicTask per entry
(name prefixed "oms: "), and disable "oms: " rows no longer defined here. Intervals stay editable in
the admin until the next deploy. Run exactly one beat (`celery -A oms_project beat`).
Each run expires after its interval, so a stalled queue never piles up copies of the same sweep.
"""
from __future__ import annotations

from dataclasses import dataclass

PREFIX = "oms: "


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int
    description: str
    queue: str = "sync"


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("recover pending orders", "oms_project.tasks.recover_pending", 30,
             "Look up PENDING_NEW/PENDING_CANCEL orders on the venue and resolve them; nothing is re-sent"),
    Schedule("sync working orders", "orders.tasks.orders_sync_due", 2,
             "Poll each working order when due (often while young, rarely when old): status and its fills"),
    Schedule("sync balances and positions", "orders.tasks.accounts_sync_all", 60,
             "Replace every enabled account's balances and positions with the venue's"),
    Schedule("light reconciliation", "oms_project.tasks.reconcile_light", 300,
             "Compare open orders, balances and positions with the venue; record and count drift (no fixes)"),
)


def load(schedules: tuple[Schedule, ...] = SCHEDULES) -> dict[str, int]:
    """Upsert the PeriodicTask rows; returns counts of created/updated/disabled rows."""
    from django.db import transaction
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    counts = {"created": 0, "updated": 0, "disabled": 0}
    with transaction.atomic():
        names = []
        for s in schedules:
            interval, _ = IntervalSchedule.objects.get_or_create(every=s.every_seconds, period=IntervalSchedule.SECONDS)
            name = PREFIX + s.name
            names.append(name)
            _, created = PeriodicTask.objects.update_or_create(name=name, defaults={
                "task": s.task, "interval": interval, "crontab": None, "queue": s.queue,
                "expire_seconds": s.every_seconds, "description": s.description, "enabled": True,
            })
            counts["created" if created else "updated"] += 1
        stale = PeriodicTask.objects.filter(name__startswith=PREFIX, enabled=True).exclude(name__in=names)
        counts["disabled"] = stale.update(enabled=False)
        PeriodicTasks.update_changed()  # bulk update skips the model signals beat watches
    return counts


def post_migrate_load(sender, **kwargs):
    """Deploys run migrate: load the schedules once django_celery_beat's tables are in place."""
    if getattr(sender, "name", "") == "django_celery_beat":
        load()
