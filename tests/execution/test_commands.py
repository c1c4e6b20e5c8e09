"""The worker side's schedule and commands: the beat's entries are registered tasks loaded into the scheduler;
`reconcile` refuses a bad --since with exit code 2 and agrees when there is nothing to compare."""
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_beat_schedule_tasks_are_registered_and_loaded_into_the_scheduler(transactional_db):
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from oms_project.celery import app

    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {"recover-pending", "reconcile-light"} <= set(schedule)
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, f"{name}: task {entry['task']} is not registered"
    DatabaseScheduler(app=app)  # what `celery beat` does on start: the entries become admin-visible rows
    rows = {row.name: row.task for row in PeriodicTask.objects.all()}
    assert {name: rows.get(name) for name in schedule} == {name: entry["task"] for name, entry in schedule.items()}


def test_reconcile_since_accepts_durations_and_iso_times_and_refuses_the_rest(db):
    from datetime import UTC, datetime, timedelta

    from execution.management.commands.reconcile import since_arg

    assert abs(since_arg("6h") - (datetime.now(UTC) - timedelta(hours=6))) < timedelta(seconds=5)
    assert since_arg("2026-11-01T10:00:00") == datetime(2026, 11, 1, 10, tzinfo=UTC)
    with pytest.raises(CommandError) as err:
        call_command("reconcile", "--since", "yesterday-ish")
    assert err.value.returncode == 2 and "--since" in str(err.value)


def test_reconcile_with_no_accounts_agrees(db):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("reconcile", "--since", "2d", stdout=out)
    assert exit_.value.code == 0 and "no accounts with credentials" in out.getvalue()
