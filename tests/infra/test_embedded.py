"""Isolation of the embedded servers and of a test run's Redis keys (issue 23): two checkouts on one machine, or
`make test` beside `make run`, share no server, no port and no key."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil
import redis
from django.conf import settings

from infra import embedded
from oms_project.celery import app
from orders import handoff

ROOT = Path(__file__).resolve().parents[2]


def _redis_pid(var_dir: Path) -> int:
    return int((var_dir / "redis" / "redis.pid").read_text())


def _stop_redis(var_dir: Path) -> None:
    pid = _redis_pid(var_dir)
    embedded.stop_redis(var_dir)
    psutil.wait_procs([psutil.Process(pid)], timeout=10)


def test_two_checkouts_get_their_own_redis_ports_kept_under_var(tmp_path, monkeypatch):
    # given two checkouts' var dirs and no fixed port
    monkeypatch.delenv("OMS_EMBEDDED_REDIS_PORT", raising=False)
    one, two = tmp_path / "one" / "var", tmp_path / "two" / "var"
    try:
        # when each starts its embedded Redis
        url_one, url_two = embedded.redis_url(one), embedded.redis_url(two)
        # then they listen on different ports, neither the old fixed 6389, each kept under its var dir
        port_one, port_two = urlsplit(url_one).port, urlsplit(url_two).port
        assert port_one != port_two and 6389 not in (port_one, port_two)
        assert (embedded.redis_port(one), embedded.redis_port(two)) == (port_one, port_two)
        # and each is a server of its own: a key written through one is not seen through the other
        redis.Redis.from_url(url_one).set("isolation-probe", "one")
        assert redis.Redis.from_url(url_two).get("isolation-probe") is None
        # when the first checkout starts again while its server runs, it reuses that server
        pid = _redis_pid(one)
        assert embedded.redis_url(one) == url_one and _redis_pid(one) == pid
        # and after a stop it comes back on the port it kept
        _stop_redis(one)
        assert embedded.redis_url(one) == url_one and _redis_pid(one) != pid
        # and neither start was taken for the servers of this test run (which it stops at its end)
        assert embedded.VAR_DIR not in (one, two)
    finally:
        for var_dir in (one, two):
            if (var_dir / "redis" / "redis.pid").exists():
                _stop_redis(var_dir)


def test_a_remembered_port_taken_by_another_server_gives_way_to_a_free_one(tmp_path, monkeypatch):
    # given a checkout whose remembered port another program now listens on
    monkeypatch.delenv("OMS_EMBEDDED_REDIS_PORT", raising=False)
    var_dir = tmp_path / "var"
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        (var_dir / "redis").mkdir(parents=True)
        (var_dir / "redis" / "port").write_text(f"{taken}\n")
        try:
            # when it starts its embedded Redis
            url = embedded.redis_url(var_dir)
            # then it runs on another free port, now the one kept
            assert urlsplit(url).port != taken and embedded.redis_port(var_dir) == urlsplit(url).port
            assert redis.Redis.from_url(url).ping()
        finally:
            if (var_dir / "redis" / "redis.pid").exists():
                _stop_redis(var_dir)


def test_two_checkouts_get_their_own_postgres_on_a_socket_in_their_data_dir():
    # given two checkouts' var dirs (pgserver runs the server as its own user: outside pytest's private tmp)
    roots = [Path(tempfile.mkdtemp(prefix="oms-test-embedded-")) for _ in range(2)]
    for root in roots:
        root.chmod(0o755)
    try:
        # when each starts its embedded PostgreSQL
        urls = [embedded.postgres_url(root / "var") for root in roots]
        # then each listens only on a unix socket inside its own data directory: no TCP port to share
        hosts = [parse_qs(urlsplit(url).query)["host"][0] for url in urls]
        assert hosts[0] != hosts[1]
        for root, host in zip(roots, hosts, strict=True):
            assert Path(host).resolve().is_relative_to(root.resolve()), host
            assert (Path(host) / ".s.PGSQL.5432").is_socket()
            listening = [c for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN
                         and c.pid == int((root / "var" / "pg" / "postmaster.pid").read_text().split()[0])]
            assert listening == []
    finally:
        for root in roots:
            embedded.stop_postgres(root / "var" / "pg")
            shutil.rmtree(root, ignore_errors=True)


PREFIX_PROBE = [sys.executable, "-c", "import os, tests.isolation; print(os.environ['OMS_PUBSUB_PREFIX'])"]
RUN_ENV = ("OMS_PUBSUB_PREFIX", "OMS_TEST_OWN_PREFIX", "PYTEST_XDIST_WORKER")  # what this run (or worker) set


def test_each_test_run_has_a_key_prefix_of_its_own():
    # given a run started without OMS_PUBSUB_PREFIX (the plugin tests/isolation.py is what pytest loads first)
    env = {k: v for k, v in os.environ.items() if k not in RUN_ENV}
    # when two runs start
    prefixes = [subprocess.run(PREFIX_PROBE, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
                for _ in range(2)]
    # then each has its own prefix, and neither is the one `make run` uses
    assert prefixes[0] != prefixes[1] and "oms" not in prefixes
    # and a prefix given to the run is kept
    given = subprocess.run(PREFIX_PROBE, cwd=ROOT, env={**env, "OMS_PUBSUB_PREFIX": "given"}, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert given == "given"


def test_each_xdist_worker_of_a_run_has_a_key_prefix_of_its_own():
    # given a run that chose its prefix, as its xdist workers inherit it
    env = {k: v for k, v in os.environ.items() if k not in RUN_ENV}
    run = subprocess.run([sys.executable, "-c", "import os, tests.isolation; print(os.environ['OMS_TEST_OWN_PREFIX'])"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    inherited = {**env, "OMS_PUBSUB_PREFIX": run, "OMS_TEST_OWN_PREFIX": run}
    # when two workers start
    workers = [subprocess.run(PREFIX_PROBE, cwd=ROOT, env={**inherited, "PYTEST_XDIST_WORKER": worker},
                              capture_output=True, text=True, check=True).stdout.strip() for worker in ("gw0", "gw1")]
    # then each has a prefix of its own under the run's (no Celery queue or lane shared between them)
    assert workers == [f"{run}-gw0", f"{run}-gw1"]
    # and a worker of a run whose prefix was given gets it with its id too
    given = subprocess.run(PREFIX_PROBE, cwd=ROOT, env={**env, "OMS_PUBSUB_PREFIX": "given", "PYTEST_XDIST_WORKER": "gw0"},
                           capture_output=True, text=True, check=True).stdout.strip()
    assert given == "given-gw0"


def test_this_runs_redis_keys_lane_and_celery_queues_carry_its_prefix():
    # given this run's prefix, which is not the default one
    prefix = settings.OMS_PUBSUB_PREFIX
    assert prefix != "oms"
    # then the order lane is under it (a test worker never pops a development system's lane items)
    assert handoff.lane_key().startswith(f"{prefix}:")
    # when a task is sent to a queue
    queue = f"isolation-probe-{os.getpid()}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        app.send_task("tests.isolation.nothing", queue=queue)
        # then the broker's queue is under the prefix too, not where another system's workers read
        assert client.llen(f"{prefix}:{queue}") == 1
        assert client.llen(queue) == 0
    finally:
        client.delete(*client.scan_iter(match=f"{prefix}:*{queue}"))  # the queue and its binding
