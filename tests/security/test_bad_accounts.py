"""One bad account never stops the OMS (issue 19, item 2). Exchange ids and venue URLs are checked by one
function (venues.supported) that the service, the admin form and `create_account` use; an account stored
before those checks (inserted straight into the database here, as legacy data) is skipped by `run_marketdata`,
the workers' start-up sync and beat's tasks, logged, and reported in /healthz (to staff) and the admin."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from accounts import services
from accounts.models import Account, ControlChange, Credential
from exchanges import problems
from infra import pubsub
from infra.errors import InvalidInput
from tests import factories
from tests.subprocess_env import database_url
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
BAD_EXCHANGE = "no such exchange!"


@pytest.fixture(autouse=True)
def no_reported_problems():
    """Reports are keyed by account id, which a new test database reuses."""
    pubsub.client().delete(problems.PROBLEMS_KEY)
    yield
    pubsub.client().delete(problems.PROBLEMS_KEY)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def staff_client(client):
    client.force_login(factories.user_create(username="ops", is_staff=True, superuser=True))
    return client


# ---- refused at the door ------------------------------------------------------------------------------


@pytest.mark.parametrize(("exchange", "base_url", "field"), [
    (BAD_EXCHANGE, "", "exchange"),
    ("binanceX", "", "exchange"),
    ("binance", "http://[::1", "base_url"),
    ("binance", "ftp://127.0.0.1:21", "base_url"),
    ("binance", "http://127.0.0.1:99999", "base_url"),
    ("binance", "http://user:pw@127.0.0.1:8765", "base_url"),
    ("binance", "http://127.0.0.1:8765/api/v3", "base_url"),
])
def test_the_service_refuses_what_the_gateway_cannot_serve(db, exchange, base_url, field):
    with pytest.raises(InvalidInput) as err:
        services.account_create(name="desk", exchange=exchange, base_url=base_url)
    assert err.value.field == field
    assert not Account.objects.exists() and not ControlChange.objects.exists()


def test_create_account_with_an_unknown_exchange_exits_2_naming_the_field_and_creates_nothing(transactional_db):
    done = subprocess.run([sys.executable, "manage.py", "create_account", "desk", "--exchange", BAD_EXCHANGE],
                          cwd=ROOT, env={**__import__("os").environ, "DATABASE_URL": database_url()},
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "--exchange: 'no such exchange!' is not an exchange the gateway supports" in done.stderr
    assert "Traceback" not in done.stderr
    assert not Account.objects.exists() and not ControlChange.objects.exists()


def test_create_account_with_a_broken_url_exits_2_naming_the_field(db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as err:
        call_command("create_account", "desk", "--base-url", "http://[::1")
    assert err.value.returncode == 2 and str(err.value).startswith("--base-url: ")
    assert not Account.objects.exists()


def test_the_admin_form_refuses_an_unknown_exchange(db, client):
    response = staff_client(client).post("/admin/accounts/account/add/", {
        "name": "desk", "exchange": BAD_EXCHANGE, "base_url": ""})

    assert response.status_code == 200
    assert "is not an exchange the gateway supports" in response.content.decode()
    assert not Account.objects.exists()


# ---- legacy rows do not stop shared processes ---------------------------------------------------------


def legacy_accounts(dead_url: str) -> dict[str, Account]:
    """Rows written before the checks existed: straight into the table, with credentials like a real account."""
    rows = {
        "legacy-id": Account.objects.create(name="legacy-id", exchange=BAD_EXCHANGE),
        "legacy-url": Account.objects.create(name="legacy-url", exchange="binance", base_url="http://[::1"),
        "legacy-dead": Account.objects.create(name="legacy-dead", exchange="binance", base_url=dead_url),
    }
    for account in rows.values():
        services.credential_set(account=account.name, api_key="k-" + account.name, secret="s")
    return rows


@pytest.mark.e2e
def test_run_marketdata_skips_bad_accounts_publishes_the_good_one_and_reports_them(
        account_on_venue, oms_processes, client):
    legacy = legacy_accounts(f"http://127.0.0.1:{free_port()}")
    redis = pubsub.client()
    redis.delete(pubsub.LATEST_PRICES_KEY)

    feed = oms_processes.manage("run_marketdata", "--interval", "0.2")

    wait_until(lambda: redis.hget(pubsub.LATEST_PRICES_KEY, "binance:spot:BTCUSDT"), timeout=60,
               what=f"a price of the good account published (log {feed.log})", tick=feed.check_alive)
    wait_until(lambda: "legacy-dead" in problems.current(), timeout=30, what="the unreachable venue reported",
               tick=feed.check_alive)
    feed.check_alive()
    log = feed.log_text()
    assert "account legacy-id skipped by run_marketdata: exchange: " in log
    assert "account legacy-url skipped by run_marketdata: base_url: " in log
    assert "Traceback" not in log

    body = staff_client(client).get("/healthz").json()
    assert body["status"] == "degraded"
    assert set(body["accounts"]) == set(legacy)
    assert "is not an exchange the gateway supports" in body["accounts"]["legacy-id"][0]["error"]
    assert {p["where"] for p in body["accounts"]["legacy-dead"]} == {"run_marketdata"}
    page = client.get(f"/admin/accounts/account/{legacy['legacy-url'].pk}/change/").content.decode()
    assert "is not a venue URL" in page
    listing = client.get("/admin/accounts/account/").content.decode()
    assert "prices unavailable" in listing  # legacy-dead's report, on the list too
    assert feed.terminate() == 0


def test_anonymous_healthz_says_only_up(db, client):
    Account.objects.create(name="legacy-id", exchange=BAD_EXCHANGE)

    response = client.get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "up"}


def test_worker_start_up_sync_and_beat_tasks_skip_and_report_a_bad_account(db, monkeypatch):
    from execution import startup, tasks
    from oms_project.celery import app

    legacy_accounts("http://127.0.0.1:9")
    good = factories.account_create(name="good")
    Credential.objects.create(account=good, api_key_encrypted="x", secret_encrypted="x")
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args: sent.append((name, args)))

    startup.startup_sync()
    for account in Account.objects.filter(name__in=["legacy-id", "legacy-url"]):
        tasks.account_sync.apply(args=[account.pk]).get()  # skipped, not raised
        tasks.markets_sync.apply(args=[account.pk]).get()

    assert sorted(args[0] for _, args in sent) == sorted(
        Account.objects.filter(name__in=["good", "legacy-dead"]).values_list("pk", flat=True))
    reported = problems.current()
    assert {p["where"] for p in reported["legacy-id"]} == {
        "configuration", "worker start-up sync", "orders.tasks.account_sync", "orders.tasks.markets_sync"}


def test_a_staff_token_and_the_monitoring_token_see_the_detail(db, client, settings):
    settings.OMS_METRICS_TOKEN = "scrape-me"
    staff = factories.user_create(username="ops", is_staff=True)
    staff.user_permissions.set(Permission.objects.none())
    token = services.api_token_create(user=staff)
    plain = services.api_token_create(user=factories.user_create(username="bot"))

    def body(header):
        return json.loads(client.get("/healthz", HTTP_AUTHORIZATION=header).content)

    assert body(f"Bearer {token}")["status"] == "ok"
    assert body("Bearer scrape-me")["database"] == {"ok": True}
    assert body(f"Bearer {plain}") == {"status": "up"}
    assert body("Bearer wrong") == {"status": "up"}
