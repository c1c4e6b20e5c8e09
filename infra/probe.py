"""Container health probes, without loading Django: `python -m infra.probe http URL` (2xx from
/healthz) or `python -m infra.probe grpc HOST:PORT` (gRPC health service says SERVING).
Exit 0 healthy, 1 not."""
from __future__ import annotations

import sys
import urllib.request


def http_ok(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except OSError:
        return False


def grpc_serving(address: str, timeout: float = 3.0) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("http", "grpc"):
        print("usage: python -m infra.probe http URL | grpc HOST:PORT", file=sys.stderr)
        return 2
    kind, target = argv
    return 0 if (http_ok(target) if kind == "http" else grpc_serving(target)) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
