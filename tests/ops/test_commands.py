"""Operations commands: thin over the services, clear errors with exit code 2, secrets never in argv or output."""
import io
import sys
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.auth import user_for_token
from accounts.models import Account, AccountMember, ControlChange, Credential, TradingSwitch
from orders.models import Order, OrderEvent


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def open_order(account, symbol="BTCUSDT", status="NEW"):
    return Order.objects.create(account=account, exchange=account.exchange, symbol=symbol, side="BUY",
                                quantity=Decimal("0.01"), price=Decimal("100"), status=status, version=1,
                                exchange_order_id="1", submitted_at="2026-01-01T00:00:00Z")


def test_create_account_and_refuse_a_duplicate(db):
    out = run("create_account", "main", "--exchange", "binance", "--base-url", "http://127.0.0.1:9")
    assert "created account main on binance" in out
    assert Account.objects.get(name="main").base_url == "http://127.0.0.1:9"
    with pytest.raises(CommandError) as err:
        run("create_account", "main")
    assert err.value.returncode == 2 and "already exists" in str(err.value)
    assert Account.objects.filter(name="main").count() == 1


def test_set_credentials_reads_stdin_and_never_prints_the_secret(db, monkeypatch):
    Account.objects.create(name="main", exchange="binance")
    out = run("set_credentials", "main", stdin="my-api-key-1234\nvery-secret-value\n", monkeypatch=monkeypatch)
    assert "…1234" in out and "very-secret-value" not in out and "my-api-key-1234" not in out
    assert Credential.objects.get(account__name="main").decrypted() == {"apiKey": "my-api-key-1234",
                                                                         "secret": "very-secret-value"}
    change = ControlChange.objects.filter(what="credential_set").get()
    assert "very-secret-value" not in str(change.after) + str(change.before)


def test_set_credentials_refuses_missing_secret_and_argv_secrets(db, monkeypatch):
    Account.objects.create(name="main", exchange="binance")
    with pytest.raises(CommandError) as err:
        run("set_credentials", "main", stdin="only-a-key\n", monkeypatch=monkeypatch)
    assert err.value.returncode == 2 and "secret" in str(err.value)
    with pytest.raises(CommandError):
        run("set_credentials", "main", "--secret", "x")
    assert not Credential.objects.exists()


def test_create_api_token_for_a_new_member(db):
    Account.objects.create(name="main", exchange="binance")
    token = run("create_api_token", "bot", "--create-user", "--account", "main:trader", "--name", "bot-1").strip()
    user = user_for_token(token)
    assert user is not None and user.username == "bot"
    assert AccountMember.objects.get(user=user, account__name="main").role == "trader"


def test_create_api_token_for_unknown_user_changes_nothing(db):
    with pytest.raises(CommandError) as err:
        run("create_api_token", "ghost")
    assert err.value.returncode == 2 and "ghost" in str(err.value)
    assert not get_user_model().objects.filter(username="ghost").exists()


def test_kill_switch_on_cancels_open_orders_and_off_allows(db):
    account = Account.objects.create(name="main", exchange="binance")
    order = open_order(account)
    out = run("kill_switch", "on", "--reason", "venue incident", "--cancel-open")
    assert "kill switch ON" in out and "cancel requested for 1" in out
    switch = TradingSwitch.current()
    assert switch.kill_switch and switch.reason == "venue incident"
    order.refresh_from_db()
    assert order.status == "PENDING_CANCEL"
    assert OrderEvent.objects.filter(order=order, to_status="PENDING_CANCEL", source="admin").exists()
    assert "ON: venue incident" in run("kill_switch", "status")
    run("kill_switch", "off")
    assert TradingSwitch.current().kill_switch is False


def test_cancel_all_filters_by_account_and_symbol(db):
    a = Account.objects.create(name="a", exchange="binance")
    b = Account.objects.create(name="b", exchange="binance")
    target, other_symbol, other_account = open_order(a), open_order(a, symbol="ETHUSDT"), open_order(b)
    out = run("cancel_all", "--account", "a", "--symbol", "BTC/USDT")
    assert "cancel requested for 1 order(s)" in out
    statuses = {o.pk: o.status for o in Order.objects.all()}
    assert statuses == {target.pk: "PENDING_CANCEL", other_symbol.pk: "NEW", other_account.pk: "NEW"}


def test_cancel_all_unknown_account_is_an_error(db):
    with pytest.raises(CommandError) as err:
        run("cancel_all", "--account", "nope")
    assert err.value.returncode == 2 and "nope" in str(err.value)


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
