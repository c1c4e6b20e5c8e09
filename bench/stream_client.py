"""The subscriber side of the fan-out scenario, in its own process: S StreamPrices calls (grpc.aio, spread
over a few channels) plus one plain Redis subscriber on the same channel as the baseline.

    python -m bench.stream_client ADDRESS STREAMS SYMBOL REDIS_URL CHANNEL

Prints "live" once every stream has its `oms-stream: live` header and the Redis subscriber is
subscribed, then records each update's (sequence, receive time) until it reads "stop N" on stdin and
update N has reached every stream (or DRAIN_SECONDS passed: what is missing then is lost), and
prints one JSON line: per-stream received sequences and latencies, and the Redis baseline's."""
from __future__ import annotations

import asyncio
import json
import sys
import time

import grpc
import redis.asyncio as aioredis

from proto import oms_pb2, oms_pb2_grpc

STREAMS_PER_CHANNEL = 100
RAMP_STEP = 50
DRAIN_SECONDS = 10


async def _stream(stub, symbol: str, out: list, live: asyncio.Event, ready: list) -> None:
    call = stub.StreamPrices(oms_pb2.StreamPricesRequest(symbols=[symbol]))
    metadata = await call.initial_metadata()
    if ("oms-stream", "live") not in tuple(metadata or ()):
        raise RuntimeError(f"stream did not go live: {metadata}")
    ready[0] += 1
    async for update in call:
        if live.is_set():
            out.append((int(update.bid_quantity), time.time() * 1000 - update.timestamp_ms))


async def _redis(url: str, channel: str, out: list, subscribed: asyncio.Event, live: asyncio.Event) -> None:
    client = aioredis.from_url(url)
    ps = client.pubsub()
    await ps.subscribe(channel)
    subscribed.set()
    async for message in ps.listen():
        if message["type"] == "message" and live.is_set():
            update = json.loads(message["data"])
            out.append((int(float(update["bid_quantity"])), time.time() * 1000 - int(update["timestamp_ms"])))


async def main(address: str, streams: int, symbol: str, redis_url: str, channel: str) -> None:
    channels = [grpc.aio.insecure_channel(address) for _ in range((streams + STREAMS_PER_CHANNEL - 1) // STREAMS_PER_CHANNEL)]
    live, subscribed = asyncio.Event(), asyncio.Event()
    received: list[list] = [[] for _ in range(streams)]
    baseline: list = []
    ready = [0]
    tasks = [asyncio.create_task(_redis(redis_url, channel, baseline, subscribed, live))]
    deadline = time.monotonic() + 120
    # Streams open in steps, as clients arrive: a thousand at the same instant is a reconnect storm, not fan-out.
    for start in range(0, streams, RAMP_STEP):
        tasks += [asyncio.create_task(_stream(oms_pb2_grpc.OrderServiceStub(channels[i // STREAMS_PER_CHANNEL]),
                                              symbol, received[i], live, ready))
                  for i in range(start, min(start + RAMP_STEP, streams))]
        while ready[0] < min(start + RAMP_STEP, streams) or not subscribed.is_set():
            failed = [t for t in tasks if t.done()]
            if failed:
                failed[0].result()  # raises the stream's error
                raise RuntimeError("a stream ended before going live")
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {ready[0]} of {streams} streams went live")
            await asyncio.sleep(0.02)
    live.set()
    print("live", flush=True)
    last = int((await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).split()[1])  # "stop N"
    deadline = time.monotonic() + DRAIN_SECONDS  # updates still in flight arrive late, not lost
    while time.monotonic() < deadline and not all(got and got[-1][0] >= last for got in received):
        await asyncio.sleep(0.05)
    ended = sum(t.done() for t in tasks)
    for t in tasks:
        t.cancel()
    for c in channels:
        await c.close()
    print(json.dumps({"streams": received, "baseline": baseline, "ended_early": ended}), flush=True)


if __name__ == "__main__":
    address, streams, symbol, redis_url, channel = sys.argv[1:6]
    asyncio.run(main(address, int(streams), symbol, redis_url, channel))
