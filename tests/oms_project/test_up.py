"""`manage.py up` end to end: prepares the database, serves the admin, and Ctrl-C leaves no process behind."""
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import psutil
from django.conf import settings
from grpc_health.v1 import health_pb2, health_pb2_grpc

from accounts.models import Account, Credential
from clients.python.oms_client import OMSClient
from exchanges.simulator.control import VenueControl
from infra import embedded
from orders.models import Fill
from tests.subprocess_env import database_url
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def read_lines(proc, lines: queue.Queue):
    for raw in iter(proc.stdout.readline, b""):
        lines.put(raw.decode(errors="replace"))
    lines.put(None)


def test_up_serves_the_admin_and_ctrl_c_leaves_nothing_behind(transactional_db, tmp_path):
    # given free ports, a fresh var dir, the test database, and an embedded Redis of its own (on a port it picks)
    http, venue = free_port(), free_port()
    env = {**os.environ, "OMS_DEV": "1", "DATABASE_URL": database_url(), "OMS_VAR_DIR": str(tmp_path / "var"),
           "OMS_STATIC_ROOT": str(tmp_path / "static"), "OMS_HTTP_ADDR": f"127.0.0.1:{http}",
           "OMS_VENUE_ADDR": f"127.0.0.1:{venue}",
           "OMS_GRPC_ADDR": f"127.0.0.1:{free_port()}", "OMS_EVENTS_ADDR": f"127.0.0.1:{free_port()}",
           "OMS_FERNET_KEYS": ",".join(settings.OMS_FERNET_KEYS), "OMS_VENUE_CONTROL_TOKEN": "up-test-control"}
    env.pop("REDIS_URL", None)
    env.pop("OMS_EMBEDDED_REDIS_PORT", None)
    proc = subprocess.Popen([sys.executable, "manage.py", "up"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(proc, lines), daemon=True).start()
    seen = []
    try:
        # when it says "ready"
        deadline = time.monotonic() + 90
        while not seen or seen[-1].strip() != "ready":
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "up exited before ready:\n" + "".join(seen)
            seen.append(line)
        output = "".join(seen)
        # then the README's first order, placed at once, is taken (not refused for a catalog not synced yet)
        with OMSClient(env["OMS_GRPC_ADDR"], timeout=10) as client:
            placed = client.place_order(symbol="BTCUSDT", side="BUY", quantity="0.001", price="115000")
        assert placed["status"] in ("PENDING_NEW", "NEW", "PARTIALLY_FILLED", "FILLED"), placed
        # and the two demo accounts trade with each other on the venue (README "Local venue"): main's SELL rests
        # at the ask of a book held still, second's BUY at that price takes it
        control = VenueControl(f"http://127.0.0.1:{venue}", "up-test-control")
        assert control.random_trickle()["rate_per_min"] > 0  # other traders' takers are on in `make run`
        ask = control.set_price("BTCUSDT", 117000, freeze=True)["ask"]
        with OMSClient(env["OMS_GRPC_ADDR"], timeout=10) as client:
            sell = client.place_order(symbol="BTCUSDT", side="SELL", quantity="0.001", price=ask, account_id="main")
            buy = client.place_order(symbol="BTCUSDT", side="BUY", quantity="0.001", price=ask, account_id="second")
            wait_until(lambda: {client.get_order(o["order_id"])["status"] for o in (sell, buy)} == {"FILLED"},
                       timeout=30, interval=0.2, what="both demo accounts' orders FILLED")
        shared = set(Fill.objects.filter(order_id=sell["order_id"], is_maker=True).values_list("trade_id", flat=True))
        assert shared & set(Fill.objects.filter(order_id=buy["order_id"], is_maker=False).values_list("trade_id", flat=True))
        # and it said what it waited for
        assert "waiting for the worker" in output and "instruments of account 'main'" in output
        tree = psutil.Process(proc.pid).children(recursive=True)
        # then the admin answers, the endpoints and a first command are printed, the demo account exists
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/admin/login/", timeout=10) as resp:
            assert resp.status == 200
        # and /metrics reads the children's samples from the shared multiprocess directory (a single
        # process's own collectors, such as python_gc_*, are not part of that view)
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=10) as resp:
            body = resp.read()
        assert b"oms_orders_open" in body and b"python_gc_objects_collected_total" not in body
        assert (tmp_path / "var" / "prometheus").is_dir()
        assert f"http://127.0.0.1:{http}/admin/" in output and "oms_client.py" in output
        assert "created the admin user 'admin' with password" in output
        account, second = Account.objects.get(name="main"), Account.objects.get(name="second")
        assert (account.exchange, account.base_url) == ("binance", f"http://127.0.0.1:{venue}")
        assert (second.exchange, second.base_url) == ("binance", f"http://127.0.0.1:{venue}")
        api_key = Credential.objects.get(account=account).decrypted()["apiKey"]
        second_key = Credential.objects.get(account=second).decrypted()["apiKey"]
        assert api_key and second_key and api_key != second_key and api_key not in output and second_key not in output
        assert any("gunicorn" in " ".join(p.cmdline()) for p in tree if p.is_running())
        # and the web tier sends event streams to the events process, which serves them (issue 19, item 4)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{http}/api/v1/stream/prices/", timeout=10)
            raise AssertionError("the web tier served an event stream itself")
        except urllib.error.HTTPError as redirect:
            assert redirect.code == 307
            assert redirect.headers["Location"] == f"http://{env['OMS_EVENTS_ADDR']}/api/v1/stream/prices/"
        try:
            urllib.request.urlopen(f"http://{env['OMS_EVENTS_ADDR']}/api/v1/stream/prices/", timeout=10)
            raise AssertionError("the events process served a stream without authentication")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401  # served there, and asking who is calling
        health = health_pb2_grpc.HealthStub(grpc.insecure_channel(env["OMS_GRPC_ADDR"]))
        assert health.Check(health_pb2.HealthCheckRequest(service="oms.OrderService"), timeout=10).status == \
            health_pb2.HealthCheckResponse.SERVING
    finally:
        # when Ctrl-C
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=40)
    # then every child is gone, and the embedded Redis too
    gone, alive = psutil.wait_procs(tree, timeout=5)
    assert alive == [], f"left behind: {[p.pid for p in alive]}"
    assert code == 0
    redis_port = embedded.redis_port(tmp_path / "var")
    assert redis_port and f"redis://127.0.0.1:{redis_port}/0" in output
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", redis_port)) != 0
