"""Loading word vectors: every format against gensim's own loader, the cache, the default set.

Files are written by gensim's own writers, so "identical to gensim" means the same keys in the
same order and bit-identical float32 matrices.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from core.vectors.load import (
    DEFAULT_VECTORS_NAME,
    VECTOR_FORMATS,
    LoadCancelled,
    VectorFileError,
    detect_format,
    load_default_vectors,
    load_vectors,
    nearest_neighbours,
    vocabulary_is_lowercase,
)

SPECIAL = ["café", "naïve", "東京", ",", ".", "'s", "--", "e.g.", '"q"', "#tag", "3.14", "Ölü"]


@pytest.fixture(scope="module")
def small_kv() -> KeyedVectors:
    """300 words x 16 dims, with punctuation and non-ASCII words."""
    rng = np.random.default_rng(7)
    words = ["the"] + SPECIAL + [f"w{i}" for i in range(300 - 1 - len(SPECIAL))]
    kv = KeyedVectors(16)
    kv.add_vectors(words, rng.standard_normal((300, 16)).astype(np.float32))
    return kv


@pytest.fixture(scope="module")
def files(small_kv: KeyedVectors, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vectors")
    paths = {
        "word2vec_text": folder / "w2v.txt",
        "word2vec_binary": folder / "w2v.bin",
        "glove_text": folder / "glove.txt",
        "fasttext_text": folder / "ft.vec",
    }
    small_kv.save_word2vec_format(str(paths["word2vec_text"]), binary=False)
    small_kv.save_word2vec_format(str(paths["word2vec_binary"]), binary=True)
    small_kv.save_word2vec_format(str(paths["glove_text"]), binary=False, write_header=False)
    small_kv.save_word2vec_format(str(paths["fasttext_text"]), binary=False)
    return paths


def gensim_load(path: Path, fmt: str) -> KeyedVectors:
    return KeyedVectors.load_word2vec_format(
        str(path), binary=fmt == "word2vec_binary", no_header=fmt == "glove_text"
    )


def assert_same(ours: KeyedVectors, theirs: KeyedVectors) -> None:
    assert ours.index_to_key == theirs.index_to_key
    assert ours.key_to_index == theirs.key_to_index
    assert ours.vectors.dtype == np.float32
    assert np.array_equal(ours.vectors.view(np.uint32), theirs.vectors.view(np.uint32))


@pytest.mark.parametrize("fmt", ["word2vec_text", "word2vec_binary", "glove_text", "fasttext_text"])
def test_each_format_matches_gensim(files: dict[str, Path], fmt: str, tmp_path: Path) -> None:
    path = files[fmt]
    assert detect_format(path) == fmt
    ours = load_vectors(path, cache_dir=tmp_path, use_cache=False)
    assert_same(ours, gensim_load(path, fmt))
    assert ours.load_warnings == []
    assert ours.source_name == path.name and ours.source_path == str(path)
    assert ours.most_similar("café", topn=3)
    # Forcing the format gives the same result as detecting it.
    assert_same(load_vectors(path, fmt, cache_dir=tmp_path, use_cache=False), ours)


def test_many_digit_numbers_round_like_gensim(tmp_path: Path) -> None:
    """17 significant digits and odd spellings exercise float64 -> float32 double rounding."""
    rng = np.random.default_rng(3)
    values = rng.standard_normal((200, 8)) * 10.0 ** rng.integers(-8, 5, (200, 8))  # within ±1e6
    lines = [f"w{i} " + " ".join(f"{v:.17g}" for v in row) for i, row in enumerate(values)]
    lines.append("odd +1 -0 .5 5. 1E3 1e-45 999999.94 1_0")  # '1_0' forces the exact path
    path = tmp_path / "digits.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_same(load_vectors(path, use_cache=False), gensim_load(path, "glove_text"))


def test_crlf_and_trailing_blank_lines_load_like_gensim(files: dict[str, Path], tmp_path: Path):
    data = files["word2vec_text"].read_bytes().replace(b"\n", b"\r\n") + b"\r\n\n"
    path = tmp_path / "crlf.txt"
    path.write_bytes(data)
    assert_same(load_vectors(path, use_cache=False), gensim_load(files["word2vec_text"], "x"))


@pytest.mark.parametrize("fmt", ["glove_text", "word2vec_text"])
def test_byte_order_mark_is_skipped(files: dict[str, Path], fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + files[fmt].read_bytes())
    assert detect_format(path) == fmt
    assert_same(load_vectors(path, use_cache=False), gensim_load(files[fmt], fmt))


def test_progress_increases_to_one_and_cancel_stops(files: dict[str, Path], tmp_path: Path):
    seen: list[float] = []
    load_vectors(files["glove_text"], progress=seen.append, use_cache=False)
    assert seen[-1] == 1.0 and seen == sorted(set(seen)) and len(seen) <= 101
    with pytest.raises(LoadCancelled):
        load_vectors(files["glove_text"], cancel=lambda: True, use_cache=False)
    polls = iter([False, False, True] + [True] * 100)  # cancelled inside the parser
    with pytest.raises(LoadCancelled):
        load_vectors(files["word2vec_binary"], cancel=lambda: next(polls), use_cache=False)


# ------------------------------------------------------------------------------ cache


@pytest.mark.parametrize("fmt", ["glove_text", "word2vec_binary"])
def test_cache_reuses_and_invalidates(files: dict[str, Path], fmt: str, tmp_path: Path) -> None:
    path = tmp_path / files[fmt].name
    original = files[fmt].read_bytes()
    path.write_bytes(original)
    cache = tmp_path / "cache"
    first = load_vectors(path, cache_dir=cache)
    assert len(list(cache.glob("*.npy"))) == 1
    again = load_vectors(path, cache_dir=cache)  # unchanged: a hit, memory-mapped from the cache
    assert_same(again, first)
    assert isinstance(again.vectors, np.memmap) and again.most_similar("the", topn=2)
    # Garbage of the same size with the mtime put back (cp -p, rsync -t): the status-change
    # time in the key still sees the edit, so the file is parsed again (and refused).
    stat = path.stat()
    path.write_bytes(b"\0" * len(original))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(VectorFileError):
        load_vectors(path, cache_dir=cache)


def test_unwritable_cache_is_a_warning(files: dict[str, Path], tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    kv = load_vectors(files["glove_text"], cache_dir=blocker)
    assert len(kv) == 300 and any("cache" in w for w in kv.load_warnings)


# ----------------------------------------------------------------------- gensim .kv pickle


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


def test_kv_pickle_is_refused_without_trust(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.kv"
    path.write_bytes(pickle.dumps(_Exploit(marker), protocol=4))
    assert detect_format(path) == "gensim_kv"
    for fmt in ("auto", "gensim_kv"):
        with pytest.raises(VectorFileError, match="evil.kv.*trust"):
            load_vectors(path, fmt)
    assert not marker.exists()


def test_trusted_genuine_kv_loads(small_kv: KeyedVectors, tmp_path: Path) -> None:
    path = tmp_path / "good.kv"
    small_kv.save(str(path))
    kv = load_vectors(path, trust_pickle=True)
    assert_same(kv, small_kv)
    assert kv.load_warnings == [] and kv.source_name == "good.kv"


# ------------------------------------------------------------------------------ fastText


@pytest.fixture(scope="module")
def fasttext_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    sentences = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran", "café"]] * 5
    model = FastText(vector_size=8, min_count=1, epochs=1, bucket=500, seed=1, workers=1)
    model.build_vocab(sentences)
    model.train(sentences, total_examples=len(sentences), epochs=1)
    path = tmp_path_factory.mktemp("ft") / "tiny.bin"
    save_facebook_model(model, str(path))
    return path


def test_fasttext_bin_gives_oov_vectors(fasttext_bin: Path) -> None:
    from gensim.models.fasttext import load_facebook_vectors

    assert detect_format(fasttext_bin) == "fasttext_bin"
    kv = load_vectors(fasttext_bin)
    theirs = load_facebook_vectors(str(fasttext_bin))
    assert kv.index_to_key == theirs.index_to_key
    assert "cats" not in kv.key_to_index
    assert kv["cats"].shape == (8,) and np.any(kv["cats"] != 0)


def test_truncated_fasttext_bin_fails_fast(fasttext_bin: Path, tmp_path: Path) -> None:
    """gensim loops forever on this file (a cut .bin: it waits for a NUL); the guard thread keeps
    the test finite."""
    path = tmp_path / "cut.bin"
    path.write_bytes(fasttext_bin.read_bytes()[:100])  # 92-byte header, then inside the words
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            load_vectors(path)
        except BaseException as e:  # reported to the test thread
            outcome.append(e)

    worker = threading.Thread(target=run, daemon=True)
    start = time.perf_counter()
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "load_vectors hung on a truncated fastText file"
    assert time.perf_counter() - start < 5
    assert isinstance(outcome[0], VectorFileError) and "cut.bin" in str(outcome[0])
    assert "vocabulary" in str(outcome[0])


# --------------------------------------------------------------------------- default set


def test_default_vectors() -> None:
    from core.vectors.load import _default_files

    kv = load_default_vectors()
    assert len(kv) == 400_000 and kv.vector_size == 50
    assert kv.source_name == DEFAULT_VECTORS_NAME and kv.source_path is None
    assert kv.load_warnings == []
    npy = np.load(_default_files()[0], mmap_mode="r")
    assert kv.key_to_index["the"] == 0 and np.array_equal(kv["the"], npy[0])
    assert "queen" in [w for w, _ in kv.most_similar("king", topn=10)]
    assert vocabulary_is_lowercase(kv)
    assert load_default_vectors() is kv  # opened once per process


def test_nearest_neighbours_match_gensim_and_are_fast() -> None:
    kv = load_default_vectors()
    ours = nearest_neighbours(kv, kv["king"], k=5, exclude=["king"])
    theirs = kv.most_similar("king", topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    start = time.perf_counter()
    for _ in range(10):
        nearest_neighbours(kv, kv["water"], k=10)
    assert (time.perf_counter() - start) / 10 < 0.05  # ~3 ms; generous for a busy machine


def test_nearest_neighbours_edge_cases(small_kv: KeyedVectors) -> None:
    assert nearest_neighbours(small_kv, np.zeros(16)) == []
    assert nearest_neighbours(small_kv, small_kv["the"], k=0) == []
    everything = nearest_neighbours(small_kv, small_kv["the"], k=10_000, exclude=["the"])
    assert len(everything) == 299 and everything[0][1] >= everything[-1][1]
    with pytest.raises(ValueError, match="dimensions"):
        nearest_neighbours(small_kv, np.ones(3))


def test_vocabulary_case(small_kv: KeyedVectors) -> None:
    cased = KeyedVectors(2)
    cased.add_vectors(["Paris", "London", "the", "Berlin"] * 1 + ["x"], np.ones((5, 2)))
    assert not vocabulary_is_lowercase(cased)
    lower = KeyedVectors(2)
    lower.add_vectors([f"w{i}" for i in range(500)] + ["<UNK>"], np.ones((501, 2)))
    assert vocabulary_is_lowercase(lower)


def test_public_names() -> None:
    assert VECTOR_FORMATS[0] == "auto" and len(VECTOR_FORMATS) == 7
    assert issubclass(VectorFileError, ValueError)
