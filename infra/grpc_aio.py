"""grpc.aio servers driven from synchronous code, with handlers of both kinds.

grpc.aio runs plain functions and generators in its thread pool (the ORM is synchronous) and coroutines and
async generators on its event loop (streams that hold no thread). LoopThread owns the loop; the
SyncContextInterceptor gives thread-pool handlers the grpc.ServicerContext methods they were written against."""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading

import grpc

from infra.jsonlog import RateLimitedLog


class LoopThread:
    """An event loop running in a daemon thread; `run(coro)` waits for a coroutine from any other thread."""

    def __init__(self, name: str):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coro) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro, timeout: float | None = None):
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)


def is_async(behavior) -> bool:
    return inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)


def handler_with(handler, wrap):
    """The same RPC method handler with its behavior replaced by `wrap(behavior)`."""
    for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        behavior = getattr(handler, kind)
        if behavior:
            return handler._replace(**{kind: wrap(behavior)})
    return handler


class SyncContext:
    """The grpc.ServicerContext methods thread-pool handlers were written against, over a grpc.aio context:
    coroutines (abort, send_initial_metadata) are run on the loop and waited for; is_active() and add_callback()
    follow the call's end, however it ends (grpc.aio's own sync context misses a cancelled stream)."""

    __slots__ = ("_context", "_loop", "_done")

    def __init__(self, context, loop: asyncio.AbstractEventLoop):
        self._context, self._loop, self._done = context, loop, threading.Event()
        context.add_done_callback(lambda _context: self._done.set())

    def _wait(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def is_active(self) -> bool:
        return not self._done.is_set()

    def abort(self, code, details: str = ""):
        self._wait(self._context.abort(code, details))  # raises grpc.aio's AbortError, as grpc.server's abort raises

    def send_initial_metadata(self, metadata) -> None:
        self._wait(self._context.send_initial_metadata(metadata))

    def add_callback(self, callback) -> bool:
        self._loop.call_soon_threadsafe(self._context.add_done_callback, lambda _context: callback())
        return True

    def __getattr__(self, name):  # invocation_metadata, time_remaining, code, set_code, peer...
        return getattr(self._context, name)


class ThreadPoolInterceptor(grpc.aio.ServerInterceptor):
    """First in the list: plain functions and generators run in `executor` with a SyncContext; coroutines and
    async generators stay on the loop. A generator is stepped one item per pool task, so a stream whose client
    went away gives its thread back at its next item or is_active() check."""

    def __init__(self, executor: concurrent.futures.ThreadPoolExecutor):
        self.executor = executor

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        streaming = bool(handler.unary_stream or handler.stream_stream)
        return handler_with(handler, lambda behavior: behavior if is_async(behavior) else
                            (self._stream if streaming else self._unary)(behavior))

    def _unary(self, behavior):
        async def unary(request, context):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.executor, behavior, request, SyncContext(context, loop))
        return unary

    def _stream(self, behavior):
        executor = self.executor

        async def stream(request, context):
            loop = asyncio.get_running_loop()
            responses = await loop.run_in_executor(executor, behavior, request, SyncContext(context, loop))
            step = None

            def close(_step=None):
                try:
                    executor.submit(responses.close)
                except RuntimeError:  # the pool is shut down
                    responses.close()

            def close_when_idle(_context=None):
                """Close the generator (its finally blocks run) once no step of it is running; closing twice is
                harmless."""
                if step is None or step.done():
                    close()
                else:
                    step.add_done_callback(close)

            # When the call ends, whoever ends it: grpc.aio may drop this async generator without closing it when
            # the client cancels between two items, and garbage collection would close it only some time later.
            context.add_done_callback(close_when_idle)
            try:
                while True:
                    step = executor.submit(next, responses, _END)
                    response = await asyncio.wrap_future(step, loop=loop)
                    if response is _END:
                        return
                    yield response
            finally:  # ended, failed or cancelled
                close_when_idle()
        return stream


_END = object()


class PreEncodedInterceptor(grpc.aio.ServerInterceptor):
    """Responses a handler already encoded (bytes, e.g. one PriceUpdate for a thousand streams) go out as
    they are; messages are serialized as before."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.response_serializer is None:
            return handler
        serializer = handler.response_serializer

        def serialize(response):
            return response if isinstance(response, bytes) else serializer(response)
        return handler._replace(response_serializer=serialize)


class MalformedRequest:
    """What a request that is not its message decodes to; the handler is never called with it."""

    __slots__ = ("error",)

    def __init__(self, error: Exception):
        self.error = error


class MalformedRequestInterceptor(grpc.aio.ServerInterceptor):
    """First in the list, so before authentication: a request whose bytes do not decode answers INVALID_ARGUMENT
    (grpc.aio would answer UNKNOWN naming an exception class and log a traceback per request). A flood of them
    logs one line a minute."""

    def __init__(self, log_interval: float = 60.0):
        self.log = RateLimitedLog(logging.getLogger("oms.grpc"), interval=log_interval)

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None or handler.request_streaming:
            return handler
        deserialize, method = handler.request_deserializer, handler_call_details.method

        def lenient(raw: bytes):
            try:
                return deserialize(raw)
            except Exception as exc:  # noqa: BLE001 - whatever the decoder raises, the bytes were not the message
                return MalformedRequest(exc)

        async def refuse(context):
            self.log.warning("refused a malformed %s request from %s", method, context.peer())
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"the request is not a valid {method.rsplit('/', 1)[-1]} message (protobuf decoding failed)")

        def wrap(behavior):
            if handler.response_streaming:
                async def stream(request, context):
                    if isinstance(request, MalformedRequest):
                        await refuse(context)
                    async for response in behavior(request, context):
                        yield response
                return stream

            async def unary(request, context):
                if isinstance(request, MalformedRequest):
                    await refuse(context)
                return await behavior(request, context)
            return unary

        return handler_with(handler._replace(request_deserializer=lenient), wrap)
