"""Files holding secrets are owner-only (issue 19, item 10): the venue's snapshot (every key's secret) and the demo
key pair are created 0600 whatever the umask, replaced atomically, and leave no temporary file behind."""
from __future__ import annotations

import os
import stat

import pytest

from exchanges.simulator.testing import start_venue


@pytest.fixture
def open_umask():
    """The most permissive umask: nothing may rely on it."""
    before = os.umask(0)
    yield
    os.umask(before)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_venue_snapshot_is_written_0600_and_atomically(tmp_path, open_umask):
    path = tmp_path / "venue.json"
    handle = start_venue(seed=3, keys={"snap-key": "snap-secret-value"}, snapshot_path=str(path))
    try:
        handle.control.snapshot()
        assert mode(path) == 0o600
        assert b"snap-secret-value" in path.read_bytes()  # why it must be private
        path.chmod(0o644)  # as an earlier version left it
        handle.control.snapshot()  # a new file replaces the old one: private again
        assert mode(path) == 0o600
    finally:
        handle.stop()
    assert mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["venue.json"]


def test_the_demo_venue_key_pair_is_written_0600(tmp_path, open_umask):
    from oms_project.management.commands.up import venue_keys

    api_key, secret = venue_keys(tmp_path)

    assert mode(tmp_path / "venue_keys.json") == 0o600
    assert venue_keys(tmp_path) == (api_key, secret)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["venue_keys.json"]
