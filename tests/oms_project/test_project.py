"""The project's own wiring: settings from env, migrations in step with models, the wire contract."""
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_match_models(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_proto_honours_wire_contract():
    from proto import oms_pb2

    order = oms_pb2.Order.DESCRIPTOR.fields_by_number
    assert (order[1].name, order[13].name, order[14].name) == ("order_id", "created_at", "updated_at")
    assert oms_pb2.DESCRIPTOR.package == "oms"


def test_deploy_check_is_clean_with_production_env(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": "x" * 64 + "production-like-secret-key-0123456789",
        "OMS_FERNET_KEYS": "r0qAvcnBq8bM3VQ0nLwVQxkq0T5W8Y0dQb7iJbYwGWc=",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "OMS_ALLOWED_HOSTS": "oms.example.com",
    }
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
