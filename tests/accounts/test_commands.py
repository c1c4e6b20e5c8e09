"""The accounts' commands (create_account, set_credentials, create_api_token): thin over the services, clear errors
with exit code 2, secrets never in argv or output."""
import io
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.auth import user_for_token
from accounts.models import Account, AccountMember, ControlChange, Credential


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


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


def test_trading_state_sets_prints_and_is_recorded(db):
    Account.objects.create(name="main", exchange="binance")
    Account.objects.create(name="second", exchange="binance")

    assert "account main trading state: REDUCING: daily loss" in run(
        "trading_state", "--account", "main", "reducing", "--reason", "daily loss")
    assert "global trading state: HALTED: venue incident" in run("trading_state", "HALTED", "--reason",
                                                                  "venue incident")

    printed = run("trading_state").splitlines()
    assert printed[0].startswith("global: HALTED: venue incident since ")
    assert printed[1].startswith("main: REDUCING: daily loss since ") and printed[1].endswith(
        "(effective HALTED: global)")
    assert printed[2] == "second: ACTIVE (effective HALTED: global)"
    assert [line.split(":")[0] for line in run("trading_state", "--account", "second").splitlines()] == [
        "global", "second"]
    changes = ControlChange.objects.filter(what="trading_state_set").order_by("at")
    assert [(c.account.name if c.account else "", c.user, c.after["state"]) for c in changes] == [
        ("main", None, "REDUCING"), ("", None, "HALTED")]


@pytest.mark.parametrize(("args", "message"), [
    (["PAUSED", "--reason", "x"], "state: state must be one of ACTIVE, REDUCING, HALTED, not 'PAUSED'"),
    (["HALTED"], "--reason: a reason is required to move to HALTED"),
    (["HALTED", "--reason", "x", "--account", "nope"], "--account: account 'nope' not found"),
    (["--account", "nope"], "--account: no account named 'nope'"),
    (["--reason", "x"], "--reason: give a state to change as well"),
])
def test_trading_state_refuses_bad_arguments(db, args, message):
    Account.objects.create(name="main", exchange="binance")
    with pytest.raises(CommandError) as err:
        run("trading_state", *args)
    assert err.value.returncode == 2 and message in str(err.value)
    assert not ControlChange.objects.filter(what="trading_state_set").exists()
