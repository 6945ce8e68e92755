"""The one error a checkpoint can raise, and reading its small files with a bound."""

from __future__ import annotations

import os
import stat

__all__ = ["ModelError", "check_regular_file", "read_bounded"]


class ModelError(ValueError):
    """A checkpoint, its files or a text cannot be used; the message names the file and why."""


def check_regular_file(path: str, what: str) -> os.stat_result:
    """The file's status, or a ModelError when it is missing or not a regular file (a FIFO,
    a device or a folder would hang or never end when read)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ModelError(f"{path}: {what} is missing") from None
    except OSError as error:
        raise ModelError(f"{path}: cannot read {what} ({error.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise ModelError(f"{path}: {what} is {kind}")
    return info


def read_bounded(path: str, limit: int, what: str) -> str:
    """A small UTF-8 file's text, refusing files over ``limit`` bytes before reading them."""
    info = check_regular_file(path, what)
    if info.st_size > limit:
        raise ModelError(f"{path}: {what} is {info.st_size:,} bytes; expected at most {limit:,}")
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        raise ModelError(f"{path}: cannot read {what} ({error.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ModelError(f"{path}: {what} is not UTF-8 text (byte {error.start})") from None
