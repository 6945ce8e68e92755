"""What makes a vector-cache entry trustworthy: its checksums, its meta file, no stale leftovers.

A cache entry is three files (``core.vectors.cache``): the matrix ``.npy``, the vocabulary (one
word per line) and a small JSON meta file. Anything can happen to them between runs (a disk
error, an editor, a killed first open), so a hit is trusted only when the meta file is a JSON
object with every field of the right type, the ``.npy`` header says exactly the recorded dtype,
C order and shape, and both the matrix bytes and the vocabulary bytes have the recorded
checksums. Every way to fail raises :class:`CacheDamaged`, whose message says what was wrong.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
import zlib
from typing import Any

import numpy as np

CACHE_VERSION = 3  # bump when the parsers' output or the entry layout changes
MAX_META_BYTES = 1 << 20  # a meta file is a few hundred bytes (plus any load warnings)
STALE_TEMPORARY_SECONDS = 60.0  # a writer touches its file continuously while it writes
TEMPORARY_PREFIX = ".tmp-"
TEMPORARY_SUFFIX = ".part"
_MKSTEMP_PART = re.compile(r"(\d+-)?[a-z0-9_]{8}")  # [<pid>-] and tempfile's 8 random characters

# The matrix checksum: a weighted sum of the data's 64-bit words modulo 2**64. Word k of block c
# is weighted by the odd number (2k + 1) * golden, each block's sum by the odd (2c + 1) * golden:
# odd weights make any change of a single word (a flipped bit, a NaN written into a row) change
# the total, position-dependent ones catch swapped words. It runs at memory speed in NumPy: 80 MB
# (GloVe 400k x 50) in ~16-22 ms, where zlib.crc32 took ~110 ms and blake2b ~570 on this machine.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_WORDS_AT_ONCE = 1 << 18  # 2 MB of data per block
_WEIGHTS = (np.arange(_WORDS_AT_ONCE, dtype=np.uint64) * np.uint64(2) + np.uint64(1)) * _GOLDEN


class CacheDamaged(ValueError):
    """A cache entry that exists but cannot be trusted; the message says why."""


def matrix_checksum(data: np.ndarray) -> str:
    """The checksum of an array's bytes (C order), as 24 hex digits; see `_GOLDEN`."""
    raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)  # (n_bytes,), no copy if C
    whole = raw.size // 8
    words = raw[:whole * 8].view("<u8")  # (n_bytes // 8,)
    total = np.uint64(0)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        for block, start in enumerate(range(0, whole, _WORDS_AT_ONCE)):
            part = words[start:start + _WORDS_AT_ONCE]
            block_weight = np.uint64((2 * block + 1) % (1 << 64)) * _GOLDEN
            total += block_weight * np.dot(part, _WEIGHTS[:part.size])
    tail = zlib.crc32(raw[whole * 8:].tobytes())
    return f"{int(total):016x}{tail:08x}"


def bytes_checksum(data: np.ndarray | bytes) -> str:
    """CRC-32 of a small buffer (the vocabulary, a few MB), as 8 hex digits."""
    buffer = data if isinstance(data, bytes) else np.ascontiguousarray(data).data
    return f"{zlib.crc32(buffer):08x}"


# --------------------------------------------------------------------------- meta files

_META_FIELDS: dict[str, type | tuple[type, ...]] = {
    "version": int, "kind": str, "source": str, "count": int, "vocabulary_checksum": str,
}
_VECTOR_FIELDS: dict[str, type | tuple[type, ...]] = {
    "format": str, "dim": int, "dtype": str, "matrix_checksum": str, "warnings": list,
}


def read_meta(path: str, kind: str) -> dict[str, Any]:
    """The validated meta dict of an entry of ``kind`` ("vectors" or "vocabulary").

    Raises FileNotFoundError when there is none (a plain miss), CacheDamaged otherwise.
    """
    try:
        text = _read_small_regular_file(path, MAX_META_BYTES)
        info = json.loads(text.decode("utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError, RecursionError) as error:  # ValueError: JSON, UTF-8, digits
        raise CacheDamaged(f"its meta file could not be read ({error})") from None
    if not isinstance(info, dict):
        raise CacheDamaged(f"its meta file holds a JSON {type(info).__name__}, not an object")
    fields = {**_META_FIELDS, **(_VECTOR_FIELDS if kind == "vectors" else {})}
    for name, expected in fields.items():
        value = info.get(name)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise CacheDamaged(f"its meta field {name!r} is {value!r:.60}")
    if info["version"] != CACHE_VERSION or info["kind"] != kind:
        raise CacheDamaged(f"it was written by another version ({info['version']}, "
                           f"{info['kind']})")
    if info["count"] < 0 or info.get("dim", 1) < 1:
        raise CacheDamaged(f"its meta file says {info['count']} words of {info.get('dim')}")
    if not all(isinstance(w, str) for w in info.get("warnings", [])):
        raise CacheDamaged("its meta field 'warnings' holds something other than text")
    return info


def _read_small_regular_file(path: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (never blocks on a FIFO)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return data


def check_matrix(matrix: np.ndarray, info: dict[str, Any]) -> None:
    """The mapped matrix against the meta: dtype, C order, both axes, then the checksum."""
    expected = (info["count"], info["dim"])
    if matrix.dtype.str != info["dtype"] or matrix.shape != expected:
        raise CacheDamaged(f"its matrix is {matrix.shape} {matrix.dtype.str}, the meta file "
                           f"says {expected} {info['dtype']}")
    if matrix.size and not matrix.flags.c_contiguous:
        raise CacheDamaged("its matrix is stored in Fortran (column) order")
    if matrix_checksum(matrix) != info["matrix_checksum"]:
        raise CacheDamaged("its matrix does not match its checksum (changed on disk)")


# --------------------------------------------------------------------------- leftovers


def temporary_prefix() -> str:
    """The prefix of this process's temporary files: the pid lets others tell if we are alive."""
    return f"{TEMPORARY_PREFIX}{os.getpid()}-"


def remove_stale_temporaries(folder: str, now: float | None = None, *,
                             prefix: str = TEMPORARY_PREFIX,
                             suffix: str = TEMPORARY_SUFFIX) -> int:
    """Delete ``<prefix><pid>-*<suffix>`` files left by writers that were killed; return how
    many (by default the cache's ``.tmp-*.part``; core.files.atomic passes its own names).

    A file is stale when it has not been written to for `STALE_TEMPORARY_SECONDS` or its
    writer's process is gone; a live writer's file (recent, its pid running) is left alone.
    """
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0  # no cache folder yet
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        if not _MKSTEMP_PART.fullmatch(name[len(prefix):len(name) - len(suffix)]):
            continue  # not a name mkstemp made for us (a person's own ".notes.backup.tmp")
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if age > STALE_TEMPORARY_SECONDS or _writer_gone(name[len(prefix):]):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # removed meanwhile by another process, or not ours to remove
    return removed


def _writer_gone(rest: str) -> bool:
    """True only when the pid that starts ``rest`` (``<pid>-...``) is certainly not running."""
    pid_text, dash, _ = rest.partition("-")
    if not dash:
        return False  # no pid in the name (an older version's file): age decides
    if os.name != "posix" or not pid_text.isdigit():
        return False  # on Windows os.kill(pid, 0) would terminate the process: age decides
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False  # someone else's process, or not a pid at all: age decides
    return False
