"""A corpus of damaged vector-cache entries: each must be noticed and rebuilt, never believed.

Every case opens a small GloVe file once (which writes the cache entry), damages one of the
entry's three files (matrix ``.npy``, vocabulary, JSON meta) the way a disk error, an editor or
another program could, and opens the file again. The second open must give exactly the vectors
of the file (not the damaged ones), say in ``kv.load_warnings`` that the cache entry was rebuilt,
and leave a good entry behind, so the third open is a quiet hit. Each open runs in a daemon
thread joined with a timeout, as in tests/test_bad_vector_files.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bounded import within

from core.vectors import cache as vector_cache
from core.vectors.cache_checks import STALE_TEMPORARY_SECONDS, remove_stale_temporaries
from core.vectors.load import load_vectors

ROWS = ["the 0.1 0.2 0.3", "cat 0.4 0.5 0.6", "sat -1 2 3.5", "mat 1e-3 2E2 -0"]
WORDS = ["the", "cat", "sat", "mat"]
MATRIX = np.array([[float(v) for v in r.split()[1:]] for r in ROWS], dtype=np.float32)  # (4, 3)
TIMEOUT = 10.0
REBUILT = "was rebuilt"


def open_in_thread(path: Path, cache: Path) -> Any:
    outcome = within(TIMEOUT, load_vectors, path, cache_dir=cache)
    assert not isinstance(outcome, BaseException), outcome
    return outcome


def entry(cache: Path, suffix: str) -> Path:
    (found,) = [p for p in cache.iterdir() if p.name.endswith(suffix)]
    return found


# ----------------------------------------------------------------------------- damage


Damage = Callable[[Path], None]


def edit_meta(change: Callable[[dict[str, Any]], Any]) -> Damage:
    def damage(cache: Path) -> None:
        meta = entry(cache, ".json")
        info = json.loads(meta.read_text())
        new = change(info)
        meta.write_text(json.dumps(info if new is None else new))

    return damage


def set_meta(key: str, value: Any) -> Damage:
    return edit_meta(lambda info: info.__setitem__(key, value))


def write_meta(text: str) -> Damage:
    return lambda cache: entry(cache, ".json").write_text(text)


def patch_bytes(suffix: str, change: Callable[[bytearray], None]) -> Damage:
    def damage(cache: Path) -> None:
        target = entry(cache, suffix)
        data = bytearray(target.read_bytes())
        change(data)
        target.write_bytes(bytes(data))

    return damage


def npy_data_offset(data: bytearray) -> int:
    return data.index(b"\n") + 1  # the header line ends the .npy header


def flip_matrix_byte(data: bytearray) -> None:
    data[npy_data_offset(data) + 5] ^= 0x10


def nan_into_row(data: bytearray) -> None:
    start = npy_data_offset(data) + 4 * 3 * 2  # row 2, column 0
    data[start:start + 4] = np.array([np.nan], "<f4").tobytes()


def fortran_flip(data: bytearray) -> None:
    start = data.index(b"'fortran_order': False")
    data[start:start + 22] = b"'fortran_order': True "[:22]


def resave_matrix(make: Callable[[np.ndarray], np.ndarray]) -> Damage:
    def damage(cache: Path) -> None:
        target = entry(cache, ".npy")
        np.save(target, make(np.load(target)))

    return damage


def swap_vocabulary_lines(cache: Path) -> None:
    vocab = entry(cache, ".vocab.txt")
    lines = vocab.read_bytes().split(b"\n")
    lines[1], lines[2] = lines[2], lines[1]
    vocab.write_bytes(b"\n".join(lines))


def remove(suffix: str) -> Damage:
    return lambda cache: entry(cache, suffix).unlink()


@dataclass(frozen=True)
class Case:
    name: str
    damage: Damage
    reason: str  # a fragment of the rebuild note


CASES = [
    Case("meta is a JSON list", write_meta("[1, 2, 3]"), "JSON list"),
    Case("meta warnings is a number", set_meta("warnings", 7), "'warnings'"),
    Case("meta warnings holds numbers", set_meta("warnings", [1, 2]), "'warnings'"),
    Case("meta count is text", set_meta("count", "4"), "'count'"),
    Case("meta count is true", set_meta("count", True), "'count'"),
    Case("meta count too small", set_meta("count", 3), "expected 3 lines"),
    Case("meta dim wrong", set_meta("dim", 4), "says (4, 4)"),
    Case("meta is not JSON", write_meta("{not json"), "could not be read"),
    Case("meta has a 5,000-digit number", write_meta('{"count": ' + "9" * 5000 + "}"),
         "could not be read"),
    Case("meta nested 3,000 deep", write_meta("[" * 3000 + "]" * 3000), "could not be read"),
    Case("meta from another version", set_meta("version", 1), "another version"),
    Case("meta checksum missing", edit_meta(lambda info: info.pop("matrix_checksum") and None),
         "'matrix_checksum'"),
    Case("a flipped byte in the matrix", patch_bytes(".npy", flip_matrix_byte), "checksum"),
    Case("NaN written into a row", patch_bytes(".npy", nan_into_row), "checksum"),
    Case("fortran_order flipped in the header", patch_bytes(".npy", fortran_flip), "Fortran"),
    Case("matrix with other columns", resave_matrix(lambda m: np.hstack([m, m])), "(4, 6)"),
    Case("matrix as float64", resave_matrix(lambda m: m.astype(np.float64)), "<f8"),
    Case("matrix rows swapped", resave_matrix(lambda m: m[[1, 0, 2, 3]]), "checksum"),
    Case("matrix truncated", patch_bytes(".npy", lambda d: d.__delitem__(slice(-8, None))),
         "mmap length"),
    Case("vocabulary lines swapped", swap_vocabulary_lines, "vocabulary"),
    Case("vocabulary missing", remove(".vocab.txt"), "missing"),
    Case("matrix missing", remove(".npy"), "missing"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_damaged_entry_is_rebuilt_with_a_note(case: Case, tmp_path: Path) -> None:
    source = tmp_path / "small.txt"
    source.write_text("\n".join(ROWS) + "\n")
    cache = tmp_path / "cache"
    first = open_in_thread(source, cache)
    assert first.load_warnings == []
    case.damage(cache)
    again = open_in_thread(source, cache)
    assert again.index_to_key == WORDS
    np.testing.assert_array_equal(np.asarray(again.vectors), MATRIX)
    notes = [w for w in again.load_warnings if REBUILT in w]
    assert notes and case.reason in notes[0] and "small.txt" in notes[0], again.load_warnings
    third = open_in_thread(source, cache)  # a quiet hit on the rebuilt entry
    assert isinstance(third.vectors, np.memmap) and third.load_warnings == []
    np.testing.assert_array_equal(np.asarray(third.vectors), MATRIX)


def test_an_edit_with_its_mtime_put_back_is_parsed_again(tmp_path: Path) -> None:
    """cp -p / rsync -t keep size and mtime: the key's inode and ctime still see the edit."""
    source = tmp_path / "small.txt"
    source.write_text("\n".join(ROWS) + "\n")
    cache = tmp_path / "cache"
    open_in_thread(source, cache)
    before = source.stat()
    source.write_text("\n".join(ROWS).replace("cat", "dog") + "\n")  # same size
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert source.stat().st_size == before.st_size
    assert open_in_thread(source, cache).index_to_key == ["the", "dog", "sat", "mat"]
    assert len(list(cache.glob("*.npy"))) == 1, "the entry of the old content was left behind"


