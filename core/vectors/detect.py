"""Checking a word-vector file before reading it, and detecting its format from its content.

Split from :mod:`core.vectors.text_files`. Everything here looks at no more than the first 64 KiB of
a file (or its first line, when that is longer: a row of 20,000 numbers is), so a wrong choice
costs nothing; the parsers then validate the whole file.
"""

from __future__ import annotations

import os
import re
import stat
import struct

from core.vectors.lines import MAX_DIM, max_row_bytes
from core.vectors.text_files import (
    _BOM,
    _SNIFF_BYTES,
    FASTTEXT_MAGIC,
    VectorFileError,
    _looks_like_vector_line,
    _parse_header,
    readable,
)

__all__ = ["check_local_file", "detect_format", "file_problem"]

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-32 LE starts with the UTF-16 LE mark too
_PICKLE_PROTOCOLS = b"\x02\x03\x04\x05"  # the byte after the PROTO opcode 0x80
# A scheme of two or more letters: one letter would be a Windows drive (C:\...).
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")


# --------------------------------------------------------------------------------- checks


def check_local_file(path: str) -> None:
    """Raise :class:`VectorFileError` unless ``path`` is a readable, non-empty local file.

    URLs are refused because gensim's smart_open would happily download them.
    Only regular files are opened: a FIFO or a device would block the loader or never end.
    """
    problem = file_problem(path)
    if problem is not None:
        raise VectorFileError(problem)


def file_problem(path: str) -> str | None:
    """Why ``path`` cannot be a word-vector file (a message naming it), or None when it can.

    Only ``os.stat`` is used before the kind is known: opening a FIFO would block until some
    other program writes to it, and ``/dev/zero`` never ends.
    """
    name, shown = readable(os.path.basename(path) or path), readable(path)
    if _URL_SCHEME.match(path):
        return f"{name}: only local files can be opened, not URLs ({shown})"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"{name}: file not found ({shown})"
    except OSError as e:
        return f"{name}: cannot be read: {e.strerror or e} ({shown})"
    if not stat.S_ISREG(mode):
        return f"{name}: {_kind(mode)} ({shown})"
    if os.path.getsize(path) == 0:
        return f"{name}: file is empty, expected word vectors ({shown})"
    try:  # os.access says yes to root: only opening tells whether reading is allowed
        with open(path, "rb"):
            pass
    except OSError as e:
        return f"{name}: cannot be read: {e.strerror or e} ({shown})"
    return None


def _kind(mode: int) -> str:
    """What a path that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "is a folder, not a word-vector file"
    kinds = [(stat.S_ISFIFO, "a FIFO (a named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]
    what = next((kind for test, kind in kinds if test(mode)), "something else")
    return f"is {what}, not a regular file: expected a word-vector file"


def _is_text(data: bytes) -> bool:
    """True for UTF-8 without NUL bytes; float32 data is almost never that."""
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(data) - 3  # only a character cut off by the sniff's end
    return True


def detect_format(path: str | os.PathLike[str]) -> str:
    """Detect a word-vector file's format from its content (the name only breaks ties).

    Parameters
    ----------
    path : str or os.PathLike
        A local file.

    Returns
    -------
    str
        One of ``VECTOR_FORMATS`` other than ``"auto"``.

    Raises
    ------
    VectorFileError
        When the file is missing, empty, not local or of no known format.
    """
    path = os.fspath(path)
    check_local_file(path)
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    name = readable(os.path.basename(path))
    if len(head) >= 4 and struct.unpack("<i", head[:4])[0] == FASTTEXT_MAGIC:
        return "fasttext_bin"
    if head[:1] == b"\x80" and head[1:2] in _PICKLE_PROTOCOLS:  # gensim's native .kv/.model
        return "gensim_kv"
    if head[:2] == b"\x1f\x8b":
        raise VectorFileError(f"{name}: byte 0: file is gzip-compressed; decompress it first")
    if head[:2] in _UTF16_BOMS:
        raise VectorFileError(f"{name}: byte 0: file is UTF-16/32 encoded; expected UTF-8")
    head = head.removeprefix(_BOM)
    first, newline, rest = head.partition(b"\n")
    if not newline and len(head) >= _SNIFF_BYTES - len(_BOM):
        first = _wide_first_line(path)  # a row of 12,000 numbers is longer than the sniff
    header = _parse_header(first)
    if header is not None:
        second = rest.partition(b"\n")[0]
        if _looks_like_vector_line(second, header[1]) or _is_text(rest):
            return "fasttext_text" if name.lower().endswith(".vec") else "word2vec_text"
        return "word2vec_binary"
    if _looks_like_vector_line(first):
        return "glove_text"
    tabs = " (values are separated by tabs; expected single spaces)" if b"\t" in first else ""
    raise VectorFileError(
        f"{name}: line 1: expected a 'count dim' header, a word followed by numbers, "
        f"a fastText .bin or a gensim .kv file{tabs} ({readable(path)})"
    )


def _wide_first_line(path: str) -> bytes:
    """Line 1 without its newline, up to the longest row allowed (a 20,000-number row is
    ~200 KB); a longer line comes back cut, and then looks like no format at all."""
    with open(path, "rb") as f:
        if f.read(len(_BOM)) != _BOM:
            f.seek(0)
        return f.readline(max_row_bytes(MAX_DIM)).rstrip(b"\n")
