"""The two dependency sets (issue 23): requirements.txt is what the OMS needs to run and all the image installs;
requirements-dev.txt adds the development and test tools. Both pin every package with its hashes, and nothing the
runtime imports comes only with the development set."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("oms_project", "accounts", "orders", "execution", "exchanges", "proto")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")


def pinned(name: str) -> dict[str, str]:
    """{canonical name: version} of a compiled requirements file; each entry must carry hashes."""
    lines = (ROOT / name).read_text().splitlines()
    pins: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not line or line.startswith(("#", " ", "-r ")):
            continue
        match = PIN.match(line)
        assert match, f"{name}:{i + 1} is not an exact pin followed by hashes: {line!r}"
        assert lines[i + 1].strip().startswith("--hash=sha256:"), f"{name}:{i + 1} {line!r} has no hash"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and ast.unparse(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the modules a file imports when it runs (imports under TYPE_CHECKING excepted)."""
    found: set[str] = set()
    stack: list[ast.AST] = [ast.parse(path.read_text())]
    while stack:
        node = stack.pop()
        if _type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        stack.extend(ast.iter_child_nodes(node))
    return found


def runtime_modules() -> set[str]:
    """What the running OMS loads: its packages' imports, the apps, middleware and backends named in the settings,
    and the servers its processes run as `python -m` (oms_project/processes.py, the Dockerfile, docker-compose)."""
    modules: set[str] = {"gunicorn", "uvicorn", "celery"}
    for package in RUNTIME_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules |= imported_modules(path)
    named = [*settings.INSTALLED_APPS, *settings.MIDDLEWARE, *settings.AUTHENTICATION_BACKENDS,
             settings.CELERY_BEAT_SCHEDULER, settings.CACHES["default"]["BACKEND"], settings.DATABASES["default"]["ENGINE"]]
    modules |= {name.split(".")[0] for name in named}
    own = {path.name for path in ROOT.iterdir() if path.is_dir()} | {"oms_pb2", "oms_pb2_grpc"}
    return {m for m in modules if m not in sys.stdlib_module_names and m not in own}


def test_both_sets_are_pinned_with_hashes_and_dev_builds_on_runtime():
    runtime, dev = pinned("requirements.txt"), pinned("requirements-dev.txt")
    assert runtime and dev
    first = next(line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if line and line[0] != "#")
    assert first == "-r requirements.txt"
    # the development set never moves a runtime pin
    assert {name: version for name, version in dev.items() if name in runtime} == \
        {name: runtime[name] for name in dev if name in runtime}
    # the tools are development-only
    for tool in ("pytest", "pytest-django", "pytest-xdist", "hypothesis", "schemathesis", "selenium", "ruff",
                 "import-linter", "py-spy", "mypy", "django-stubs", "pip-tools"):
        assert tool in dev and tool not in runtime, tool


def test_everything_the_runtime_imports_is_in_the_runtime_set():
    runtime = pinned("requirements.txt")
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(runtime_modules()):
        names = {canonicalize_name(d) for d in distributions.get(module, [])}
        assert names, f"{module} is imported at run time but no installed distribution provides it"
        if not names & set(runtime):
            missing[module] = sorted(names)
    assert not missing, f"imported at run time, but only in the development set: {missing}"


def test_the_runtime_set_is_complete():
    """Every package a runtime package depends on is pinned in the runtime set too (the image installs only it)."""
    runtime = pinned("requirements.txt")
    for name in runtime:
        for spec in importlib.metadata.requires(name) or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                assert canonicalize_name(req.name) in runtime, f"{name} needs {req.name}, not in requirements.txt"


def test_the_image_installs_the_runtime_set_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements-dev" not in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "-r requirements-dev.txt" in (ROOT / "Makefile").read_text()
