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
