"""A safe, fast cache of parsed word-vector files.

Parsing a large text file takes seconds; reopening it should not. After the first load the matrix
is saved as a plain ``.npy`` (reopened memory-mapped, ``allow_pickle=False``: nothing in the cache
can run code, unlike gensim's pickled ``.kv``) next to a UTF-8 vocabulary, one word per line, and
a JSON meta file. Entries are keyed by the source's absolute path, size, modification time, inode
and status-change time, so an edited file is parsed again even when the edit kept its mtime
(``cp -p``, ``rsync -t``). Every file is written to a temporary name and moved into place, so a
crash never leaves a half-written entry; temporaries of killed writers are removed on the next
open. A hit is checked whole (``core.vectors.cache_checks``: meta fields, dtype, order, shape,
checksums of matrix and vocabulary); a damaged entry is removed and rebuilt from the source, and
the rebuild is reported through :func:`save_cached`'s note.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from core.vectors.cache_checks import (
    CACHE_VERSION,
    MAX_META_BYTES,
    TEMPORARY_SUFFIX,
    CacheDamaged,
    bytes_checksum,
    check_matrix,
    matrix_checksum,
    read_meta,
    remove_stale_temporaries,
    temporary_prefix,
)
from core.vectors.vocabulary import Vocabulary

__all__ = ["APP_NAME", "CACHE_VERSION", "CacheEntry", "cache_key", "default_cache_dir",
           "load_cached", "load_vocabulary", "save_cached", "save_vocabulary"]

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
    """A file-name-safe key for ``path`` as it is now.

    Path, size and mtime alone miss an edit whose mtime was put back (``cp -p``, ``rsync -t``);
    the inode changes when a file is replaced and the status-change time on every write, and
    neither can be set back by a program.
    """
    st = os.stat(path)
    parts = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns,
             CACHE_VERSION)
    ident = "\0".join(str(p) for p in parts)
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _paths(cache_dir: str, key: str) -> tuple[str, str, str]:
    base = os.path.join(cache_dir, key)
    return base + ".npy", base + ".vocab.txt", base + ".json"


# Why an entry was found damaged, by key, until the rebuilt entry is saved: load.py parses the
# source after a miss and reports what save_cached returns (kv.load_warnings).
_rebuilt: dict[str, str] = {}
_rebuilt_lock = threading.Lock()


def load_cached(path: str, fmt: str, cache_dir: str) -> CacheEntry | None:
    """Return the cached vectors for ``path``, or None when there is no valid entry.

    ``fmt`` may be ``"auto"``: the entry records the detected format, so a hit needs no look
    at the source at all. A damaged or mismatched entry counts as a miss: it is removed, the
    source is parsed again and the entry rewritten, which is always safe; :func:`save_cached`
    then returns a note saying what was wrong with the old one.
    """
    remove_stale_temporaries(cache_dir)
    try:
        key = cache_key(path)
    except OSError:
        return None  # the source is gone: load.py says so
    npy, vocab, meta = _paths(cache_dir, key)
    try:
        info = read_meta(meta, "vectors")
        if fmt not in ("auto", info["format"]):
            return None  # the same file read as another format: a plain miss
        words = _read_words(vocab, info)
        matrix = np.load(npy, mmap_mode="r", allow_pickle=False)
        check_matrix(matrix, info)
        _release_pages(matrix)
    except FileNotFoundError:
        if os.path.exists(meta):  # the meta file is there, a data file is not
            lost = "matrix" if os.path.exists(vocab) else "vocabulary"
            _forget(key, cache_dir, f"its {lost} file was missing")
        return None
    except (CacheDamaged, OSError, ValueError, TypeError) as error:
        _forget(key, cache_dir, str(error))
        return None
    return CacheEntry(words, matrix, list(info["warnings"]))


def _release_pages(matrix: np.ndarray) -> None:
    """Give back the pages the checksum just read: the mapping stays, and what is used later is
    read again from the kernel's page cache. Without this a cached 3,000,000 x 300 set added
    3.5 GB to the process's resident memory at every open (file pages, but counted as ours)."""
    mapping = getattr(matrix, "_mmap", None)  # numpy.memmap's own mmap.mmap
    if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mapping.madvise(mmap.MADV_DONTNEED)  # clean, read-only file pages: nothing is lost
        except (OSError, ValueError):
            pass  # only a saving


def _read_words(vocab: str, info: dict[str, Any]) -> Vocabulary:
    """The vocabulary file, checked against the meta's checksum and count."""
    # Raw bytes into one buffer: 3,000,000 words cost ~50 MB instead of ~200 MB as Python
    # strings (core.vectors.vocabulary).
    blob = np.fromfile(vocab, dtype=np.uint8)
    if bytes_checksum(blob) != info["vocabulary_checksum"]:
        raise CacheDamaged("its vocabulary does not match its checksum (changed on disk)")
    count = info["count"]
    return Vocabulary.from_utf8_lines(blob, count) if count else Vocabulary([])