# ----------------------------------------------------------------------------- leftovers

_WRITER = textwrap.dedent("""
    import sys, time
    from core.vectors import cache
    def write(f):
        f.write(b"half a matrix")
        f.flush()
        print("writing", flush=True)
        time.sleep(600)
    cache._write_atomically(sys.argv[1], write)
""")


def start_writer(target: Path) -> subprocess.Popen[str]:
    """A process in the middle of writing a cache file (it waits inside the write)."""
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], text=True,
                              stdout=subprocess.PIPE, cwd=Path(__file__).parent.parent)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    return writer


def temporaries(cache: Path) -> list[str]:
    return [p.name for p in cache.iterdir() if p.name.endswith(".part")]


def test_a_writer_killed_mid_write_leaves_nothing_after_the_next_open(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    writer = start_writer(cache / "entry.npy")
    assert len(temporaries(cache)) == 1
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=TIMEOUT)
    source = tmp_path / "small.txt"
    source.write_text("\n".join(ROWS) + "\n")
    assert open_in_thread(source, cache).index_to_key == WORDS
    assert temporaries(cache) == [] and not (cache / "entry.npy").exists()


def test_a_running_writers_file_is_left_alone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    writer = start_writer(cache / "entry.npy")
    try:
        source = tmp_path / "small.txt"
        source.write_text("\n".join(ROWS) + "\n")
        open_in_thread(source, cache)
        assert len(temporaries(cache)) == 1, "a live writer's file was removed"
        # The same file, untouched for longer than a writer ever pauses, counts as stale.
        later = time.time() + STALE_TEMPORARY_SECONDS + 1
        assert remove_stale_temporaries(str(cache), now=later) == 1
        assert temporaries(cache) == []
    finally:
        writer.kill()
        writer.wait(timeout=TIMEOUT)


def test_vocabulary_only_entries_are_checked_too(tmp_path: Path) -> None:
    """The default set's word list is cached alone; a swapped pair of lines is a miss."""
    from core.vectors.vocabulary import Vocabulary

    source = tmp_path / "words.parquet"
    source.write_bytes(b"stands for a word list the cache does not parse")
    assert vector_cache.save_vocabulary(str(source), str(tmp_path), Vocabulary(WORDS)) is None
    assert vector_cache.load_vocabulary(str(source), 4, str(tmp_path)) == WORDS
    vocab = next(tmp_path.glob("*.vocab.txt"))
    vocab.write_bytes(b"the\nsat\ncat\nmat")
    assert vector_cache.load_vocabulary(str(source), 4, str(tmp_path)) is None


# ----------------------------------------------------------------------------- memory


def _resident_mb() -> float:
    """This process's resident memory (Linux's /proc)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_opening_a_cached_entry_reads_its_checksum_but_keeps_no_pages(tmp_path: Path) -> None:
    """Every open checks the whole matrix against its checksum; the pages that read are given
    back, so a big cached set costs its vocabulary, not its matrix (3.5 GB at 3,000,000 x 300
    before they were)."""
    source = tmp_path / "big.txt"
    source.write_text("\n".join(ROWS) + "\n")  # the key's file; the entry below is what is read
    cache = str(tmp_path / "cache")
    matrix = np.random.default_rng(0).standard_normal((100_000, 128), dtype=np.float32)
    words = [f"w{i}" for i in range(len(matrix))]
    assert vector_cache.save_cached(str(source), "word2vec_text", cache, words, matrix, []) is None
    size_mb = matrix.nbytes / 2**20  # 49 MB
    before = _resident_mb()
    hit = vector_cache.load_cached(str(source), "auto", cache)
    grown = _resident_mb() - before
    assert hit is not None and isinstance(hit.matrix, np.memmap)
    assert grown < size_mb / 3, f"{grown:.0f} MB resident after opening a {size_mb:.0f} MB matrix"
    np.testing.assert_array_equal(hit.matrix[[0, 77_777, 99_999]], matrix[[0, 77_777, 99_999]])
