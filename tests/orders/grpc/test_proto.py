"""The committed generated modules are exactly what the guide's protoc line (and `make proto`) produce."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GENERATED = ("oms_pb2.py", "oms_pb2_grpc.py", "oms_pb2.pyi")


def test_generated_modules_match_the_proto(tmp_path):
    (tmp_path / "proto").mkdir()
    shutil.copy(ROOT / "proto" / "oms.proto", tmp_path / "proto" / "oms.proto")
    # The client guide's command, plus the .pyi that `make proto` adds.
    cmd = [sys.executable, "-m", "grpc_tools.protoc", "-I./proto", "--python_out=./proto", "--pyi_out=./proto",
           "--grpc_python_out=./proto", "./proto/oms.proto"]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    drifted = [name for name in GENERATED
               if (tmp_path / "proto" / name).read_text() != (ROOT / "proto" / name).read_text()]
    assert drifted == [], f"regenerate with `make proto`: {drifted} differ from proto/oms.proto"


def test_generated_modules_load_once_under_one_name():
    from proto import oms_pb2, oms_pb2_grpc

    assert sys.modules["oms_pb2"] is oms_pb2
    assert oms_pb2_grpc.oms__pb2 is oms_pb2
    assert "proto.oms_pb2" not in sys.modules
