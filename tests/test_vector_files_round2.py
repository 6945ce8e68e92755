"""Round 2 of the broken-vector-file corpus: huge files, huge values, wide rows, odd paths.

Same shape as ``tests/test_bad_vector_files.py`` (whose helpers this reuses): each case writes a
file into ``tmp_path`` and states the outcome, a :class:`VectorFileError` naming the file (and the
line or row and what was expected) or a load. Every load runs in a daemon thread joined with a
timeout, so a loader that would take minutes fails the test instead of freezing the suite, and
under ``tracemalloc``, so one that would copy gigabytes fails on its peak. The multi-gigabyte
files are sparse (``truncate`` past the end): zeros that cost no disk and no time to write.
"""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hostile_files import Writer, file

from core.vectors.detect import check_local_file
from core.vectors.load import VectorFileError, load_vectors
from tests.test_bad_vector_files import ROWS, WORDS, binary, check_outcome, text

TIMEOUT = 15.0  # a bound for hangs, not a speed test: a fixed loader takes well under a second
PEAK_LIMIT = 100 << 20  # bytes traced while refusing a file of any size (1 GB was the target)
GB = 1 << 30


def sparse(name: str, head: bytes, size: int, tail: bytes = b"") -> Writer:
    """``head``, then zeros up to ``size`` bytes that take no disk, then ``tail``."""

    def write(tmp: Path) -> Path:
        path = tmp / name
        with open(path, "wb") as f:
            f.write(head)
            f.truncate(size)
            f.seek(size)
            f.write(tail)
        return path

    return write


def wide(name: str, dim: int, rows: int = 20, header: bool = False) -> Writer:
    """A valid file of ``rows`` words with ``dim`` numbers each (GloVe, or with a header)."""

    def write(tmp: Path) -> Path:
        values = np.random.default_rng(dim).standard_normal((rows, dim)).round(5)
        lines = [f"w{i} " + " ".join(map(str, row)) for i, row in enumerate(values.tolist())]
        return file(name, text(lines, f"{rows} {dim}\n" if header else ""))(tmp)

    return write


def named(raw_name: bytes, content: bytes) -> Writer:
    """A file whose name is raw bytes (not UTF-8: Python sees lone surrogates)."""
    return lambda tmp: _write(tmp / os.fsdecode(raw_name), content)


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def kv_file(name: str, value: float, separately: bool = False,
            words: tuple[str, ...] = tuple(WORDS)) -> Writer:
    """gensim's native format with ``value`` in row 3; the vectors inline or in a ``.npy``."""

    def write(tmp: Path) -> Path:
        from gensim.models import KeyedVectors

        kv = KeyedVectors(3)
        kv.add_vectors(list(words), np.arange(12, dtype=np.float32).reshape(4, 3))
        kv.vectors[2, 1] = value
        kv.save(str(tmp / name), separately=["vectors"] if separately else [])
        return tmp / name

    return write


def fasttext_file(name: str, poison: Callable[[Any], None] | None = None) -> Writer:
    """A tiny real fastText ``.bin`` (gensim's writer), changed by ``poison(model.wv)``."""

    def write(tmp: Path) -> Path:
        from gensim.models import FastText
        from gensim.models.fasttext import save_facebook_model

        sentences = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran", "café"]] * 5
        model = FastText(vector_size=4, min_count=1, epochs=1, bucket=50, seed=1, workers=1)
        model.build_vocab(sentences)
        model.train(sentences, total_examples=len(sentences), epochs=1)
        if poison is not None:
            poison(model.wv)
        save_facebook_model(model, str(tmp / name))
        return tmp / name

    return write


def _set(array: str, row: int, value: float) -> Callable[[Any], None]:
    return lambda wv: getattr(wv, array).__setitem__((row, 1), value)


def binary_values(values: list[float]) -> bytes:
    """word2vec binary: one word per value, each vector ``[value, 0]``."""
    body = b"".join(f"w{i} ".encode() + np.array([v, 0], "<f4").tobytes()
                    for i, v in enumerate(values))
    return f"{len(values)} 2\n".encode() + body


@dataclass(frozen=True)
class Case:
    """As in tests/test_bad_vector_files.py, plus whether a pickle is trusted."""

    name: str
    write: Writer
    error: tuple[str, ...] = ()
    warning: str | None = None
    fmt: str = "auto"
    words: tuple[str, ...] = tuple(WORDS)
    trust: bool = False


