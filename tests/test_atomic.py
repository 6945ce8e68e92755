"""Atomic writes: the target is fully replaced or left exactly as it was, never half written."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from core.files.atomic import ExportError, write_atomically


def leftovers(folder):  # noqa: ANN001, ANN201
    """Temporary files write_atomically may have left behind."""
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x01bytes", b"\x00\x01bytes"),
        ("text · ünïcode", "text · ünïcode".encode()),
        (lambda stream: stream.write(b"from a writer"), b"from a writer"),
    ],
)
def test_writes_bytes_text_and_writer_output(tmp_path, data, expected):
    target = tmp_path / "out.bin"
    write_atomically(target, data)
    assert target.read_bytes() == expected
    assert leftovers(tmp_path) == []


def test_replaces_an_existing_file_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_atomically(str(target), "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_the_usual_permissions_not_private_temp_ones(tmp_path):
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644


def test_a_symlink_keeps_pointing_at_the_updated_file(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomically(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_export_error_is_both_os_and_value_error():
    assert issubclass(ExportError, OSError)
    assert issubclass(ExportError, ValueError)


def test_missing_folder_names_the_path_and_reason(tmp_path):
    target = tmp_path / "no" / "such" / "folder" / "out.json"
    with pytest.raises(ExportError) as info:
        write_atomically(target, "x")
    message = str(info.value)
    assert str(target) in message
    assert "does not exist" in message
    assert not (tmp_path / "no").exists()


def test_parent_is_a_regular_file(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep")
    with pytest.raises(ExportError, match="not a folder"):
        write_atomically(blocker / "out.png", b"x")
    assert blocker.read_text() == "keep"


def test_target_is_a_folder(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        write_atomically(tmp_path / "folder.csv", "x")


def test_disk_full_midway_keeps_the_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "figure.png"
    target.write_bytes(b"the previous figure")

    def writer(stream):  # noqa: ANN001, ANN202
        stream.write(b"half of the new figure")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ExportError) as info:
        write_atomically(target, writer)
    assert "disk is full" in str(info.value)
    assert str(target) in str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    assert target.read_bytes() == b"the previous figure"
    assert leftovers(tmp_path) == []


def test_permission_denied_on_replace_keeps_the_old_file(tmp_path, monkeypatch):
    # We run as root, so a read-only folder would not stop us: simulate the refusal instead.
    target = tmp_path / "session.json"
    target.write_text("old session")

    def refuse(src, dst):  # noqa: ANN001, ANN202
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ExportError, match="permission denied") as info:
        write_atomically(target, "new session")
    assert str(target) in str(info.value)
    assert target.read_text() == "old session"
    assert leftovers(tmp_path) == []


def test_permission_denied_creating_the_temp_file(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match="permission denied"):
        write_atomically(tmp_path / "x.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_writer_raising_value_error_becomes_export_error(tmp_path):
    def writer(stream):  # noqa: ANN001, ANN202
        raise ValueError("cannot encode this")

    with pytest.raises(ExportError, match="cannot encode this"):
        write_atomically(tmp_path / "x.npz", writer)
    assert list(tmp_path.iterdir()) == []


def test_bad_data_type_is_an_export_error(tmp_path):
    with pytest.raises(ExportError, match="expected bytes"):
        write_atomically(tmp_path / "x", 42)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_interrupt_is_not_disguised_but_still_cleaned_up(tmp_path):
    def writer(stream):  # noqa: ANN001, ANN202
        stream.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "x", writer)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_takes_no_new_files_is_not_called_missing():
    # /proc exists but no file can be created in it (the export dialog can point there).
    with pytest.raises(ExportError) as caught:
        write_atomically("/proc/figure.json", "{}")
    message = str(caught.value)
    assert "does not exist" not in message and "/proc/figure.json" in message, message
