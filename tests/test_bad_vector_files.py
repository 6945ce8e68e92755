"""A corpus of broken word-vector files, each loaded through ``load_vectors`` within 5 seconds.

Every case is a name, a function that writes the file into ``tmp_path`` and the expected outcome:
a :class:`VectorFileError` whose message names the file (and the line or byte offset and what was
expected, where there is one), or a successful load with a stated warning in ``kv.load_warnings``.
Each load runs in a daemon thread joined with a timeout, so a loader that hangs (gensim loops
forever on a truncated fastText ``.bin``; opening a FIFO blocks) fails the test
instead of freezing the suite. ``tests/test_window_robustness.py`` reuses a subset of the corpus.
"""

from __future__ import annotations

import builtins
import gzip
import os
import pickle
import struct
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bounded import within
from hostile_files import Writer, file, special

from core.vectors.load import VectorFileError, load_vectors
from core.vectors.text_files import FASTTEXT_MAGIC

ROWS = ["the 0.1 0.2 0.3", "cat 0.4 0.5 0.6", "sat -1 2 3.5", "mat 1e-3 2E2 -0"]
WORDS = ["the", "cat", "sat", "mat"]
TIMEOUT = 5.0


def text(rows: list[str], header: str = "", newline: str = "\n") -> bytes:
    return (header + newline.join(rows) + newline).encode("utf-8")


def binary(words: list[str], dim: int = 3, header: str | None = None) -> bytes:
    """word2vec C binary: ``count dim`` line, then ``word<space><dim float32>`` records."""
    body = b"".join(w.encode() + b" " + np.arange(dim, dtype="<f4").tobytes() for w in words)
    return (header or f"{len(words)} {dim}\n").encode() + body


def fasttext_cut_in_vocabulary() -> bytes:
    """A fastText .bin header (magic, 12 int args + a double, sizes) cut inside word 1.

    gensim waits for the NUL that ends the word and never gets it.
    """
    args = struct.pack("<12id", 8, 5, 5, 1, 1, 0, 0, 3, 500, 3, 6, 1, 1e-4)
    sizes = struct.pack("<3iqq", 3, 3, 0, 30, -1)
    return struct.pack("<2i", FASTTEXT_MAGIC, 12) + args + sizes + b"caf"


