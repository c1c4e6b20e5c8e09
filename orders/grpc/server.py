"""The gRPC server process: OrderService + health + reflection, auth, keepalive, limits, TLS, and a
graceful stop (health goes NOT_SERVING, streams end with UNAVAILABLE, in-flight calls get a grace period).

A grpc.aio server on an event loop of its own thread (infra.grpc_aio.LoopThread): StreamPrices runs on
the loop, so a thousand price streams hold no thread each; every other RPC (ORM calls, PlaceOrder waiting for
the venue) runs in the worker thread pool as before. The public methods are synchronous."""
from __future__ import annotations

import ipaddress
import logging
from concurrent import futures
from pathlib import Path

import grpc
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from exchanges.health import GrpcHealthUpdater
from infra.errors import Unavailable
from infra.grpc_aio import LoopThread, MalformedRequestInterceptor, PreEncodedInterceptor, ThreadPoolInterceptor
from infra.grpc_metrics import MetricsInterceptor
from orders.grpc.auth import AuthInterceptor
from orders.grpc.hub import Hub
from orders.grpc.service import OrderService
from proto import oms_pb2, oms_pb2_grpc

log = logging.getLogger("oms.grpc")

SERVICE_NAME = oms_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name

RELEASE_BEFORE_GRACE_ENDS_SECONDS = 1.0
UNARY_RPC_ROOM = 64  # concurrent RPCs the default price-stream cap leaves for everything else

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_required(address: str, setting: str | None) -> bool:
    """OMS_GRPC_REQUIRE_AUTH: on/off when set; unset means on unless the server listens on loopback only."""
    if setting is None:
        return not is_loopback(address)
    if setting in _TRUE:
        return True
    if setting in _FALSE:
        if not is_loopback(address):
            log.warning("OMS_GRPC_REQUIRE_AUTH is off on %s: anyone who reaches this port can trade every account", address)
        return False
    raise ImproperlyConfigured(f"OMS_GRPC_REQUIRE_AUTH must be one of on/off/true/false/1/0, got {setting!r}")


def server_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        # Keepalive: ping idle clients every 30 s, drop them after 10 s without an answer; accept client
        # pings every 10 s (the SDK pings every 30 s) instead of the 5-minute default that GOAWAYs them.
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 2),
        ("grpc.max_connection_idle_ms", 30 * 60_000),
    ]


def server_credentials(cert_path: str, key_path: str) -> grpc.ServerCredentials | None:
    if not (cert_path or key_path):
        return None
    if not (cert_path and key_path):
        raise ImproperlyConfigured("TLS needs both OMS_GRPC_TLS_CERT and OMS_GRPC_TLS_KEY")
    return grpc.ssl_server_credentials([(Path(key_path).read_bytes(), Path(cert_path).read_bytes())])


class OMSGrpcServer:
    """Build with the settings, `start()` to listen, `stop()` to drain. `port` is the bound port."""

    def __init__(self, address: str | None = None, *, workers: int | None = None, require_auth: bool | None = None):
        self.address = address or settings.OMS_GRPC_ADDR
        workers = workers or settings.OMS_GRPC_WORKERS
        self.require_auth = auth_required(self.address, settings.OMS_GRPC_REQUIRE_AUTH) if require_auth is None else require_auth
        # Order streams hold a worker thread each; keep at least a few for unary calls. Price streams hold no thread
        # but a concurrent-RPC slot each: by default they leave the order streams and 64 unary calls room.
        max_streams = min(settings.OMS_GRPC_MAX_STREAMS or max(1, workers // 2), max(1, workers - 2))
        max_price_streams = settings.OMS_GRPC_MAX_PRICE_STREAMS or max(
            1, settings.OMS_GRPC_MAX_CONCURRENT_RPCS - max_streams - UNARY_RPC_ROOM)
        self.hub = Hub(queue_size=settings.OMS_GRPC_STREAM_QUEUE_SIZE, max_streams=max_streams,
                       max_price_streams=max_price_streams,
                       per_caller={"orders": settings.OMS_GRPC_MAX_ORDER_STREAMS_PER_TOKEN,
                                   "prices": settings.OMS_GRPC_MAX_PRICE_STREAMS_PER_TOKEN})
        self.executor = futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="oms-grpc")
        credentials = server_credentials(settings.OMS_GRPC_TLS_CERT, settings.OMS_GRPC_TLS_KEY)
        self.tls = credentials is not None
        self.loop = LoopThread("oms-grpc-loop")
        try:
            self.server, self.health, self.port = self.loop.run(self._build(credentials))
        except BaseException:
            self.loop.stop()
            raise
        if not self.port:
            self.loop.stop()
            raise ImproperlyConfigured(f"cannot listen on {self.address}")
        self.bound = f"{self.address.rsplit(':', 1)[0]}:{self.port}"
        self.stopped = False

    async def _build(self, credentials):
        """On the loop: grpc.aio binds a server to the loop it is created on."""
        server = grpc.aio.server(
            migration_thread_pool=self.executor,
            # Malformed requests are refused first (before authentication, without a traceback).
            interceptors=[MalformedRequestInterceptor(), ThreadPoolInterceptor(self.executor), MetricsInterceptor(),
                          AuthInterceptor(require_auth=self.require_auth), PreEncodedInterceptor()],
            options=server_options(settings.OMS_GRPC_MAX_MESSAGE_BYTES),
            maximum_concurrent_rpcs=settings.OMS_GRPC_MAX_CONCURRENT_RPCS,
        )
        oms_pb2_grpc.add_OrderServiceServicer_to_server(OrderService.as_servicer(hub=self.hub), server)
        health_servicer = health.HealthServicer()  # thread-pool handlers; GrpcHealthUpdater sets it from a thread
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server)
        try:
            port = server.add_secure_port(self.address, credentials) if credentials else server.add_insecure_port(self.address)
        except RuntimeError:  # grpc.aio raises where grpc.server returned 0
            port = 0
        return server, health_servicer, port

    def start(self) -> None:
        self.hub.start()
        self.loop.run(self.server.start())
        # SERVING while the database and Redis answer, NOT_SERVING otherwise (checked every few seconds).
        self.health_updater = GrpcHealthUpdater(self.health, ("", SERVICE_NAME),
                                                interval=settings.OMS_GRPC_HEALTH_INTERVAL_SECONDS).start()
        log.info("gRPC listening on %s (%s, auth %s)", self.bound, "TLS" if self.tls else "plaintext",
                 "required" if self.require_auth else "optional on loopback")

    def stop(self, grace: float | None = None) -> None:
        if self.stopped:
            return
        self.stopped = True
        grace = settings.OMS_GRPC_SHUTDOWN_GRACE_SECONDS if grace is None else grace
        self.health_updater.stop()
        self.health.enter_graceful_shutdown()
        stopped = self.loop.submit(self.server.stop(grace))  # refuses new calls; in-flight ones get `grace` seconds
        self.hub.end_streams(Unavailable("server shutting down; reconnect"))
        # A placement still waiting for the venue near the end of the grace answers with what the ledger holds
        # (PENDING_NEW) instead of being cut off: its client learns the order id either way.
        try:
            stopped.result(timeout=max(0.0, grace - RELEASE_BEFORE_GRACE_ENDS_SECONDS))
        except futures.TimeoutError:
            self.hub.release_waits()
            stopped.result()
        self.hub.stop()
        self.executor.shutdown(wait=True)
        self.loop.stop()

    def wait(self) -> None:
        self.loop.run(self.server.wait_for_termination())
