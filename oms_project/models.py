"""Operations' own permission: django-celery-beat's admin can schedule any task with any arguments (and its "run"
action starts one now), so adding, changing, deleting or running periodic tasks and their schedules in the admin
needs `oms_project.schedule_periodic_tasks` as well as the model permissions (oms_project/admin.py)."""
from django_celery_beat.models import PeriodicTask


class ScheduledTask(PeriodicTask):
    """Holds the permission only (a proxy: no table, not in the admin)."""

    class Meta:
        proxy = True
        default_permissions = ()
        permissions = [("schedule_periodic_tasks",
                        "Can add, change, delete and run periodic tasks and their schedules (any task, any arguments)")]
