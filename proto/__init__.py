"""Generated gRPC modules. protoc's output imports `oms_pb2` as a top-level module (the guide's
generation command), so this folder goes on sys.path and both names resolve to one module."""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

import oms_pb2  # noqa: E402
import oms_pb2_grpc  # noqa: E402

__all__ = ["oms_pb2", "oms_pb2_grpc"]
