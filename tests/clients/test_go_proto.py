"""The Go code in proto/omspb is what protoc generates from proto/oms.proto (module builds use it as committed)."""
import subprocess

from proto import oms_pb2
from tests.clients.conftest import ROOT


def test_committed_go_code_is_generated_from_the_proto(go_client):
    # The go_client fixture ran `make go-client`, which regenerated proto/omspb in place.
    out = subprocess.run(["git", "status", "--porcelain", "--", "proto/omspb"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout == "", f"regenerated Go code differs from the committed one; commit it:\n{out.stdout}"
    go_client_code = (ROOT / "proto" / "omspb" / "oms_grpc.pb.go").read_text()
    for method in oms_pb2.DESCRIPTOR.services_by_name["OrderService"].methods:
        assert f'"/oms.OrderService/{method.name}"' in go_client_code, method.name