THREE = text(ROWS[:3])
HUGE = ROWS[:2] + ["sat 1 3e38 2", ROWS[3]]  # a valid float32, but q.k overflows
WIDE_WORDS = tuple(f"w{i}" for i in range(20))

CASES = [
    # ---- unbounded reads: refused at the first 8 MB, whatever follows
    Case("three rows, then 2 GB of zeros", sparse("zeros_tail.txt", THREE, 2 * GB),
         ("line 4", "no line break within", "a word and 3 numbers")),
    Case("2 GB of zeros", sparse("zeros.txt", b"", 2 * GB), ("line 1", "expected")),
    Case("2 GB of zeros as GloVe", sparse("zeros.glove", b"", 2 * GB),
         ("line 1", "no line break"), fmt="glove_text"),
    Case("2 GB of zeros as word2vec text", sparse("zeros.vec", b"", 2 * GB),
         ("line 1", "header"), fmt="word2vec_text"),
    Case("2 GB of zeros as word2vec binary", sparse("zeros.bin", b"", 2 * GB),
         ("line 1", "header"), fmt="word2vec_binary"),
    Case("a header, then 2 GB of zeros", sparse("hz.vec", b"3 3\n", 2 * GB),
         ("line 2", "no line break"), fmt="word2vec_text"),
    Case("a header, then 2 GB of zeros, detected", sparse("hz2.vec", b"3 3\n", 2 * GB),
         ("word 1", "no word here")),  # zeros are not text: read as binary records
    Case("a 100 MB line of zeros between rows",
         sparse("long.txt", THREE, 100 << 20, b"\nmat 1 2 3\n"), ("line 4", "no line break")),
    Case("a 24 MB line of numbers", file("numbers.txt", THREE + b"mat" + b" 0" * (12 << 20)),
         ("line 4", "no line break")),
    Case("binary records, then 2 GB of zeros", sparse("tail.bin", binary(WORDS), 2 * GB),
         ("more data",), fmt="word2vec_binary"),
    Case("a header wider than 100,000 numbers", sparse("w.vec", b"2 200000\n", 8 << 20),
         ("line 1", "at most 100,000")),
    Case("a header of 5,000 digits", file("digits.vec", b"9" * 5000 + b" 3\n" + THREE),
         ("line 1", "header")),
    # ---- values that overflow attention, in every format
    Case("3e38 in a GloVe row", file("huge.txt", text(HUGE)), ("line 3", "3e+38", "±1e+06")),
    Case("3e38 in a word2vec text row", file("huge.vec", text(HUGE, "4 3\n")),
         ("line 4", "too large", "overflow")),
    Case("just over the bound", file("over.txt", text(ROWS[:3] + ["mat 1 -1000001 0"])),
         ("line 4", "number 2 is -1.000001e+06", "±1e+06")),
    Case("exactly at the bound", file("at.txt", text(ROWS[:3] + ["mat 1 -1000000 1e6"]))),
    Case("1e39 (too large for float32)", file("f32.txt", text(ROWS[:3] + ["mat 1 1e39 0"])),
         ("line 4", "number 2 is inf: infinity", "too large for float32")),
    Case("3e38 in word2vec binary", file("huge.bin", binary_values([1.0, 3e38])),
         ("word 2 ('w1')", "too large"), words=("w0", "w1")),
    Case("NaN in a fastText word vector",
         fasttext_file("nan.bin", _set("vectors_vocab", 1, np.nan)),
         ("input matrix row 2", "word 2", "not a number (NaN)")),
    Case("3e38 in a fastText sub-word bucket",
         fasttext_file("bucket.bin", _set("vectors_ngrams", 3, 3e38)),
         ("sub-word bucket 4", "too large")),
    Case("NaN in a trusted .kv", kv_file("nan.kv", np.nan, separately=False),
         ("row 3 ('sat')", "not a number (NaN)"), trust=True),
    Case("3e38 in a trusted .kv's .npy", kv_file("huge.kv", 3e38, separately=True),
         ("row 3 ('sat')", "too large"), trust=True),
    Case("a lone surrogate in a trusted .kv's word",
         kv_file("sur.kv", 1.0, words=("the", "cat", "s\udce4t", "mat")),
         ("row 3 ('s\\udce4t')", "not valid Unicode"), trust=True),
    # ---- wide vectors: the dimension is read from whole lines, not the first 64 KiB
    Case("12,000-dimensional GloVe", wide("w12k.txt", 12_000), words=WIDE_WORDS),
    Case("20,000-dimensional GloVe", wide("w20k.txt", 20_000), words=WIDE_WORDS),
    Case("20,000-dimensional word2vec text", wide("w20k.vec", 20_000, header=True),
         words=WIDE_WORDS),
    Case("a wide row one number short",
         lambda tmp: _short_row(wide("short.txt", 1500)(tmp)),
         ("line 3", "found 1499 values", "1500 numbers")),
    # ---- what a path is, and names and words that are not UTF-8
    Case("/dev/zero", lambda tmp: Path("/dev/zero"), ("zero", "is a character device")),
    Case("a FIFO", lambda tmp: _fifo(tmp / "pipe.vec"), ("pipe.vec", "is a FIFO")),
    Case("a folder", lambda tmp: _folder(tmp / "vectors.txt"),
         ("vectors.txt", "is a folder, not a word-vector file")),
    Case("a file name that is not UTF-8", named(b"caf\xe9.txt", text(ROWS + ["cat 1 1 1"])),
         warning="1 repeated words ignored"),
    Case("a broken file whose name is not UTF-8", named(b"bad\xff.txt", text(HUGE)),
         ("bad\\xff.txt", "line 3")),
    Case("invalid UTF-8 in a binary word", file("latin1.bin", binary(["ok", "s\xe4t"])
                                                .replace("s\xe4t".encode(), b"s\xe4t!")),
         ("word 2", "byte offset", "UTF-8"), fmt="word2vec_binary"),
]


