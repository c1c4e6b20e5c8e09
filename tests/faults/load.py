"""Order placement load for the fault tests: client threads placing resting orders through real gRPC stubs,
each call recorded with its client order id, times and outcome."""
from __future__ import annotations

import threading
import time

import grpc

from proto import oms_pb2


class Placer(threading.Thread):
    """Places resting BUY orders (0.001 BTCUSDT at 99000), each with its own client order id, one after another,
    until `stop` is set, or, with stop_on_error, until a call fails."""

    def __init__(self, stub, name: str, *, stop_on_error: bool, stop: threading.Event | None = None,
                 timeout: float = 30):
        super().__init__(daemon=True)
        self.stub, self.prefix, self.stop_on_error, self.timeout = stub, name, stop_on_error, timeout
        self.stop = stop or threading.Event()
        self.calls: list[dict] = []  # client_order_id, started, ended, code, and status or details

    def run(self):
        i = 0
        while not self.stop.is_set():
            call = {"client_order_id": f"{self.prefix}-{i}", "started": time.monotonic()}
            i += 1
            self.calls.append(call)
            try:
                reply = self.stub.PlaceOrder(oms_pb2.PlaceOrderRequest(
                    symbol="BTCUSDT", side="BUY", quantity=0.001, price=99000, client_order_id=call["client_order_id"]),
                    timeout=self.timeout)
                call.update(code=grpc.StatusCode.OK, status=reply.status, order_id=reply.order_id)
            except grpc.RpcError as exc:
                call.update(code=exc.code(), details=exc.details())
            call["ended"] = time.monotonic()
            if call["code"] != grpc.StatusCode.OK:
                if self.stop_on_error:
                    return
                self.stop.wait(0.1)  # as a client backs off before trying again


def calls_of(placers: list[Placer]) -> list[dict]:
    return [c for p in placers for c in list(p.calls) if "ended" in c]
