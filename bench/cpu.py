"""CPU time per order of each OMS process (the gRPC server, the worker), and where inside each it goes.

Process CPU (user + system, psutil) is read before and after a run of orders; what the process spends idle
(measured just before, over IDLE_SECONDS) is taken off, and the rest is divided by the orders. The stages come
from the processes themselves (infra.cpu_stages, switched on for the bench stack by OMS_CPU_STAGES): CPU charged
to validate, write, hand off, ... in their threads; "other" is the process's CPU outside every stage (grpc's
C-core threads, the event loops, the pub/sub and lane polling). Unlike latency, these figures hardly move with
the machine's load."""
from __future__ import annotations

import time

import psutil

IDLE_SECONDS = 1.0
QUIET_CPU_SHARE = 0.05  # a process busier than this is still working off earlier requests
QUIET_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 0.6  # the processes' stage totals are written every 0.2 s (infra.cpu_stages.FLUSH_SECONDS)


def _redis():
    from infra import pubsub

    return pubsub.client()


class Snapshot:
    def __init__(self, children):
        from infra import cpu_stages

        self.at = time.monotonic()
        self.cpu_s: dict[str, float] = {}
        self.stages: dict[str, dict[str, tuple[int, int]]] = {}
        for child in children:
            times = psutil.Process(child.pid).cpu_times()
            self.cpu_s[child.name] = times.user + times.system
            self.stages[child.name] = cpu_stages.read(_redis(), child.pid)[1]


class Meter:
    """`with Meter(stack) as m: ...run orders...` then `m.per_order(n)`."""

    def __init__(self, stack):
        self.children = [stack.grpc, stack.worker]

    def __enter__(self) -> Meter:
        self._wait_quiet()
        idle_from = Snapshot(self.children)
        time.sleep(IDLE_SECONDS)
        self.before = Snapshot(self.children)
        self.idle_per_s = {name: (self.before.cpu_s[name] - idle_from.cpu_s[name]) / (self.before.at - idle_from.at)
                           for name in self.before.cpu_s}
        return self

    def _wait_quiet(self) -> None:
        """Until what came before is done: a baseline run on the same venue key leaves the worker hearing its
        orders' stream events for seconds afterwards, which must count neither as idle nor as the OMS's orders;
        the OMS's own orders leave it work too (their stream events), which counts as theirs."""
        deadline = time.monotonic() + QUIET_TIMEOUT_SECONDS
        last = Snapshot(self.children)
        while time.monotonic() < deadline:
            time.sleep(SETTLE_SECONDS)
            now = Snapshot(self.children)
            if all(now.cpu_s[name] - last.cpu_s[name] <= QUIET_CPU_SHARE * (now.at - last.at) for name in now.cpu_s):
                return
            last = now

    def __exit__(self, *exc) -> None:
        self._wait_quiet()  # the orders' trailing work (stream events, publishes) is done and its stages written
        self.after = Snapshot(self.children)

    def per_order(self, orders: int) -> dict:
        """{"processes": {name: {"ms": .., "stages": {stage: ms}, "idle_ms_per_s": ..}}, "total_ms": ..}, per order."""
        out: dict = {"orders": orders, "processes": {}}
        if not orders:
            return out
        seconds = self.after.at - self.before.at
        total = 0.0
        for name, after_s in self.after.cpu_s.items():
            idle = self.idle_per_s[name]
            cpu_ms = max(0.0, (after_s - self.before.cpu_s[name] - idle * seconds)) * 1000 / orders
            stages = {}
            for stage, (ns, _n) in self.after.stages[name].items():
                spent = ns - self.before.stages[name].get(stage, (0, 0))[0]
                if spent > 0:
                    stages[stage] = round(spent / 1e6 / orders, 3)
            stages = dict(sorted(stages.items(), key=lambda kv: -kv[1]))
            stages["other"] = round(cpu_ms - sum(stages.values()), 3)
            out["processes"][name] = {"ms": round(cpu_ms, 3), "stages": stages, "idle_ms_per_s": round(idle * 1000, 2)}
            total += cpu_ms
        out["total_ms"] = round(total, 3)
        return out


def summary(cpu: dict) -> str:
    """"grpc 4.1 + worker 6.2 = 10.3 ms" of one per_order result."""
    parts = " + ".join(f"{name} {p['ms']:.2f}" for name, p in cpu["processes"].items())
    return f"{parts} = {cpu['total_ms']:.2f} ms"
