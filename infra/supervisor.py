"""A small process supervisor for `manage.py up`: one process group per child, output prefixed with
the child's name, bounded restarts, and a stop that leaves nothing behind."""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if `up` itself is killed, so even `kill -9 up` leaves no orphan server."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def port_open(addr: str) -> bool:
    host, _, port = addr.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Running:
    name: str
    argv: list[str]
    env: dict[str, str]
    listens: str = ""
    proc: subprocess.Popen | None = None
    deaths: deque = field(default_factory=deque)
    reader: threading.Thread | None = None


class ChildFailed(RuntimeError):
    """A child keeps dying: the whole tree comes down."""


class Supervisor:
    def __init__(self, *, out=sys.stdout, max_restarts: int = 3, window_s: float = 60.0, grace_s: float = 10.0):
        self.out = out
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.grace_s = grace_s
        self.children: list[Running] = []
        self._write_lock = threading.Lock()
        self.width = 8

    def say(self, name: str, line: str) -> None:
        with self._write_lock:
            self.out.write(f"{name:<{self.width}}| {line.rstrip()}\n")
            self.out.flush()

    def add(self, name: str, argv: list[str], env: dict[str, str], listens: str = "") -> None:
        self.children.append(Running(name=name, argv=argv, env=env, listens=listens))
        self.width = max(self.width, len(name) + 1)

    def _pump(self, child: Running, proc: subprocess.Popen) -> None:
        for raw in iter(proc.stdout.readline, b""):
            self.say(child.name, raw.decode(errors="replace"))
        proc.stdout.close()

    def _spawn(self, child: Running) -> None:
        child.proc = subprocess.Popen(child.argv, env=child.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        child.reader = threading.Thread(target=self._pump, args=(child, child.proc), daemon=True,
                                        name=f"out-{child.name}")
        child.reader.start()

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def check(self) -> None:
        """Restart children that died; raise ChildFailed when one died too often."""
        for child in self.children:
            code = child.proc.poll()
            if code is None:
                continue
            self._kill_group(child.proc, signal.SIGKILL)  # leftovers of the dead child (e.g. its workers)
            now = time.monotonic()
            child.deaths.append(now)
            while child.deaths and now - child.deaths[0] > self.window_s:
                child.deaths.popleft()
            if len(child.deaths) > self.max_restarts:
                raise ChildFailed(f"{child.name} exited with code {code} {len(child.deaths)} times within "
                                  f"{self.window_s:.0f}s; stopping everything (its output is above)")
            self.say("up", f"{child.name} exited with code {code}; restarting "
                           f"({len(child.deaths)}/{self.max_restarts} within {self.window_s:.0f}s)")
            self._spawn(child)

    def wait_ready(self, *, timeout: float, stopping: threading.Event) -> bool:
        """Wait until every child with a port accepts connections (restarting any that die meanwhile)."""
        deadline = time.monotonic() + timeout
        waiting = [c for c in self.children if c.listens]
        while waiting:
            if stopping.is_set():
                return False
            self.check()
            waiting = [c for c in waiting if not port_open(c.listens)]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(f"{c.name} ({c.listens})" for c in waiting)
                raise ChildFailed(f"not listening after {timeout:.0f}s: {names}; stopping everything")
            stopping.wait(0.2)
        return True

    def wait_for(self, condition: Callable[[], object], *, deadline: float, stopping: threading.Event,
                 what: str) -> bool:
        """Wait until `condition()` holds (restarting children that die meanwhile); False when stopping."""
        while not condition():
            if stopping.is_set():
                return False
            self.check()
            if time.monotonic() > deadline:
                raise ChildFailed(f"{what} did not happen in time (see the output above); stopping everything")
            stopping.wait(0.2)
        return not stopping.is_set()

    def run_until(self, stopping: threading.Event) -> None:
        while not stopping.wait(0.5):
            self.check()

    @staticmethod
    def _kill_group(proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self) -> None:
        """SIGTERM every child's process group, wait for the grace period, SIGKILL what is left."""
        started = [c for c in self.children if c.proc is not None]
        for child in started:
            self._kill_group(child.proc, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        for child in started:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("up", f"{child.name} did not stop within {self.grace_s:.0f}s; killing it")
        for child in started:
            self._kill_group(child.proc, signal.SIGKILL)  # stragglers in the group, even if the leader exited
            try:
                child.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.say("up", f"{child.name} (pid {child.proc.pid}) could not be killed")
            if child.reader is not None:
                child.reader.join(timeout=2)
