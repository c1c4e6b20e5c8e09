"""gRPC server interceptor: latency and status code of every RPC, and the number of open streams.

Add it when building the server: `grpc.server(executor, interceptors=[MetricsInterceptor()])`.
The status code is what the handler set (`context.abort`/`set_code`), OK when it returned normally,
UNKNOWN when it raised anything else, CANCELLED when the client went away mid-stream.
"""
from __future__ import annotations

import time

import grpc

from oms_project import metrics


def _code_name(context, raised: BaseException | None) -> str:
    code = context.code() if hasattr(context, "code") else None
    if isinstance(code, grpc.StatusCode):
        return code.name
    if raised is None:
        return "OK"
    return "CANCELLED" if isinstance(raised, GeneratorExit) else "UNKNOWN"


def _observe(method: str, started: float, context, raised: BaseException | None) -> None:
    metrics.GRPC_SECONDS.labels(method=method).observe(time.perf_counter() - started)
    metrics.GRPC_HANDLED.labels(method=method, code=_code_name(context, raised)).inc()


def _wrap_unary(behavior, method: str):
    def handler(request_or_iterator, context):
        started = time.perf_counter()
        raised = None
        try:
            return behavior(request_or_iterator, context)
        except BaseException as exc:
            raised = exc
            raise
        finally:
            _observe(method, started, context, raised)
    return handler


def _wrap_stream(behavior, method: str):
    def handler(request_or_iterator, context):
        started = time.perf_counter()
        raised = None
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


class MetricsInterceptor(grpc.ServerInterceptor):
    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method.rsplit("/", 1)[-1]
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method), handler.request_deserializer, handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, method), handler.request_deserializer, handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _wrap_unary(handler.stream_unary, method), handler.request_deserializer, handler.response_serializer)
        return grpc.stream_stream_rpc_method_handler(
            _wrap_stream(handler.stream_stream, method), handler.request_deserializer, handler.response_serializer)
