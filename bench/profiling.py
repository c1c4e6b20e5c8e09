"""py-spy samples (collapsed stacks, for flamegraph.pl or speedscope) of stack children while a block runs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


class profiling:
    """`with profiling((stack.grpc, stack.worker), enabled, tag):` writes var/bench/profile-<child>-<tag>.txt."""

    def __init__(self, children, enabled: bool, tag: str, *, gil_only: bool = False):
        self.children, self.enabled, self.tag, self.procs = children, enabled, tag.strip("@"), []
        # A thousand mostly idle stream threads: sample only the GIL holder, without pausing the process.
        self.mode = ["--gil", "--nonblocking"] if gil_only else ["--threads", "--idle"]

    def __enter__(self):
        if self.enabled:
            from bench.stack import LOG_DIR

            for child in self.children:
                out = LOG_DIR / f"profile-{child.name}-{self.tag}.txt"
                self.procs.append(subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                                                    str(child.pid), "--output", str(out), "--format", "raw",
                                                    "--rate", "250", *self.mode],
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.send_signal(2)  # py-spy writes its flame graph on SIGINT
            proc.wait(60)