class _Exploit:
    """Unpickling this touches a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


def rand(n: int, seed: int) -> bytes:
    data = bytearray(np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes())
    data[0] = 0x41  # not a pickle opcode, a gzip or a UTF-16 mark: plain garbage
    return bytes(data)


# ----------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    """One broken file: an error with these fragments, or a load with this warning."""

    name: str
    write: Writer
    error: tuple[str, ...] = ()  # fragments of the VectorFileError message, besides the file name
    warning: str | None = None  # a fragment of one of kv.load_warnings; None: no warnings at all
    fmt: str = "auto"
    words: tuple[str, ...] = tuple(WORDS)  # when it loads: the vocabulary expected


CASES = [
    Case("empty", file("empty.txt", b""), ("empty",)),
    Case("missing", lambda tmp: tmp / "missing.vec", ("not found",)),
    Case("directory", special("folder.txt", lambda p: p.mkdir()), ("folder",)),
    Case("fifo", special("pipe.txt", lambda p: os.mkfifo(p)), ("not a regular file",)),
    Case("random .bin", file("junk.bin", rand(4096, 1)), ("line 1", "expected")),
    Case("random .txt", file("junk.txt", rand(4096, 2)), ("line 1", "expected")),
    Case("random .vec", file("junk.vec", rand(4096, 3)), ("line 1", "expected")),
    Case("byte-order mark", file("bom.txt", b"\xef\xbb\xbf" + text(ROWS))),
    Case("byte-order mark w2v", file("bom.vec", b"\xef\xbb\xbf" + text(ROWS, "4 3\n"))),
    Case("CRLF", file("crlf.txt", text(ROWS, newline="\r\n"))),
    Case("CRLF w2v", file("crlf.vec", text(ROWS, "4 3\r\n", newline="\r\n"))),
    # gensim splits on single spaces only (a tab or a double space is a ValueError there):
    # we follow it, with a message that names the separator.
    Case("tabs", file("tabs.txt", text([r.replace(" ", "\t") for r in ROWS])), ("line 1", "tab")),
    Case("a tab in a row", file("tab.vec", text(ROWS[:2] + ["sat -1\t2 3.5"], "3 3\n")),
         ("line 4", "tab", "single spaces")),
    Case("double spaces", file("two.txt", text(ROWS[:2] + ["sat -1  2 3.5"] + ROWS[3:])),
         ("line 3", "two spaces in a row")),
    Case("blank line inside", file("blank.txt", text(ROWS[:2] + [""] + ROWS[2:])),
         ("line 3", "blank")),
    Case("blank lines at the end", file("tail.txt", text(ROWS) + b"\n\n  \n")),
    Case("GloVe words with spaces", file("840b.txt", text(ROWS[:3] + ["at x.com 1 2 3"])),
         warning="1 words contain spaces", words=("the", "cat", "sat", "at x.com")),
    Case("header count too large", file("more.txt", text(ROWS, "5 3\n")),
         ("line 6", "header says 5")),
    Case("header count too small", file("less.txt", text(ROWS, "3 3\n")),
         ("line 5", "more lines")),
    Case("header claims 10^12 words", file("huge.txt", text(ROWS, f"{10**12} 3\n")),
         ("line 1", "header says 1000000000000", "bytes")),
    Case("binary header claims 10^12 words",
         file("huge.bin", binary(WORDS, header=f"{10**12} 3\n")), ("line 1", "bytes"),
         fmt="word2vec_binary"),
    Case("binary dimension too small", file("dim3.bin", binary(WORDS, 4, "4 3\n")),
         ("byte offset", "dimension 3")),
    Case("binary dimension too large", file("dim5.bin", binary(WORDS, 4, "4 5\n")),
         ("line 1", "4 words of 5 float32")),
    Case("rows of differing length", file("ragged.txt", text(ROWS[:2] + ["sat 1 2"] + ROWS[3:])),
         ("line 3", "found 2 values", "expected a word and 3 numbers")),
    Case("one-number row", file("one.txt", text(ROWS[:3] + ["mat 0.5"])),
         ("line 4", "found 1 values")),
    Case("NaN", file("nan.txt", text(ROWS[:2] + ["sat 1 nan 3"] + ROWS[3:])),
         ("line 3", "number 2 is nan: not a number (NaN)")),
    Case("Inf", file("inf.vec", text(ROWS[:3] + ["mat -inf 1 2"], "4 3\n")),
         ("line 5", "number 1 is -inf: infinity")),
    Case("binary NaN", file("nan.bin", b"1 2\nok " + np.array([1, np.nan], "<f4").tobytes()),
         ("word 1", "NaN")),
    Case("all-zero vectors", file("zero.txt", text(ROWS[:2] + ["sat 0 0 0", "mat 0 -0 0.0"])),
         warning="2 all-zero vectors"),
    Case("duplicate words", file("dup.txt", text(ROWS + ["cat 9 9 9"])),
         warning="1 repeated words ignored"),
    Case("non-UTF-8 token", file("latin1.txt", text(ROWS[:2]) + b"s\xe4t 1 2 3\n"),
         ("line 3", "byte offset 33", "UTF-8")),
    Case("binary truncated mid-vector", file("cut.bin", binary(WORDS)[:-5]),
         ("word 4", "file ends")),
    Case("fastText .bin cut in its vocabulary", file("cut_ft.bin", fasttext_cut_in_vocabulary()),
         ("byte offset 92", "vocabulary", "entry 1 of 3")),
    Case("pickle that runs code",
         file("evil.kv", lambda tmp: pickle.dumps(_Exploit(tmp / "pwned"), protocol=4)),
         ("trust",)),
    # ---- five (and a few more) of our own
    Case("negative count", file("neg.txt", text(ROWS, "-4 3\n")), ("line 1", "header says -4")),
    Case("huge dimension", file("wide.txt", text(ROWS, "4 1000000000\n")),
         ("line 1", "1000000000 numbers", "bytes")),
    Case("only a header", file("header.vec", b"4 3\n"), ("line 1", "0 bytes follow")),
    Case("binary flag on a text body",
         file("text.bin", text(ROWS, "4 3\n")),
         ("line 2", "text row", "word2vec text"), fmt="word2vec_binary"),
    Case("text flag on a binary body", file("bin.txt", binary(["sé"])),
         ("line 2",), fmt="word2vec_text"),
    Case("gzip-compressed .vec", file("gz.vec", gzip.compress(text(ROWS, "4 3\n"))), ("gzip",)),
    Case("UTF-16 with a mark", file("utf16.txt", text(ROWS).decode().encode("utf-16")),
         ("byte 0", "UTF-16")),
    Case("zero dimension", file("dim0.txt", text(["the", "cat"], "2 0\n")),
         ("line 1", "expected >= 1")),
]


def load_in_thread(path: Path, fmt: str, cache: Path) -> Any:
    """``load_vectors`` in a daemon thread; returns the vectors or the exception raised."""
    return within(TIMEOUT, load_vectors, path, fmt, use_cache=False, cache_dir=cache)


def check_outcome(case: Case, path: Path, outcome: Any) -> None:
    if case.error:
        assert isinstance(outcome, VectorFileError), f"{case.name}: expected an error: {outcome!r}"
        message = str(outcome)
        for fragment in (path.name, *case.error):
            assert fragment in message, f"{case.name}: {fragment!r} not in {message!r}"
        return
    assert not isinstance(outcome, BaseException), f"{case.name}: {outcome!r}"
    assert outcome.index_to_key == list(case.words)
    assert np.isfinite(outcome.vectors).all()
    if case.warning is None:
        assert outcome.load_warnings == []
    else:
        assert any(case.warning in w for w in outcome.load_warnings), outcome.load_warnings


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_file(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    check_outcome(case, path, load_in_thread(path, case.fmt, tmp_path))
    assert not (tmp_path / "pwned").exists(), "unpickling ran code"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".npy")], "use_cache=False wrote"


def test_crlf_and_bom_load_exactly_like_plain_lf(tmp_path: Path) -> None:
    plain = load_in_thread(file("lf.txt", text(ROWS))(tmp_path), "auto", tmp_path)
    for variant in ("CRLF", "CRLF w2v", "byte-order mark", "byte-order mark w2v"):
        case = next(c for c in CASES if c.name == variant)
        kv = load_in_thread(case.write(tmp_path), "auto", tmp_path)
        assert kv.index_to_key == plain.index_to_key
        assert np.array_equal(kv.vectors.view(np.uint32), plain.vectors.view(np.uint32))


def test_unreadable_file_gives_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """We run as root, where chmod 000 does not stop reading: refuse the open() itself."""
    path = file("secret.txt", text(ROWS))(tmp_path)
    real_open = builtins.open

    def guarded_open(target: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fspath(target) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(target))
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    outcome = load_in_thread(path, "auto", tmp_path)
    assert isinstance(outcome, VectorFileError), outcome
    assert "secret.txt" in str(outcome) and "Permission denied" in str(outcome)


@pytest.mark.parametrize("name", ["header claims 10^12 words", "binary header claims 10^12 words",
                                  "huge dimension"])
def test_absurd_headers_allocate_nothing(name: str, tmp_path: Path) -> None:
    """The header is checked against the file size before any matrix is allocated."""
    case = next(c for c in CASES if c.name == name)
    path = case.write(tmp_path)
    tracemalloc.start()
    try:
        outcome = load_in_thread(path, case.fmt, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, VectorFileError)
    assert peak < 20 << 20, f"peak {peak / 2**20:.1f} MiB while refusing {name}"


def test_pickle_refused_even_when_named_like_text(tmp_path: Path) -> None:
    """Detection looks at the content: a pickle renamed .txt is still refused, nothing runs."""
    marker = tmp_path / "pwned"
    path = file("innocent.txt", pickle.dumps(_Exploit(marker), protocol=2))(tmp_path)
    for fmt in ("auto", "gensim_kv"):
        outcome = load_in_thread(path, fmt, tmp_path)
        assert isinstance(outcome, VectorFileError) and "trust" in str(outcome)
    assert not marker.exists()
