"""The deployment files are consistent with the project: docker-compose.yml parses, every service's
command exists here (manage.py commands, the Celery app and its queues, the WSGI app, the probes),
env variables it interpolates are documented in .env.example, and beat runs exactly once."""
import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OMS_SERVICES = sorted(name for name, svc in SERVICES.items() if svc.get("image") == "oms:latest")


def argv(service: dict) -> list[str]:
    cmd = service["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def check_probe(test: list[str]) -> None:
    """A health check command either probes through our probe module or a celery ping."""
    if test[0] == "CMD-SHELL":
        words = shlex.split(test[1])
        if words[0] == "celery":
            check_celery(words)
        return
    words = test[1:]
    if words[:3] == ["python", "-m", "infra.probe"]:
        from infra import probe

        assert words[3] in ("http", "grpc") and len(words) == 5, words
        assert callable(probe.main)


def check_celery(words: list[str]) -> None:
    assert words[1:3] == ["-A", "oms_project"], words
    app = importlib.import_module("oms_project.celery").app
    assert app.main == "oms_project"
    if "-Q" in words:
        queues = set(words[words.index("-Q") + 1].split(","))
        routed = {route["queue"] for route in app.conf.task_routes.values()} | {app.conf.task_default_queue}
        assert queues <= routed, f"queues {queues - routed} receive no tasks"


def test_expected_topology():
    assert {"postgres", "redis", "migrate", "web", "grpc", "worker-orders", "worker-sync", "beat", "marketdata",
            "venue"} <= set(SERVICES)
    assert SERVICES["venue"]["profiles"] == ["demo"]
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert sum("beat" in argv(SERVICES[name]) for name in OMS_SERVICES) == 1, "exactly one beat"
    for name in ("postgres", "redis"):
        assert SERVICES[name]["volumes"] and SERVICES[name]["healthcheck"]


@pytest.mark.parametrize("name", OMS_SERVICES)
def test_service_command_exists(name):
    service = SERVICES[name]
    words = argv(service)
    if words[:2] == ["python", "manage.py"]:
        assert words[2] in get_commands(), f"{name}: manage.py {words[2]} does not exist"
    elif words[0] == "celery":
        check_celery(words)
    elif words[:3] == ["python", "-m", "uvicorn"]:  # the events process: an ASGI app that must import
        module, _, attr = words[3].partition(":")
        assert getattr(importlib.import_module(module), attr)
    elif words[0] == "gunicorn":
        module, _, attr = words[-1].partition(":")
        assert getattr(importlib.import_module(module), attr)
        conf = words[words.index("-c") + 1]
        assert (ROOT / conf).is_file()
    else:
        pytest.fail(f"{name}: unknown command {words}")
    if "healthcheck" in service:
        check_probe(service["healthcheck"]["test"])
    assert service.get("restart") in ("unless-stopped", "always", "no")
    assert service.get("env_file") == ".env"


def test_dependencies_name_real_services():
    for name, service in SERVICES.items():
        for dep in service.get("depends_on", {}):
            assert dep in SERVICES, f"{name} depends on unknown service {dep}"


def test_interpolated_variables_are_documented():
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))
    documented = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
                  if line and not line.startswith("#")}
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


def test_dockerfile_installs_requirements_and_runs_the_web_app():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "oms_project.wsgi:application" in dockerfile


def test_files_the_compose_file_names_exist():
    """Its commands and comments name files of this repository (a schedules.py that never existed, once)."""
    text = (ROOT / "docker-compose.yml").read_text()
    named = set(re.findall(r"(?<![\w/.:-])((?:[\w.-]+/)*[\w-]+\.(?:py|yml|yaml|toml|txt|example|md))\b", text))
    assert "oms_project/gunicorn_conf.py" in named
    missing = sorted(name for name in named if not (ROOT / name).is_file())
    assert not missing, f"docker-compose.yml names files that do not exist: {missing}"


def test_the_beat_schedules_are_where_the_compose_file_says():
    from django.conf import settings

    assert "CELERY_BEAT_SCHEDULE" in (ROOT / "docker-compose.yml").read_text()
    assert settings.CELERY_BEAT_SCHEDULE and settings.CELERY_BEAT_SCHEDULER.startswith("django_celery_beat.")
