"""files.write_atomic: all at once or not at all, through links, with the usual permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from autograd_mini.files import write_atomic


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    target.write_bytes(b"old contents")

    def half(f: object) -> None:
        f.write(b"new, but only ha")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match=f"cannot write {target}: No space left on device"):
        write_atomic(target, half)
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_a_link_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_a_new_file_gets_the_usual_permissions_and_an_old_one_keeps_its_own(
        tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        fresh = write_atomic(tmp_path / "fresh.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) & 0o644 == 0o644  # readable, as open() makes it
    kept = tmp_path / "kept.txt"
    kept.write_text("x")
    kept.chmod(0o600)
    write_atomic(kept, "y")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_devices_and_folders_are_never_replaced(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        write_atomic(tmp_path, "x")
    if os.path.exists("/dev/null"):
        with pytest.raises(OSError, match="it is not a regular file"):
            write_atomic("/dev/null", "x")
        assert Path("/dev/null").is_char_device()
