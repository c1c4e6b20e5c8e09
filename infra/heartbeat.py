"""Which OMS processes are alive, for the admin's overview: every long-running process (worker, beat, gRPC server,
market data) writes a heartbeat into one Redis hash every INTERVAL seconds from a daemon thread, and removes it when
it stops cleanly. A process whose last heartbeat is older than STALE_AFTER is shown as not reporting; entries not
seen for FORGET_AFTER are dropped. Reporting never raises (Redis away: logged once)."""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time

from celery import bootsteps
from django.conf import settings

from infra import pubsub

log = logging.getLogger(__name__)

INTERVAL = 5.0
STALE_AFTER = 3 * INTERVAL
FORGET_AFTER = 86400.0
PROCESSES = ("worker", "beat", "grpc", "marketdata")


def _key() -> str:
    return f"{settings.OMS_PUBSUB_PREFIX}:heartbeats"


def _field(process: str) -> str:
    return f"{process}:{socket.gethostname()}:{os.getpid()}"


def report(process: str, started: float, **detail) -> bool:
    entry = {"process": process, "host": socket.gethostname(), "pid": os.getpid(), "at": time.time(),
             "started": started, **detail}
    try:
        pubsub.client().hset(_key(), _field(process), json.dumps(entry))
        return True
    except Exception as exc:  # noqa: BLE001 - a heartbeat must never take its process down
        log.warning("heartbeat of %s not written: %s", process, exc)
        return False


def forget(process: str) -> None:
    try:
        pubsub.client().hdel(_key(), _field(process))
    except Exception as exc:  # noqa: BLE001
        log.warning("heartbeat of %s not removed: %s", process, exc)


def current(now: float | None = None) -> dict[str, list[dict]]:
    """process name -> its instances (host, pid, at, age, alive), newest first; every name of PROCESSES present."""
    now = time.time() if now is None else now
    out: dict[str, list[dict]] = {name: [] for name in PROCESSES}
    client = pubsub.client()
    for field, raw in client.hgetall(_key()).items():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        entry["age"] = max(0.0, now - float(entry.get("at", 0)))
        if entry["age"] > FORGET_AFTER:
            client.hdel(_key(), field)
            continue
        entry["alive"] = entry["age"] <= STALE_AFTER
        out.setdefault(entry.get("process", "?"), []).append(entry)
    for entries in out.values():
        entries.sort(key=lambda e: e["age"])
    return out


class Heartbeat:
    """A daemon thread reporting `process` every `interval` seconds until stop()."""

    def __init__(self, process: str, interval: float = INTERVAL):
        self.process = process
        self.interval = interval
        self.started = time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while True:
            report(self.process, self.started)
            if self._stop.wait(self.interval):
                return

    def start(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.process}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 1)
        forget(self.process)


class WorkerHeartbeatStep(bootsteps.StartStopStep):
    """A Celery worker's heartbeat (oms_project/celery.py adds it to every worker)."""

    def create(self, worker) -> Heartbeat:
        return Heartbeat("worker")  # StartStopStep calls its start() and stop() with the worker's