def _forget(key: str, cache_dir: str, reason: str) -> None:
    """Remove a damaged entry's files and remember why, for the note after the rebuild."""
    for name in _paths(cache_dir, key):
        try:
            os.unlink(name)
        except OSError:
            pass  # already gone, or read-only: the rewrite replaces it anyway
    with _rebuilt_lock:
        _rebuilt[key] = reason


def _rebuilt_note(key: str, path: str) -> str | None:
    with _rebuilt_lock:
        reason = _rebuilt.pop(key, None)
    if reason is None:
        return None
    return f"the vector cache entry for {os.path.basename(path)} was damaged ({reason}); " \
        "it was rebuilt from the file"


def _write_atomically(target: str, write: Callable[[BinaryIO], object]) -> None:
    """Write through ``write(file)`` into a temporary file, then move it onto ``target``.

    The temporary's name carries our pid, so a later open can tell a killed writer's leftover
    (`remove_stale_temporaries`) from a file another process is still writing.
    """
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=temporary_prefix(),
                               suffix=TEMPORARY_SUFFIX)
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
    """Save an entry for ``path``; return a note to show, or None.

    The note says why the entry could not be written (a cache is an optimisation: a read-only
    or full disk must never stop a load), or that a damaged entry was rebuilt.
    """
    if _has_line_breaks(words):
        return _LINE_BREAK
    try:
        key = cache_key(path)
        os.makedirs(cache_dir, exist_ok=True)
        npy, vocab, meta = _paths(cache_dir, key)
        matrix = np.ascontiguousarray(matrix)  # (n_words, dim)
        lines = _utf8_lines(words)
        info = entry_meta(path, fmt, lines, matrix, warnings)
        _write_atomically(npy, lambda f: np.save(f, matrix))
        _write_atomically(vocab, lambda f: f.write(lines))
        _write_atomically(meta, lambda f: f.write(json.dumps(info).encode("utf-8")))
    except (OSError, ValueError) as e:
        return f"could not write the vector cache in {cache_dir}: {e}"
    _remove_older_entries(cache_dir, key, info["source"])
    return _rebuilt_note(key, path)


def entry_meta(path: str, fmt: str, lines: bytes, matrix: np.ndarray,
               warnings: list[str]) -> dict[str, Any]:
    """The meta file of the entry for ``path``: ``lines`` is its vocabulary file (one UTF-8 word
    a line), ``matrix`` (n_words, dim) its matrix (a memory-mapped one is read in blocks)."""
    return {
        "version": CACHE_VERSION, "kind": "vectors", "source": os.path.abspath(path),
        "format": fmt, "count": int(matrix.shape[0]), "dim": int(matrix.shape[1]),
        "dtype": matrix.dtype.str, "matrix_checksum": matrix_checksum(matrix),
        "vocabulary_checksum": bytes_checksum(lines), "warnings": list(warnings),
    }


def _remove_older_entries(cache_dir: str, key: str, source: str) -> None:
    """Entries of the same source under an older key (the file changed since): never hit
    again, so they would only fill the disk (each as large as the matrix)."""
    try:
        metas = [e for e in os.scandir(cache_dir) if e.name.endswith(".json")]
    except OSError:
        return
    for entry in metas:
        other = entry.name.removesuffix(".json")
        if other == key or entry.stat().st_size > MAX_META_BYTES:
            continue
        try:
            with open(entry.path, encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, ValueError, RecursionError):
            continue  # not ours to judge: the next open of its own source does
        if isinstance(info, dict) and info.get("source") == source:
            for name in _paths(cache_dir, other):
                try:
                    os.unlink(name)
                except OSError:
                    pass


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
    remove_stale_temporaries(cache_dir)  # the default set's start goes through here only
    try:
        vocab, meta = _paths(cache_dir, cache_key(source))[1:]
        info = read_meta(meta, "vocabulary")
        if info["count"] != count:
            raise CacheDamaged(f"it holds {info['count']} words, not {count}")
        return _read_words(vocab, info)
    except FileNotFoundError:
        return None
    except (CacheDamaged, OSError, ValueError):
        return None  # read from the source again and rewritten: nothing was shown from it


def save_vocabulary(source: str, cache_dir: str, words: Vocabulary) -> str | None:
    """Cache the words read from ``source``; a warning message instead of raising on failure."""
    if words.has_line_breaks():
        return _LINE_BREAK
    try:
        os.makedirs(cache_dir, exist_ok=True)
        vocab, meta = _paths(cache_dir, cache_key(source))[1:]
        lines = words.utf8_lines()
        info = {"version": CACHE_VERSION, "kind": "vocabulary",
                "source": os.path.abspath(source), "count": len(words),
                "vocabulary_checksum": bytes_checksum(lines)}
        _write_atomically(vocab, lambda f: f.write(lines))
        _write_atomically(meta, lambda f: f.write(json.dumps(info).encode("utf-8")))
    except (OSError, ValueError) as e:
        return f"could not write the vector cache in {cache_dir}: {e}"
    return None
