import os
import stat

import pytest

from mutasi_rules.core.atomic import atomic_open, write_text


def test_write_replaces_whole_file_readable_by_its_owner_only(tmp_path):
    """Outputs name people: never world-readable, whatever the umask (and no umask juggling)."""
    target = tmp_path / "new" / "out.json"
    old = os.umask(0o022)
    try:
        write_text(target, "one")
        write_text(target, "two")
    finally:
        os.umask(old)
    assert target.read_text() == "two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:  # noqa: PT012 - fails mid-write
        handle.write("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
