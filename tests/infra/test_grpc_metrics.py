"""The gRPC interceptor records latency and status code per method, and open streams, for handlers run in
the thread pool and on the event loop alike."""
import asyncio
import threading
import time
from concurrent import futures

import grpc
import pytest

from infra import metrics
from infra.grpc_aio import LoopThread, ThreadPoolInterceptor
from infra.grpc_metrics import MetricsInterceptor

IDENTITY = (lambda b: b, lambda b: b)


def _unary_ok(request, context):
    return b"ok"


def _unary_refused(request, context):
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, "quantity: must be > 0")


def _unary_crash(request, context):
    raise RuntimeError("bug")


STREAM_GO_ON = threading.Event()


def _stream(request, context):
    """One message, then hold the stream open until the test has looked at the gauge."""
    yield b"\x00"
    STREAM_GO_ON.wait(10)
    yield b"\x01"


LOOP_ENDED = threading.Event()


def _loop_until_cancelled(request, context):
    """A thread-pool stream that, like StreamOrders waiting for its next update, runs while its caller is there.
    A cancel that arrives before the loop started closes the generator at its first yield instead: either way
    it ends (the finally runs) and gives its thread back."""
    try:
        yield b"\x02"
        while context.is_active():
            time.sleep(0.05)
    finally:
        LOOP_ENDED.set()


async def _async_refused(request, context):
    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not now")


ASYNC_GO_ON = asyncio.Event()


async def _async_stream(request, context):
    yield b"\x00"
    await asyncio.wait_for(ASYNC_GO_ON.wait(), 10)
    yield b"\x01"


@pytest.fixture
def channel():
    handlers = {
        "Ok": grpc.unary_unary_rpc_method_handler(_unary_ok, *IDENTITY),
        "Refused": grpc.unary_unary_rpc_method_handler(_unary_refused, *IDENTITY),
        "Crash": grpc.unary_unary_rpc_method_handler(_unary_crash, *IDENTITY),
        "Stream": grpc.unary_stream_rpc_method_handler(_stream, *IDENTITY),
        "Loop": grpc.unary_stream_rpc_method_handler(_loop_until_cancelled, *IDENTITY),
        "AsyncRefused": grpc.unary_unary_rpc_method_handler(_async_refused, *IDENTITY),
        "AsyncStream": grpc.unary_stream_rpc_method_handler(_async_stream, *IDENTITY),
    }
    loop, executor = LoopThread("test-grpc-loop"), futures.ThreadPoolExecutor(4)

    async def build():
        server = grpc.aio.server(migration_thread_pool=executor,
                                 interceptors=[ThreadPoolInterceptor(executor), MetricsInterceptor()])
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Probe", handlers)])
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = loop.run(build())
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        ch.loop = loop
        yield ch
    loop.run(server.stop(None))
    loop.stop()
    executor.shutdown()


def handled(method, code):
    return metrics.GRPC_HANDLED.labels(method=method, code=code)._value.get()


def test_codes_and_latency_per_method(channel):
    ok, refused, crash = handled("Ok", "OK"), handled("Refused", "INVALID_ARGUMENT"), handled("Crash", "UNKNOWN")
    count_before = metrics.GRPC_SECONDS.labels(method="Ok")._sum.get()

    assert channel.unary_unary("/test.Probe/Ok")(b"x") == b"ok"
    with pytest.raises(grpc.RpcError) as err:
        channel.unary_unary("/test.Probe/Refused")(b"x")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError):
        channel.unary_unary("/test.Probe/Crash")(b"x")

    assert handled("Ok", "OK") == ok + 1
    assert handled("Refused", "INVALID_ARGUMENT") == refused + 1
    assert handled("Crash", "UNKNOWN") == crash + 1
    assert metrics.GRPC_SECONDS.labels(method="Ok")._sum.get() > count_before


def test_stream_counted_while_open_and_when_done(channel):
    live = metrics.STREAM_SUBSCRIBERS.labels(method="Stream")
    before_live, before_ok = live._value.get(), handled("Stream", "OK")
    STREAM_GO_ON.clear()
    stream = channel.unary_stream("/test.Probe/Stream")(b"x")
    assert next(stream) == b"\x00"
    assert live._value.get() == before_live + 1
    STREAM_GO_ON.set()
    assert list(stream) == [b"\x01"]
    assert live._value.get() == before_live
    assert handled("Stream", "OK") == before_ok + 1


def test_handlers_on_the_event_loop_are_measured_too(channel):
    live = metrics.STREAM_SUBSCRIBERS.labels(method="AsyncStream")
    before_live, before_ok = live._value.get(), handled("AsyncStream", "OK")
    refused = handled("AsyncRefused", "FAILED_PRECONDITION")

    with pytest.raises(grpc.RpcError) as err:
        channel.unary_unary("/test.Probe/AsyncRefused")(b"x")
    stream = channel.unary_stream("/test.Probe/AsyncStream")(b"x")
    assert next(stream) == b"\x00"
    assert live._value.get() == before_live + 1
    channel.loop.loop.call_soon_threadsafe(ASYNC_GO_ON.set)
    assert list(stream) == [b"\x01"]

    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert handled("AsyncRefused", "FAILED_PRECONDITION") == refused + 1
    assert live._value.get() == before_live
    assert handled("AsyncStream", "OK") == before_ok + 1


def test_a_thread_pool_stream_whose_client_left_ends_and_frees_its_thread(channel):
    LOOP_ENDED.clear()
    stream = channel.unary_stream("/test.Probe/Loop")(b"x")
    assert next(stream) == b"\x02"

    stream.cancel()

    assert LOOP_ENDED.wait(5), "the generator kept running after its client cancelled"
