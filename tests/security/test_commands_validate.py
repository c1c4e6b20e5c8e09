"""Management commands check every argument first (issue 19, item 9): a NUL, a control character or bytes that
are not UTF-8, an impossible user name, an unknown account, an out-of-range time or number each exit 2 with a
message naming the argument, print no traceback, and change nothing."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import services
from accounts.models import Account, AccountMember, ApiToken, ControlChange, Credential, TradingSwitch
from tests.subprocess_env import database_url

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """`manage.py ARGS` as an operator runs it (argv and stdin as raw bytes)."""
    argv = [os.fsencode(sys.executable), b"manage.py", *(a if isinstance(a, bytes) else a.encode() for a in args)]
    return subprocess.run(argv, cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url()}, input=stdin,
                          capture_output=True, timeout=120)


def refused(*args, stdin: str | None = None, monkeypatch=None) -> str:
    """call_command that must exit 2; returns the message."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(CommandError) as err:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert err.value.returncode == 2, err.value
    return str(err.value)


def nothing_changed():
    assert not get_user_model().objects.exists()
    assert not ApiToken.objects.exists() and not AccountMember.objects.exists()
    assert not Credential.objects.exists()
    assert not ControlChange.objects.exclude(what="account_create").exists()


@pytest.fixture
def main(db):
    return services.account_create(name="main", exchange="binance")


# ---- set_credentials -------------------------------------------------------------------------------------


def test_set_credentials_refuses_stdin_that_is_not_utf8(transactional_db):
    services.account_create(name="main", exchange="binance")

    done = manage("set_credentials", "main", stdin=b"key-\xff\xfe-1234\nsecret\n")

    assert done.returncode == 2, done.stderr
    assert b"stdin: is not UTF-8 text" in done.stderr and b"Traceback" not in done.stderr
    nothing_changed()


def test_set_credentials_refuses_a_nul_or_control_character_without_echoing_it(main, monkeypatch):
    message = refused("set_credentials", "main", stdin="key-1234\x00\nsecret-xyz\n", monkeypatch=monkeypatch)
    assert message == "API key (stdin line 1): contains a NUL character; nothing was stored"

    message = refused("set_credentials", "main", stdin="key-1234\nsecret\x1bxyz\n", monkeypatch=monkeypatch)
    assert message.startswith("secret (stdin line 2): contains the control character U+001B")
    assert "xyz" not in message
    nothing_changed()


def test_set_credentials_names_an_unknown_account_and_extra_lines(main, monkeypatch):
    assert refused("set_credentials", "nope", stdin="k\ns\n", monkeypatch=monkeypatch) == \
        "account: account 'nope' not found"
    assert refused("set_credentials", "main", stdin="k\ns\np\nextra\n", monkeypatch=monkeypatch).startswith(
        "stdin: expected 2 or 3 lines")
    nothing_changed()


def test_the_credential_service_refuses_control_characters_too(main):
    from infra.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        services.credential_set(account="main", api_key="key\x00", secret="secret")
    assert err.value.field == "api_key" and "key\x00" not in err.value.message
    nothing_changed()


# ---- create_api_token ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["x" * 200, "a/b c<script>", "bot\x00", "  "])
def test_create_api_token_refuses_an_impossible_user_name(db, username):
    message = refused("create_api_token", username, "--create-user")

    assert message.startswith("username: ")
    nothing_changed()


def test_create_api_token_with_a_wrong_account_leaves_no_user_behind(main):
    message = refused("create_api_token", "newbot", "--create-user", "--account", "main:trader",
                      "--account", "nope:viewer")

    assert message == "--account: account 'nope' not found"
    nothing_changed()


def test_create_api_token_refuses_a_bad_role_and_a_long_name(main):
    assert refused("create_api_token", "newbot", "--create-user", "--account", "main:owner").startswith(
        "--account: role must be one of")
    assert refused("create_api_token", "newbot", "--create-user", "--name", "n" * 65).startswith("--name: ")
    nothing_changed()


def test_create_api_token_creates_the_user_through_the_service(main):
    out = io.StringIO()
    call_command("create_api_token", "newbot", "--create-user", "--account", "main:viewer", stdout=out,
                 stderr=io.StringIO())

    user = get_user_model().objects.get(username="newbot")
    assert not user.has_usable_password()
    assert ControlChange.objects.filter(what="user_create", after={"user": "newbot"}).exists()
    assert AccountMember.objects.get(user=user).role == "viewer"


def test_an_argument_that_is_not_utf8_exits_2_naming_it(transactional_db):
    done = manage("create_account", b"desk-\xff")

    assert done.returncode == 2, done.stderr
    assert b"name: is not valid UTF-8 text" in done.stderr and b"Traceback" not in done.stderr
    assert not Account.objects.exists()


# ---- reconcile, recover, kill_switch, run_marketdata -----------------------------------------------------


@pytest.mark.parametrize(("since", "why"), [
    ("99999999d", "reaches back more than 3650 days"),
    ("2026-11-01T00:00:00-23:59", "has a UTC offset beyond ±14:00"),
    ("0001-01-01T00:00:00+14:00", "out of range"),
    ("2026-02-31T00:00:00", "neither an ISO time nor a duration"),
    ("1999-01-01T00:00:00Z", "more than 3650 days back"),
    ("2999-01-01T00:00:00Z", "in the future"),
    ("\u0661\u0662h", "neither an ISO time nor a duration"),
])
def test_reconcile_since_is_checked(db, since, why):
    message = refused("reconcile", "--since", since)

    assert message.startswith("--since: ") and why in message


def test_reconcile_since_in_range_is_utc(db):
    from datetime import UTC

    from execution.management.commands.reconcile import since_arg

    assert since_arg("2026-11-01T00:00:00+14:00").tzinfo is UTC


def test_reconcile_and_recover_check_their_numbers_and_accounts(db):
    assert refused("reconcile", "--settle", "nan") == "--settle: must be a finite number, not nan"
    assert refused("reconcile", "--account", "nope") == "--account: no account named 'nope'"
    assert refused("recover", "--wait", "-1").startswith("--wait: must be at least 0")
    assert refused("recover", "--account", "nope") == "--account: no account named 'nope'"
    assert refused("run_marketdata", "--interval=-1").startswith("--interval: must be at least 0")
    assert refused("run_marketdata", "--interval", "inf") == "--interval: must be a finite number, not inf"


def test_a_control_character_in_a_reason_changes_nothing(db):
    message = refused("kill_switch", "on", "--reason", "drill\x07")

    assert message.startswith("--reason: 'drill\\x07' contains the control character U+0007")
    assert not TradingSwitch.objects.filter(kill_switch=True).exists()


# ---- sync_markets ------------------------------------------------------------------------------------------


def test_sync_markets_exits_2_on_an_unknown_account(db):
    assert refused("sync_markets", "nope") == "accounts: no account named 'nope'"


def test_sync_markets_syncs_the_others_and_exits_2_when_one_venue_fails(venue, db):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    services.account_create(name="main", exchange="binance", base_url=venue.base_url)
    services.account_create(name="gone", exchange="binance", base_url=dead)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("sync_markets", "gone", "main", stdout=out, stderr=err)

    assert failed.value.returncode == 2 and str(failed.value) == "accounts: the catalog of gone was not synced"
    assert out.getvalue().startswith("main: ") and "instruments" in out.getvalue()
    assert err.getvalue().startswith("gone: ")