def _short_row(path: Path) -> Path:
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].rsplit(b" ", 1)[0]
    path.write_bytes(b"\n".join(lines))
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def load_traced(path: Path, case: Case, cache: Path) -> tuple[Any, int]:
    """``load_vectors`` in a daemon thread under tracemalloc: (vectors or exception, peak)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(load_vectors(path, case.fmt, trust_pickle=case.trust,
                                        use_cache=False, cache_dir=cache))
        except BaseException as e:  # handed back to the test thread
            outcome.append(e)

    import gensim.models  # noqa: F401  imported before tracing: only the load is measured
    import pyarrow.compute  # noqa: F401
    import pyarrow.csv  # noqa: F401

    tracemalloc.start()
    try:
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout=TIMEOUT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not worker.is_alive(), f"load_vectors({path.name}) did not return in {TIMEOUT} s"
    return outcome[0], peak


def assert_plain_text(value: str) -> None:
    """One line of valid Unicode: what the window, a terminal and a JSON export can all show."""
    assert "\n" not in value and "\r" not in value, value
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate raises here


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_round2_file(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    outcome, peak = load_traced(path, case, tmp_path)
    if case.error and isinstance(outcome, VectorFileError):
        assert_plain_text(str(outcome))
        # The name as the message shows it: each byte that is not UTF-8 as \xNN.
        shown = str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        path = Path(shown)
    check_outcome(case, path, outcome)  # type: ignore[arg-type]
    assert peak < PEAK_LIMIT, f"{case.name}: {peak / 2**20:.0f} MiB traced"
    if not case.error:
        for value in [outcome.source_name, *outcome.load_warnings, *outcome.index_to_key]:
            assert_plain_text(value)


# ------------------------------------------------------------------------- beyond the corpus


def _traced_load(path: Path, fmt: str) -> tuple[Any, int]:
    return load_traced(path, Case("memory", lambda tmp: path, fmt=fmt), path.parent)


@pytest.mark.parametrize("fmt", ["word2vec_binary", "glove_text"])
def test_loading_costs_about_twice_the_matrix(fmt: str, tmp_path: Path) -> None:
    """Binary vectors are copied from the map into their rows once (joining slices and then
    converting held them three times); text chunks are joined once at the end."""
    rows, dim = (20_000, 300) if fmt == "word2vec_binary" else (8_000, 300)
    values = np.random.default_rng(0).standard_normal((rows, dim)).astype(np.float32)
    path = tmp_path / "good.vectors"
    words = [f"w{i}" for i in range(rows)]
    if fmt == "word2vec_binary":
        body = b"".join(w.encode() + b" " + v.tobytes() for w, v in zip(words, values, strict=True))
        path.write_bytes(f"{rows} {dim}\n".encode() + body)
        limit = 1.3 * values.nbytes + (4 << 20)
    else:
        np.savetxt(path, values, fmt="%.6g")
        lines = path.read_bytes().split(b"\n")[:-1]
        path.write_bytes(b"".join(w.encode() + b" " + line + b"\n"
                                  for w, line in zip(words, lines, strict=True)))
        limit = 2.2 * values.nbytes + (24 << 20)  # + the 8 MB chunk being parsed and its copy
    kv, peak = _traced_load(path, fmt)
    assert kv.index_to_key == words
    assert peak < limit, f"{peak / 2**20:.0f} MiB for a {values.nbytes / 2**20:.0f} MiB matrix"


def test_wide_rows_round_exactly_like_gensim(tmp_path: Path) -> None:
    """Rows of 1,500 17-digit numbers go through the wide-row parser: the same bits as gensim."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(7)
    values = rng.standard_normal((30, 1500)) * 10.0 ** rng.integers(-8, 5, (30, 1500))
    lines = [f"w{i} " + " ".join(f"{v:.17g}" for v in row) for i, row in enumerate(values)]
    path = file("w17.txt", text(lines))(tmp_path)
    ours = load_vectors(path, use_cache=False)
    theirs = KeyedVectors.load_word2vec_format(str(path), no_header=True)
    assert ours.index_to_key == theirs.index_to_key
    assert np.array_equal(ours.vectors.view(np.uint32), theirs.vectors.view(np.uint32))


