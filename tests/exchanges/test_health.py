"""/healthz reflects the database, Redis and the venues of enabled accounts."""
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import Account
from exchanges import health
from exchanges.health import GrpcHealthUpdater
from infra import pubsub
from tests.waiting import wait_until


@pytest.fixture
def ping_server():
    """A plain HTTP server standing in for a venue's public ping endpoint."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def client(client, db):
    """The detail of /healthz is for staff (anonymous callers get up/down only: tests/security)."""
    from tests import factories

    client.force_login(factories.user_create(username="ops", is_staff=True))
    return client


@pytest.fixture(autouse=True)
def fresh_venue_cache():
    health._venue_cache.clear()
    yield
    health._venue_cache.clear()


def test_healthz_ok_with_reachable_venue(client, db, ping_server):
    url, hits = ping_server
    Account.objects.create(name="h1", exchange="binance", base_url=url)
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["venues"][url]["ok"] is True
    assert hits == ["/api/v3/ping"]


def test_unreachable_venue_degrades_but_serves(client, db):
    url = f"http://127.0.0.1:{free_port()}"
    Account.objects.create(name="h2", exchange="binance", base_url=url)
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "degraded"
    assert resp.json()["venues"][url] == {"ok": False, "error": "ConnectionError", "seconds": pytest.approx(0, abs=2)}
    assert health.is_serving() is True


def test_disabled_accounts_are_not_probed(client, db, ping_server):
    url, hits = ping_server
    Account.objects.create(name="h3", exchange="binance", base_url=url, enabled=False)
    assert client.get("/healthz").json()["venues"] == {}
    assert hits == []


def test_redis_down_means_down(client, db, settings, monkeypatch):
    import redis

    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    monkeypatch.setattr(pubsub, "client", lambda: dead)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["status"] == "down"
    assert resp.json()["redis"] == {"ok": False, "error": "ConnectionError"}
    assert health.is_serving() is False


def test_grpc_health_follows_database_and_redis(db, monkeypatch):
    from concurrent import futures

    import grpc
    import redis
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    servicer = health.HealthServicer()
    server = grpc.server(futures.ThreadPoolExecutor(2))
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    updater = GrpcHealthUpdater(servicer, services=("", "oms.OrderService"), interval=0.1)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)

            def status(name):
                return stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status

            updater.start()
            assert status("") == status("oms.OrderService") == health_pb2.HealthCheckResponse.SERVING
            dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
            monkeypatch.setattr(pubsub, "client", lambda: dead)  # Redis goes away
            wait_until(lambda: status("oms.OrderService") == health_pb2.HealthCheckResponse.NOT_SERVING,
                       what="NOT_SERVING once Redis is unreachable")
            monkeypatch.undo()  # and comes back
            wait_until(lambda: status("") == health_pb2.HealthCheckResponse.SERVING, what="SERVING again")
    finally:
        updater.stop()
        server.stop(None)


def test_grpc_server_health_reports_not_serving_without_redis(grpc_server_factory, settings, monkeypatch):
    import grpc
    import redis
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    settings.OMS_GRPC_HEALTH_INTERVAL_SECONDS = 0.1
    address = grpc_server_factory()
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)

        def status():
            return stub.Check(health_pb2.HealthCheckRequest(service="oms.OrderService"), timeout=5).status

        assert status() == health_pb2.HealthCheckResponse.SERVING
        dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
        monkeypatch.setattr(pubsub, "client", lambda: dead)
        wait_until(lambda: status() == health_pb2.HealthCheckResponse.NOT_SERVING, what="NOT_SERVING")
