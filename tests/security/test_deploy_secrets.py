"""What a deployment hands to whom (issue 19, hardening): docker-compose.yml gives the Django secret key only to web
and the Fernet keys only to the workers (as files, never through .env, which every OMS container reads), Redis
needs a password, /metrics is not served on the public web port unless configured, and the demo venue's control
token has no default. Settings read NAME_FILE for each secret; only the web tier insists on the Django key."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ENV_EXAMPLE = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
PRODUCTION = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
              "REDIS_URL": "redis://127.0.0.1:1/0", "OMS_ALLOWED_HOSTS": "oms.example.com"}


def secrets_of(name: str) -> set[str]:
    return set(SERVICES[name].get("secrets", []))


def environment_of(name: str) -> dict:
    return SERVICES[name].get("environment") or {}


def test_each_key_reaches_only_the_services_that_use_it():
    holders = {name: secrets_of(name) for name in SERVICES if secrets_of(name)}
    assert holders == {"web": {"django_secret_key"}, "events": {"django_secret_key"},  # both sign or read sessions
                       "worker-orders": {"fernet_keys"}, "worker-sync": {"fernet_keys"}}
    assert environment_of("web")["DJANGO_SECRET_KEY_FILE"] == "/run/secrets/django_secret_key"
    for worker in ("worker-orders", "worker-sync"):
        assert environment_of(worker)["OMS_FERNET_KEYS_FILE"] == "/run/secrets/fernet_keys"
    for name in SERVICES:
        assert not {"DJANGO_SECRET_KEY", "OMS_FERNET_KEYS"} & set(environment_of(name)), name
    assert not {"DJANGO_SECRET_KEY", "OMS_FERNET_KEYS"} & set(ENV_EXAMPLE), ".env reaches every container"
    assert {s["file"] for s in COMPOSE["secrets"].values()} == {"./secrets/django_secret_key", "./secrets/fernet_keys"}
    assert "secrets/" in (ROOT / ".gitignore").read_text().split()
    assert "secrets" in (ROOT / ".dockerignore").read_text().split()  # never baked into the image


def test_redis_requires_a_password_everyone_uses():
    redis = SERVICES["redis"]
    assert redis["command"][-2:] == ["--requirepass", "${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}"]
    url = COMPOSE["x-oms"]["environment"]["REDIS_URL"]
    assert url.startswith("redis://:${REDIS_PASSWORD:?") and url.endswith("@redis:6379/0")
    assert "REDIS_PASSWORD" in ENV_EXAMPLE


def test_metrics_ports_are_private_and_the_venue_token_has_no_default():
    published = {name: [str(p) for p in svc.get("ports", [])] for name, svc in SERVICES.items()}
    assert not any("9100" in port for ports in published.values() for port in ports)
    assert ENV_EXAMPLE["OMS_VENUE_CONTROL_TOKEN"] == ""
    assert ENV_EXAMPLE["OMS_METRICS_TOKEN"] == ""
    assert "OMS_METRICS_OPEN" not in ENV_EXAMPLE


def test_metrics_are_not_served_on_the_web_port_unless_configured(client, db, settings):
    settings.OMS_METRICS_TOKEN, settings.OMS_METRICS_OPEN = "", False
    assert client.get("/metrics").status_code == 404
    settings.OMS_METRICS_OPEN = True
    assert client.get("/metrics").status_code == 200


def run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


SETUP = "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'oms_project.settings'; django.setup(); "


def test_processes_other_than_web_start_without_the_django_key_and_web_refuses():
    worker = run(SETUP + "from django.conf import settings; print(repr(settings.OMS_FERNET_KEYS))", PRODUCTION)
    assert worker.returncode == 0, worker.stderr
    for entry in ("oms_project.wsgi", "oms_project.asgi"):
        web = run(f"import {entry}", PRODUCTION)
        assert web.returncode != 0, entry
        assert "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is required by the web tier" in web.stderr, entry


def test_secrets_are_read_from_files(tmp_path):
    (tmp_path / "key").write_text("k" * 60 + "\n")
    (tmp_path / "fernet").write_text("r0qAvcnBq8bM3VQ0nLwVQxkq0T5W8Y0dQb7iJbYwGWc=\n")
    env = {**PRODUCTION, "DJANGO_SECRET_KEY_FILE": str(tmp_path / "key"), "OMS_FERNET_KEYS_FILE": str(tmp_path / "fernet")}

    done = run(SETUP + "import oms_project.wsgi; from django.conf import settings; "
                       "print(settings.SECRET_KEY == 'k' * 60, settings.OMS_FERNET_KEYS)", env)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "['r0qAvcnBq8bM3VQ0nLwVQxkq0T5W8Y0dQb7iJbYwGWc=']"]
    missing = run(SETUP, {**PRODUCTION, "OMS_FERNET_KEYS_FILE": str(tmp_path / "nope")})
    assert missing.returncode != 0 and "OMS_FERNET_KEYS_FILE" in missing.stderr


def test_the_web_tier_without_fernet_keys_refuses_credentials_with_a_reason(db, settings):
    from accounts import services
    from infra.errors import FailedPrecondition

    services.account_create(name="main", exchange="binance")
    settings.OMS_FERNET_KEYS = []
    with pytest.raises(FailedPrecondition, match="set credentials where the workers run"):
        services.credential_set(account="main", api_key="key-1234", secret="secret")
