"""Where a command line's output goes: checked before anything is loaded, in true words.

A folder can exist and still take no files: ``/proc`` (a virtual file system: creating a file
there fails with "No such file or directory"), a read-only mount, a folder without write
permission (as root ``os.access`` says yes to all of them). So the check asks the file system:
it creates and removes a temporary file in the folder, and reports the OS's own reason when that
fails. A name longer than the file system allows is said as such, never as a traceback.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

SCREENSHOT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm")
"""Image types Qt's bundled writers save (QImageWriter.supportedImageFormats)."""


def output_problem(path: str, suffixes: Sequence[str]) -> str | None:
    """None when ``path`` has a known suffix and its folder takes new files; else what is wrong,
    e.g. "the folder /proc is not a regular folder: ... (No such file or directory)"."""
    suffix = Path(path).suffix.lower()
    if suffix not in suffixes:
        found = repr(suffix) if suffix else "no suffix"
        return f"unknown file type ({found}); use one of {', '.join(suffixes)}"
    try:
        return _place_problem(Path(path))
    except OSError as error:  # stat itself failed: a name too long, a loop of links...
        return _reason(error, Path(path))


def _place_problem(target: Path) -> str | None:
    folder = target.parent
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if target.is_dir():
        return "is a folder"
    if target.exists() and not stat.S_ISREG(target.stat().st_mode):
        return "is not a regular file (a device, a pipe...), and an export would replace it"
    if len(os.fsencode(target.name)) > _name_max(folder):
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), str(target))
    try:
        fd, probe = tempfile.mkstemp(prefix=".attention-explorer-", suffix=".probe", dir=folder)
    except OSError as error:
        return _folder_refuses(folder, error)
    os.close(fd)
    os.unlink(probe)
    return None


def _name_max(folder: Path) -> int:
    """The longest file name (in bytes) the folder's file system allows; 255 when unknown."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def _folder_refuses(folder: Path, error: OSError) -> str:
    """Why a file cannot be created in an existing folder, in the OS's words too."""
    why = error.strerror or str(error)
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"the folder {folder} is not writable ({why})"
    if error.errno == errno.EROFS:
        return f"the folder {folder} is on a read-only file system ({why})"
    if error.errno in (errno.ENOENT, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return f"{folder} is not a regular folder: no file can be created in it ({why})"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk holding {folder} is full ({why})"
    return f"no file can be created in {folder} ({why})"


def _reason(error: OSError, target: Path) -> str:
    if error.errno != errno.ENAMETOOLONG:
        return error.strerror or str(error)
    name, whole = len(os.fsencode(target.name)), len(os.fsencode(str(target)))
    name_max = _name_max_of_nearest(target)
    if name > name_max:
        return f"name too long: the file name is {name} bytes, the file system allows {name_max}"
    return f"name too long: the path is {whole} bytes, more than the system allows"


def _name_max_of_nearest(target: Path) -> int:
    """NAME_MAX of the nearest folder above ``target`` that exists."""
    for folder in target.parents:
        try:
            if folder.is_dir():
                return _name_max(folder)
        except OSError:
            continue
    return 255
