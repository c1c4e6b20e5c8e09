"""Event streams without a thread each (issue 19, item 4): the events process (uvicorn on oms_project.asgi, as
`manage.py up` runs it) holds many streams on its event loop, caps them per user and in total, and the WSGI web
tier never gives more than a few threads to streams (or sends them to the events process)."""
from __future__ import annotations

import os
import socket
import sys

import psutil
import pytest
import requests

from accounts import services as account_services
from accounts.models import AccountMember
from tests import factories
from tests.fixtures.processes import ChildProcess
from tests.orders.api.conftest import error_of
from tests.subprocess_env import database_url
from tests.waiting import wait_until

STREAMS = 24  # what froze the gunicorn web tier (issue 19)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def events_server(transactional_db, tmp_path, settings):
    """`uvicorn oms_project.asgi:application` on a free port, on the test database: its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
           "OMS_SSE_MAX_STREAMS": str(STREAMS + 2), "OMS_SSE_MAX_STREAMS_PER_USER": str(STREAMS),
           "OMS_SSE_HEARTBEAT_SECONDS": "0.5", "OMS_SSE_AUTH_RECHECK_SECONDS": "0.2", "OMS_SSE_MAX_SECONDS": "120",
           "OMS_AUTH_FAILURE_RATE": "3/min"}
    argv = [sys.executable, "-m", "uvicorn", "oms_project.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--lifespan", "off", "--no-access-log", "--no-proxy-headers"]  # as oms_project/processes.py runs it
    child = ChildProcess("events", argv, env, tmp_path)
    url = f"http://127.0.0.1:{port}"

    def answering():
        child.check_alive()
        try:
            return requests.get(f"{url}/healthz", timeout=2).status_code in (200, 503)
        except requests.ConnectionError:
            return False

    child.wait_ready(answering, timeout=60, what="the events server")
    child.url = url
    yield child
    child.stop()


class Stream:
    """One open event stream read over HTTP, as a browser or curl reads it."""

    def __init__(self, url: str, token: str, path: str = "/api/v1/stream/orders/"):
        self.response = requests.get(url + path, headers={"Authorization": f"Bearer {token}",
                                                          "Accept": "text/event-stream"}, stream=True, timeout=10)
        self.chunks = self.response.iter_content(chunk_size=None) if self.response.ok else iter(())
        self.text = ""

    def read_until(self, needle: str) -> str:
        for chunk in self.chunks:
            self.text += chunk.decode()
            if needle in self.text:
                break
        return self.text

    def close(self):
        self.response.close()


def test_the_events_server_holds_streams_without_a_thread_each_and_caps_them(events_server, instrument):
    alice, bob = factories.user_create(username="alice"), factories.user_create(username="bob")
    acct = factories.account_create(name="acct-a", member=alice)
    as_alice, as_bob = (account_services.api_token_create(user=u) for u in (alice, bob))
    server = psutil.Process(events_server.proc.pid)
    first = Stream(events_server.url, as_alice)
    assert "retry" in first.read_until("retry")
    threads_with_one = server.num_threads()
    streams = [first]
    try:
        for _ in range(STREAMS - 1):
            streams.append(Stream(events_server.url, as_alice))
            assert "retry" in streams[-1].read_until("retry")
        threads_with_all = server.num_threads()
        over_user_cap = Stream(events_server.url, as_alice)
        streams += [Stream(events_server.url, as_bob), Stream(events_server.url, as_bob)]
        over_total_cap = Stream(events_server.url, as_bob)
        healthz = requests.get(f"{events_server.url}/healthz", timeout=10)
        order = factories.order_place(acct)
        delivered = [s.read_until(order.id) for s in (streams[0], streams[STREAMS - 1])]
        api_here = requests.get(f"{events_server.url}/api/v1/orders/", headers={"Authorization": f"Bearer {as_alice}"},
                                timeout=10)
    finally:
        for stream in streams:
            stream.close()
    # A client that goes away gives its slot back: alice can open her full share again.
    reopened = wait_until(lambda: _all_open([Stream(events_server.url, as_alice) for _ in range(STREAMS)]),
                          timeout=20, interval=0.5, what="slots given back after the clients left")

    assert threads_with_all - threads_with_one < STREAMS // 2, (threads_with_one, threads_with_all)
    assert over_user_cap.response.status_code == 429 and "limit per user" in over_user_cap.response.text
    assert [s.response.status_code for s in streams[-2:]] == [200, 200]
    assert over_total_cap.response.status_code == 429 and "too many open event streams" in over_total_cap.response.text
    assert healthz.status_code == 200
    assert all(f'"order_id":"{order.id}"' in text for text in delivered)
    assert api_here.status_code == 404  # the API stays on the web tier
    assert reopened


def _all_open(streams: list[Stream]) -> bool:
    try:
        return all(s.response.status_code == 200 for s in streams)
    finally:
        for stream in streams:
            stream.close()


def test_on_the_events_server_a_removed_membership_ends_the_stream(events_server, instrument):
    alice, bob = factories.user_create(username="alice"), factories.user_create(username="bob")
    factories.account_create(name="acct-b", member=bob)
    account_services.member_add(account="acct-b", user=alice, role=AccountMember.Role.VIEWER)
    stream = Stream(events_server.url, account_services.api_token_create(user=alice))
    assert "retry" in stream.read_until("retry")

    AccountMember.objects.filter(user=alice, account__name="acct-b").delete()
    text = stream.read_until("event: error")
    stream.close()

    assert "permission_denied" in text and "acct-b" in text


def test_on_the_events_server_guessing_tokens_is_throttled_whatever_forwarded_for_says(events_server):
    codes = [requests.get(f"{events_server.url}/api/v1/stream/orders/", timeout=10,
                          headers={"Authorization": f"Bearer guess-{i}", "X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(4)]

    assert codes == [401, 401, 401, 429]


def test_the_web_tier_gives_streams_few_threads_or_sends_them_to_the_events_process(transactional_db, client_a, acct_a,
                                                                                    settings):
    settings.OMS_SSE_WSGI_MAX_STREAMS = 2
    held = [client_a.get("/api/v1/stream/prices/", HTTP_ACCEPT="text/event-stream") for _ in range(2)]
    refused = client_a.get("/api/v1/stream/orders/")
    for response in held:
        response.close()  # gives the slots back
    again = client_a.get("/api/v1/stream/orders/")
    again.close()
    settings.OMS_EVENTS_URL = "http://events.example:8001"
    redirected = client_a.get("/api/v1/stream/orders/", {"account": "acct-a"})

    assert [r.status_code for r in held] == [200, 200]
    assert refused.status_code == 429 and "too many open event streams" in error_of(refused)["message"]
    assert again.status_code == 200
    assert redirected.status_code == 307
    assert redirected["Location"] == "http://events.example:8001/api/v1/stream/orders/?account=acct-a"
