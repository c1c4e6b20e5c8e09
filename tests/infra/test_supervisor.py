"""The supervisor with real child processes: restarts are bounded and a stop leaves nothing behind."""
import io
import sys
import threading

import psutil
import pytest

from infra.supervisor import ChildFailed, Supervisor
from tests.waiting import wait_until


def test_a_child_that_keeps_dying_brings_the_tree_down():
    # given a child that exits at once, and a healthy sibling
    out = io.StringIO()
    sup = Supervisor(out=out, max_restarts=2, window_s=60, grace_s=2)
    sup.add("flaky", [sys.executable, "-c", "import sys; print('bye'); sys.exit(3)"], env={})
    sup.add("steady", [sys.executable, "-c", "import time; time.sleep(60)"], env={})
    sup.start()
    steady = psutil.Process(sup.children[1].proc.pid)
    # when
    with pytest.raises(ChildFailed, match="flaky exited with code 3 3 times"):
        sup.run_until(threading.Event())
    sup.stop()
    # then
    assert "restarting (1/2" in out.getvalue() and "flaky   | bye" in out.getvalue()
    assert not steady.is_running() or steady.status() == psutil.STATUS_ZOMBIE


def test_stop_kills_the_whole_process_group_even_grandchildren():
    # given a child that starts a grandchild ignoring SIGTERM
    code = ("import signal, subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print(1, flush=True); time.sleep(60)']); time.sleep(60)")
    sup = Supervisor(out=io.StringIO(), grace_s=1)
    sup.add("parent", [sys.executable, "-c", code], env={})
    sup.start()
    parent = psutil.Process(sup.children[0].proc.pid)
    grandchildren = wait_until(lambda: parent.children(recursive=True), timeout=10, what="the grandchild started")
    # when
    sup.stop()
    # then
    gone, alive = psutil.wait_procs(grandchildren, timeout=5)
    assert alive == []
