"""Bytes that are not the request message (issue 19, item 12): INVALID_ARGUMENT with a message, before
authentication, and one rate-limited log line for a burst, never a traceback per request."""
import logging

import grpc
import pytest

MALFORMED = b"\xff\xff\xff\xff\x0f"  # a field tag with an invalid wire type and a truncated varint


def raw_call(address, method, *, stream=False, metadata=()):
    channel = grpc.insecure_channel(address)
    identity = lambda raw: raw  # noqa: E731 - the bytes go on the wire as they are
    factory = channel.unary_stream if stream else channel.unary_unary
    call = factory(f"/oms.OrderService/{method}", request_serializer=identity, response_deserializer=identity)
    with pytest.raises(grpc.RpcError) as err:
        reply = call(MALFORMED, timeout=10, metadata=metadata)
        if stream:
            next(reply)
    channel.close()
    return err.value


@pytest.mark.parametrize("method,stream", [("GetOrder", False), ("PlaceOrder", False), ("StreamOrders", True),
                                           ("StreamPrices", True)])
def test_a_malformed_request_is_invalid_argument_before_authentication(grpc_server_factory, caplog, method, stream):
    address = grpc_server_factory(require_auth=True)
    caplog.set_level(logging.INFO)

    errors = [raw_call(address, method, stream=stream) for _ in range(5)]

    for error in errors:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
        assert "not a valid" in error.details() and "Error" not in error.details()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    lines = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING, [r.getMessage() for r in caplog.records]
