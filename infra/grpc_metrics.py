"""gRPC server interceptor (grpc.aio): latency and status code of every RPC, and the number of open streams.

Add it when building the server, after infra.grpc_aio's ThreadPoolInterceptor:
`grpc.aio.server(interceptors=[ThreadPoolInterceptor(executor), MetricsInterceptor()])`. Each wrapper keeps the kind
of the handler it wraps (thread-pool function or generator, coroutine or async generator).
The status code is what the handler set (`context.abort`/`set_code`), OK when it returned normally,
UNKNOWN when it raised anything else, CANCELLED when the client went away mid-stream.
"""
from __future__ import annotations

import asyncio
import time

import grpc

from infra import metrics
from infra.grpc_aio import handler_with, is_async


def _code_name(context, raised: BaseException | None) -> str:
    code = context.code() if hasattr(context, "code") else None
    if isinstance(code, grpc.StatusCode):
        return code.name
    if raised is None:
        return "OK"
    return "CANCELLED" if isinstance(raised, GeneratorExit | asyncio.CancelledError) else "UNKNOWN"


def _observe(method: str, started: float, context, raised: BaseException | None) -> None:
    metrics.GRPC_SECONDS.labels(method=method).observe(time.perf_counter() - started)
    metrics.GRPC_HANDLED.labels(method=method, code=_code_name(context, raised)).inc()


def _wrap_unary(behavior, method: str):
    if is_async(behavior):
        async def async_handler(request_or_iterator, context):
            started, raised = time.perf_counter(), None
            try:
                return await behavior(request_or_iterator, context)
            except BaseException as exc:
                raised = exc
                raise
            finally:
                _observe(method, started, context, raised)
        return async_handler

    def handler(request_or_iterator, context):
        started, raised = time.perf_counter(), None
        try:
            return behavior(request_or_iterator, context)
        except BaseException as exc:
            raised = exc
            raise
        finally:
            _observe(method, started, context, raised)
    return handler


def _wrap_stream(behavior, method: str):
    if is_async(behavior):
        async def async_handler(request_or_iterator, context):
            started, raised = time.perf_counter(), None
            live = metrics.STREAM_SUBSCRIBERS.labels(method=method)
            live.inc()
            try:
                async for response in behavior(request_or_iterator, context):
                    yield response
            except BaseException as exc:
                raised = exc
                raise
            finally:
                live.dec()
                _observe(method, started, context, raised)
        return async_handler

    def handler(request_or_iterator, context):
        started, raised = time.perf_counter(), None
        live = metrics.STREAM_SUBSCRIBERS.labels(method=method)
        live.inc()
        try:
            yield from behavior(request_or_iterator, context)
        except BaseException as exc:
            raised = exc
            raise
        finally:
            live.dec()
            _observe(method, started, context, raised)
    return handler


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method.rsplit("/", 1)[-1]
        streaming = handler.unary_stream or handler.stream_stream
        return handler_with(handler, lambda b: (_wrap_stream if streaming else _wrap_unary)(b, method))
