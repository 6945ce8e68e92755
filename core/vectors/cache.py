"""A safe, fast cache of parsed word-vector files.

Parsing a large text file takes seconds; reopening it should not. After the first load the matrix
is saved as a plain ``.npy`` (reopened memory-mapped, ``allow_pickle=False``: nothing in the cache
can run code, unlike gensim's pickled ``.kv``) next to a UTF-8 vocabulary, one word per line.
Entries are keyed by the source's absolute path, size and modification time, so an edited file is
parsed again. Every file is written to a temporary name and moved into place, so a crash never
leaves a half-written entry that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from core.vectors.vocabulary import Vocabulary

CACHE_VERSION = 2  # bump when the parsers' output changes, to ignore older entries
APP_NAME = "attention-explorer"


@dataclass(frozen=True)
class CacheEntry:
    """What a cache hit gives back."""

    words: Vocabulary
    matrix: np.ndarray  # (n_words, dim), read-only memory map
    warnings: list[str]


def default_cache_dir() -> str:
    """The per-user cache folder (platformdirs), created on first write."""
    import platformdirs

    return platformdirs.user_cache_dir(APP_NAME)


def cache_key(path: str) -> str:
    """A file-name-safe key for ``path`` as it is now (absolute path, size, mtime)."""
    stat = os.stat(path)
    ident = f"{os.path.abspath(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\0{CACHE_VERSION}"
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _paths(cache_dir: str, key: str) -> tuple[str, str, str]:
    base = os.path.join(cache_dir, key)
    return base + ".npy", base + ".vocab.txt", base + ".json"


def load_cached(path: str, fmt: str, cache_dir: str) -> CacheEntry | None:
    """Return the cached vectors for ``path``, or None when there is no valid entry.

    ``fmt`` may be ``"auto"``: the entry records the detected format, so a hit needs no look
    at the source at all. A damaged or mismatched entry counts as a miss: the source is parsed
    again and the entry rewritten, which is always safe.
    """
    npy, vocab, meta = _paths(cache_dir, cache_key(path))
    try:
        with open(meta, encoding="utf-8") as f:
            info = json.load(f)
        if fmt not in ("auto", info.get("format")):
            return None
        matrix = np.load(npy, mmap_mode="r", allow_pickle=False)
        count = int(info.get("count", -1))
        if matrix.ndim != 2 or matrix.shape[0] != count:
            return None
        # Raw bytes into one buffer: 3,000,000 words cost ~50 MB instead of ~200 MB as Python
        # strings (core.vectors.vocabulary).
        blob = np.fromfile(vocab, dtype=np.uint8)
        words = Vocabulary.from_utf8_lines(blob, count) if count else Vocabulary([])
    except (OSError, ValueError, TypeError):
        return None
    return CacheEntry(words, matrix, list(info.get("warnings", [])))


def _write_atomically(target: str, write: Callable[[BinaryIO], object]) -> None:
    """Write through ``write(file)`` into a temporary file, then move it onto ``target``."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def save_cached(
    path: str, fmt: str, cache_dir: str, words: Sequence[str], matrix: np.ndarray,
    warnings: list[str],
) -> str | None:
    """Save an entry for ``path``; return a warning message instead of raising on failure.

    A cache is an optimisation: a read-only or full disk must never stop a load.
    """
    if _has_line_breaks(words):
        return _LINE_BREAK
    try:
        os.makedirs(cache_dir, exist_ok=True)
        npy, vocab, meta = _paths(cache_dir, cache_key(path))
        info = {
            "source": os.path.abspath(path),
            "format": fmt,
            "count": len(words),
            "dim": int(matrix.shape[1]),
            "warnings": warnings,
        }
        _write_atomically(npy, lambda f: np.save(f, np.ascontiguousarray(matrix)))
        _write_atomically(vocab, lambda f: f.write(_utf8_lines(words)))
        _write_atomically(meta, lambda f: f.write(json.dumps(info).encode("utf-8")))
    except (OSError, ValueError) as e:
        return f"could not write the vector cache in {cache_dir}: {e}"
    return None


# ------------------------------------------------------------------------ vocabularies alone

_LINE_BREAK = "not cached: a word contains a line break, which the vocabulary file cannot hold"


def _has_line_breaks(words: Sequence[str]) -> bool:
    if isinstance(words, Vocabulary):
        return words.has_line_breaks()
    return any("\n" in w for w in words)


def _utf8_lines(words: Sequence[str]) -> bytes:
    if isinstance(words, Vocabulary):
        return words.utf8_lines()
    return "\n".join(words).encode("utf-8")


def load_vocabulary(source: str, count: int, cache_dir: str) -> Vocabulary | None:
    """The cached ``count`` words read from ``source`` (a file in a format this cache does not
    parse, e.g. the default set's Parquet word list), or None without a valid entry."""
    try:
        vocab = _paths(cache_dir, cache_key(source))[1]
        return Vocabulary.from_utf8_lines(np.fromfile(vocab, dtype=np.uint8), count)
    except (OSError, ValueError):
        return None


def save_vocabulary(source: str, cache_dir: str, words: Vocabulary) -> str | None:
    """Cache the words read from ``source``; a warning message instead of raising on failure."""
    if words.has_line_breaks():
        return _LINE_BREAK
    try:
        os.makedirs(cache_dir, exist_ok=True)
        vocab = _paths(cache_dir, cache_key(source))[1]
        _write_atomically(vocab, lambda f: f.write(words.utf8_lines()))
    except (OSError, ValueError) as e:
        return f"could not write the vector cache in {cache_dir}: {e}"
    return None
