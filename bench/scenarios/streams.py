"""Scenario 4: StreamPrices fan-out. S subscribers on one gRPC server process; prices published to Redis
at a fixed rate (as the market-data process does); latency from publish to each client, updates lost,
and the server's RSS and CPU. Baseline: a plain Redis subscriber on the same channel, same moment."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import psutil

from bench.profiling import profiling
from bench.stack import BASE_DIR, Stack
from bench.stats import compare, summary

SYMBOL = "BENCHUSDT"  # a symbol of its own: no market-data tick of a real one mixes in


def _publish(seq: int) -> None:
    from infra import pubsub

    now_ms = int(time.time() * 1000)
    pubsub.publish_price({"exchange": "binance", "market": "spot", "symbol": SYMBOL, "bid_price": "100",
                          "bid_quantity": str(seq), "ask_price": "100.1", "ask_quantity": "1", "last_price": "100.05",
                          "timestamp_ms": now_ms})


def fan_out(stack: Stack, streams: int, rate_hz: float, seconds: float, *, profile: bool = False) -> dict:
    from django.conf import settings

    from infra import pubsub

    stack.start_grpc(workers=streams + 32, max_streams=streams + 8)
    server = psutil.Process(stack.grpc.pid)
    _publish(0)  # the snapshot every stream starts with
    client = subprocess.Popen(
        [sys.executable, "-m", "bench.stream_client", stack.grpc_address, str(streams), SYMBOL, settings.REDIS_URL,
         pubsub.price_channel("binance", "spot", SYMBOL)],
        cwd=BASE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = client.stdout.readline().strip()
        if line != "live":
            raise RuntimeError(f"stream client did not go live (said {line!r}); exit {client.wait(10)}")
        rss_before = server.memory_info().rss
        cpu_before, wall_before = sum(server.cpu_times()[:2]), time.monotonic()
        published, interval, next_at = 0, 1 / rate_hz, time.monotonic()
        end = next_at + seconds
        with profiling((stack.grpc,), profile, f"streams-{streams}", gil_only=True):
            while next_at < end:
                time.sleep(max(0.0, next_at - time.monotonic()))
                published += 1
                _publish(published)
                next_at += interval
        cpu = (sum(server.cpu_times()[:2]) - cpu_before) / (time.monotonic() - wall_before)
        rss = max(rss_before, server.memory_info().rss)
        client.stdin.write(f"stop {published}\n")
        client.stdin.flush()
        result = json.loads(client.stdout.readline())
    finally:
        if client.poll() is None:
            client.kill()
        client.wait(10)
    expected = set(range(1, published + 1))
    lost = sum(len(expected - {seq for seq, _ in got}) for got in result["streams"])
    latencies = [ms for got in result["streams"] for _, ms in got]
    baseline = summary(ms for _, ms in result["baseline"])
    oms = summary(latencies)
    return {"streams": streams, "rate_hz": rate_hz, "updates": published, "deliveries": len(latencies),
            "lost": lost, "ended_early": result["ended_early"], "server_rss_mb": round(rss / 2**20, 1),
            "server_cpu_pct": round(cpu * 100, 1), "oms": oms, "raw": baseline, **compare(oms, baseline)}
