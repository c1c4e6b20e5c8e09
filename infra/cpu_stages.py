"""CPU time per stage of the order hot path, measured inside each process, for the benchmark (bench/).

    with cpu_stages.stage("write"):
        ...

Off unless OMS_CPU_STAGES is set: `stage()` then returns one shared do-nothing context manager, so the hot
path pays a function call and a `with` per stage. On, each thread's CPU (`time.thread_time`) is charged to the
innermost open stage only, so nested stages never count twice and a process's stages add up to the CPU its
threads spent inside them (grpc's C-core threads, the event loops and idle polling are outside every stage).
A daemon thread writes the totals since the process started to the Redis hash
<OMS_PUBSUB_PREFIX>:cpu-stages:<pid> every FLUSH_SECONDS: fields "<stage>:ns" (CPU nanoseconds), "<stage>:n"
(times entered) and "flushed_ns" (time.time_ns of the write), which the bench reads before and after a run."""
from __future__ import annotations

import functools
import logging
import os
import threading
import time

from django.conf import settings

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.2
KEY_TTL_SECONDS = 86400

ENABLED: bool = bool(getattr(settings, "OMS_CPU_STAGES", False))


def key(pid: int) -> str:
    return f"{settings.OMS_PUBSUB_PREFIX}:cpu-stages:{pid}"


class _Off:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        return None


_OFF = _Off()


class _Totals:
    """Per-process totals: stage -> [ns, n], guarded by one lock (taken twice per stage, uncontended mostly)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_stage: dict[str, list[int]] = {}
        self.changed = False
        self.flusher: threading.Thread | None = None
        self.pid = 0

    def charge(self, name: str, ns: int, entered: int) -> None:
        with self.lock:
            row = self.by_stage.get(name)
            if row is None:
                row = self.by_stage[name] = [0, 0]
            row[0] += ns
            row[1] += entered
            self.changed = True
        if self.flusher is None or self.pid != os.getpid():
            self._start_flusher()

    def _start_flusher(self) -> None:
        with self.lock:
            if self.flusher is not None and self.pid == os.getpid():
                return
            self.pid = os.getpid()  # a forked child starts its own totals and flusher
            if self.flusher is not None:
                self.by_stage = {}
            self.flusher = threading.Thread(target=self._flush_forever, name="oms-cpu-stages", daemon=True)
            self.flusher.start()

    def snapshot(self) -> dict[str, list[int]]:
        with self.lock:
            self.changed = False
            return {name: list(row) for name, row in self.by_stage.items()}

    def _flush_forever(self) -> None:
        from infra import pubsub

        while True:
            time.sleep(FLUSH_SECONDS)
            if not self.changed:
                continue
            fields: dict[str, int] = {"flushed_ns": time.time_ns()}
            for name, (ns, n) in self.snapshot().items():
                fields[f"{name}:ns"], fields[f"{name}:n"] = ns, n
            try:
                pipe = pubsub.client().pipeline(transaction=False)
                pipe.hset(key(os.getpid()), mapping=fields)
                pipe.expire(key(os.getpid()), KEY_TTL_SECONDS)
                pipe.execute()
            except Exception as exc:  # noqa: BLE001 - measuring must never break the process measured
                log.warning("cpu stages not written: %s", exc)


_totals = _Totals()
_local = threading.local()


class _Stage:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> None:
        now = time.thread_time_ns()
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        elif stack:  # the enclosing stage stops counting while this one runs
            _totals.charge(stack[-1], now - _local.mark, 0)
        stack.append(self.name)
        _local.mark = now

    def __exit__(self, *exc) -> None:
        now = time.thread_time_ns()
        _totals.charge(_local.stack.pop(), now - _local.mark, 1)
        _local.mark = now


def stage(name: str) -> _Stage | _Off:
    """A context manager charging this thread's CPU inside it to `name` (nothing at all when off)."""
    return _Stage(name) if ENABLED else _OFF


def staged(name: str):
    """`stage(name)` around every call of the decorated function."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with stage(name):
                return fn(*args, **kwargs)
        return wrapper
    return decorate


def read(redis_client, pid: int) -> tuple[int, dict[str, tuple[int, int]]]:
    """(flushed_ns, {stage: (ns, n)}) as the process `pid` last wrote them (0, {} when it wrote nothing)."""
    raw = {k.decode(): int(v) for k, v in redis_client.hgetall(key(pid)).items()}
    stages: dict[str, tuple[int, int]] = {}
    for field, value in raw.items():
        if field.endswith(":ns"):
            name = field[:-3]
            stages[name] = (value, raw.get(f"{name}:n", 0))
    return raw.get("flushed_ns", 0), stages
