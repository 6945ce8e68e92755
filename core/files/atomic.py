"""Write a file all at once or not at all.

Every export and session save goes through :func:`write_atomically`: the bytes go to a temporary
file in the target's folder, are flushed to disk, and only then renamed over the target. A crash,
a full disk or a failing writer therefore never leaves a half-written figure or session behind,
and an existing file is either fully replaced or untouched.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.vectors.cache_checks import remove_stale_temporaries

Writer = Callable[[BinaryIO], None]


class ExportError(OSError, ValueError):
    """A file could not be written (or the request was invalid); the message says which and why.

    It is both an ``OSError`` (the file system said no) and a ``ValueError`` (an unknown suffix, a
    bad option), like :class:`io.UnsupportedOperation`, so callers may catch either.
    """


def write_atomically(path: str | os.PathLike[str], data: bytes | str | Writer) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Parameters
    ----------
    path
        The target file. Its folder must exist.
    data
        Bytes, text (written as UTF-8) or a callable that writes into a binary file object.

    Raises
    ------
    ExportError
        The folder is missing or not a folder, permission is denied, the disk is full, or the
        writer failed. The target is left as it was and no temporary file remains.
    """
    target = Path(path)
    if target.is_symlink():  # update the file the link points at; do not replace the link
        target = target.resolve()
    folder = target.parent
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "does not exist"
        raise ExportError(f"Cannot write {target}: the folder {folder} {reason}.")
    if target.is_dir():
        raise ExportError(f"Cannot write {target}: it is a folder.")
    # A writer killed mid-write (kill -9, power cut) left its temporary: the name carries the
    # pid, so the next save of the same file can tell it from one still being written.
    remove_stale_temporaries(str(folder), prefix=f".{target.name}.", suffix=".tmp")
    try:
        # Same folder as the target, so os.replace is a rename on one file system (atomic).
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp",
                                         dir=folder)
    except OSError as error:
        raise ExportError(_message(target, error)) from error
    try:
        with os.fdopen(fd, "wb") as stream:
            _write(stream, data)
            stream.flush()
            os.fsync(stream.fileno())  # the bytes are on disk before the name points at them
        _match_permissions(temp_name, target)
        os.replace(temp_name, target)
    except BaseException as error:
        _remove_quietly(temp_name)
        if isinstance(error, ExportError):
            raise
        if isinstance(error, OSError | ValueError | TypeError):
            raise ExportError(_message(target, error)) from error
        raise  # KeyboardInterrupt and friends: clean up, but do not disguise them


def _write(stream: BinaryIO, data: bytes | str | Writer) -> None:
    if isinstance(data, str):
        stream.write(data.encode("utf-8"))
    elif isinstance(data, bytes | bytearray | memoryview):
        stream.write(data)
    elif callable(data):
        data(stream)
    else:
        raise TypeError(f"expected bytes, str or a writer callable, got {type(data).__name__}")


def _match_permissions(temp_name: str, target: Path) -> None:
    """Give the new file the usual permissions (mkstemp makes it private, 0600)."""
    if target.exists():
        mode = target.stat().st_mode & 0o777
    else:
        umask = os.umask(0)
        os.umask(umask)  # reading the umask needs setting it; put it straight back
        mode = 0o666 & ~umask
    try:
        os.chmod(temp_name, mode)
    except OSError:
        pass  # some file systems (FAT, network shares) refuse chmod; the content still matters


def _message(target: Path, error: BaseException) -> str:
    """A sentence a person can act on, naming the file and the reason."""
    code = getattr(error, "errno", None)
    if isinstance(error, PermissionError) or code in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "permission denied (choose a folder you can write to)"
    elif code == errno.ENOSPC or code == errno.EDQUOT:
        reason = "the disk is full (free some space or choose another drive)"
    elif (isinstance(error, FileNotFoundError) or code == errno.ENOENT) and \
            target.parent.is_dir():  # /proc, /sys: a folder that takes no new files
        reason = "the folder is not a regular folder: no file can be created in it"
    elif isinstance(error, FileNotFoundError) or code == errno.ENOENT:
        reason = "the folder does not exist"
    elif code == errno.ENOTDIR:
        reason = "part of the path is a file, not a folder"
    elif code == errno.ENAMETOOLONG:
        reason = "the file name is too long"
    else:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return f"Cannot write {target}: {reason}."


def _remove_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass  # already gone, or the folder vanished: nothing left to clean