def test_too_long_line_is_named_across_tiny_reads(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Read 100 bytes at a time, the unfinished line grows over many reads: still line 7."""
    import core.vectors.text_files

    monkeypatch.setattr(core.vectors.text_files, "_CHUNK_BYTES", 100)
    path = file("seven.txt", text(ROWS + ROWS[:2] + ["x" + " 1" * 3000]))(tmp_path)
    with pytest.raises(VectorFileError, match="line 7: no line break within 4,293 bytes"):
        load_vectors(path, use_cache=False)


def test_fasttext_word_that_is_not_utf8_loads_escaped(tmp_path: Path) -> None:
    """gensim decodes a fastText word that is not UTF-8 with backslash escapes: no surrogate
    reaches the words (they end up in JSON exports)."""
    path = fasttext_file("cafe.bin")(tmp_path)
    path.write_bytes(path.read_bytes().replace("café".encode(), b"caf\xe9!"))
    kv = load_vectors(path, use_cache=False)
    assert "caf\\xe9!" in kv.key_to_index
    for word in kv.index_to_key:
        assert_plain_text(word)


def test_a_bytes_path_that_is_not_utf8_loads(tmp_path: Path) -> None:
    path = named(b"vecteurs-\xe9.txt", text(ROWS))(tmp_path)
    kv = load_vectors(os.fsencode(path), use_cache=False)
    assert kv.index_to_key == WORDS and kv.source_name == "vecteurs-\\xe9.txt"


def test_checking_a_fifo_never_opens_it(tmp_path: Path) -> None:
    """What the command line should call before loading: os.stat only, so a FIFO with no writer
    cannot block it."""
    path = _fifo(tmp_path / "pipe.txt")
    outcome: list[BaseException] = []
    worker = threading.Thread(target=lambda: _catch(check_local_file, str(path), outcome),
                              daemon=True)
    worker.start()
    worker.join(timeout=TIMEOUT)
    assert not worker.is_alive(), "check_local_file blocked on a FIFO"
    assert "is a FIFO (a named pipe), not a regular file" in str(outcome[0])


def _catch(function: Callable[[str], object], arg: str, into: list[BaseException]) -> None:
    try:
        function(arg)
    except BaseException as e:  # handed back to the test thread
        into.append(e)


def test_every_warning_is_one_line(tmp_path: Path) -> None:
    """Repeated, all-zero and spaced words, and a cache folder whose name holds a line break
    (it cannot be written: it is a file): each warning is one plain line."""
    rows = [*ROWS[:3], "a\rb 1 2 3", "a\rb 4 5 6", "zero 0 0 0", "at x.com 1 2 3"]
    path = file("warn.txt", text(rows))(tmp_path)
    blocker = tmp_path / "cache\nfolder"
    blocker.write_bytes(b"")
    kv = load_vectors(path, cache_dir=blocker)
    assert len(kv.load_warnings) == 4, kv.load_warnings
    for warning in kv.load_warnings:
        assert_plain_text(warning)
