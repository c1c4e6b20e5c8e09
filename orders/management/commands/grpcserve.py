"""manage.py grpcserve [--addr HOST:PORT] [--workers N]: serve oms.OrderService until SIGTERM/SIGINT."""
from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from infra import metrics
from infra.heartbeat import Heartbeat
from orders.grpc.server import OMSGrpcServer


class Command(BaseCommand):
    help = "Serve the OMS gRPC API (oms.OrderService, health, reflection)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=settings.OMS_GRPC_ADDR, help="bind address (default %(default)s; port 0 picks one)")
        parser.add_argument("--workers", type=int, default=settings.OMS_GRPC_WORKERS, help="worker threads (default %(default)s)")

    def handle(self, *args, addr, workers, **options):
        server = OMSGrpcServer(addr, workers=workers)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        server.start()
        self.stdout.write(f"gRPC server listening on {server.bound}", ending="\n")
        metrics_port = metrics.start_exporter()
        if metrics_port:
            self.stdout.write(f"metrics on :{metrics_port}/metrics", ending="\n")
        self.stdout.flush()
        heartbeat = Heartbeat("grpc").start()  # "alive" on the admin's overview
        while not stop.wait(1.0):  # wake up now and then so signal handlers run promptly
            pass
        heartbeat.stop()
        self.stdout.write("shutting down: finishing in-flight calls, ending streams")
        server.stop()
        self.stdout.write("stopped")
