"""Malformed and unusual vector files: each gives a clear VectorFileError or a stated warning.

The messages must name the file and, where there is one, the line (or byte offset), so a person
can open the file and see what is wrong.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from core.vectors.load import VectorFileError, detect_format, load_vectors

ROWS = ["the 0.1 0.2 0.3", "cat 0.4 0.5 0.6", "sat -1 2 3.5", "mat 1e-3 2E2 -0"]


def f32(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def write(tmp_path: Path, text: str | bytes, name: str = "bad.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def load(path: Path | str, fmt: str = "auto") -> KeyedVectors:
    return load_vectors(path, fmt, use_cache=False)


def expect_error(path: Path, *fragments: str, fmt: str = "auto") -> str:
    with pytest.raises(VectorFileError) as info:
        load(path, fmt)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_clean_file_loads(tmp_path: Path) -> None:
    kv = load(write(tmp_path, "\n".join(ROWS) + "\n"))
    assert kv.index_to_key == ["the", "cat", "sat", "mat"] and kv.vector_size == 3
    assert kv.load_warnings == []


# ------------------------------------------------------------------- the file itself


def test_missing_directory_empty_and_urls(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.txt", "not found")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    expect_error(folder, "folder")
    expect_error(write(tmp_path, b"", "empty.txt"), "empty")
    for url in ("http://example.com/v.txt", "https://x/y.vec", "s3://bucket/v.bin", "gs://b/v"):
        with pytest.raises(VectorFileError, match="local"):
            load(url)


def test_unknown_and_compressed_content(tmp_path: Path) -> None:
    expect_error(write(tmp_path, b"\x00\x01\x02garbage\xff" * 20, "junk.txt"), "line 1")
    expect_error(write(tmp_path, b"\x1f\x8b\x08\x00rest", "v.txt.gz"), "gzip")
    with pytest.raises(ValueError, match="format must be"):
        load_vectors(write(tmp_path, "\n".join(ROWS)), "csv")


# ------------------------------------------------------------------------ headers


def test_header_count_too_large_names_the_line(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "5 3\n" + "\n".join(ROWS) + "\n"), "line 6", "header says 5")


def test_header_count_too_small_is_an_error(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "3 3\n" + "\n".join(ROWS) + "\n"), "line 5", "more lines")


def test_absurd_header_is_refused_before_allocating(tmp_path: Path) -> None:
    start = time.perf_counter()
    expect_error(write(tmp_path, f"{10**12} 300\n" + "\n".join(ROWS)), "line 1", "bytes")
    binary = b"1000000000000 300\n" + b"w " + np.ones(300, "<f4").tobytes()
    expect_error(write(tmp_path, binary, "huge.bin"), "line 1", fmt="word2vec_binary")
    assert time.perf_counter() - start < 2


def test_header_required_when_format_says_so(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "\n".join(ROWS)), "line 1", "header", fmt="word2vec_text")


# --------------------------------------------------------------------------- rows


@pytest.mark.parametrize("header", ["", "4 3\n"])
def test_row_of_different_length(tmp_path: Path, header: str) -> None:
    rows = ROWS[:2] + ["sat 1 2"] + ROWS[3:]
    line = 3 + bool(header)
    expect_error(write(tmp_path, header + "\n".join(rows) + "\n"), f"line {line}", "expected")


def test_one_number_row(tmp_path: Path) -> None:
    rows = ROWS[:3] + ["mat 0.5"]
    expect_error(write(tmp_path, "\n".join(rows) + "\n"), "line 4", "found 1 values")


def test_row_with_an_extra_number(tmp_path: Path) -> None:
    rows = ROWS[:1] + ["cat 0.1 0.4 0.5 0.6"] + ROWS[2:]
    expect_error(write(tmp_path, "\n".join(rows) + "\n"), "line 2", "found 4 values")


def test_blank_line_in_the_middle(tmp_path: Path) -> None:
    expect_error(write(tmp_path, "\n".join(ROWS[:2] + [""] + ROWS[2:]) + "\n"), "line 3")


def test_words_with_spaces_are_joined_with_a_warning(tmp_path: Path) -> None:
    rows = ROWS[:2] + [". . . 0.7 0.8 0.9", "at name@domain.com 1 2 3"] + ROWS[2:]
    for header in ("", "6 3\n"):
        kv = load(write(tmp_path, header + "\n".join(rows) + "\n"))
        assert kv.index_to_key[2:4] == [". . .", "at name@domain.com"]
        assert np.array_equal(kv[". . ."], f32(0.7, 0.8, 0.9))
        assert len(kv.load_warnings) == 1 and "2 words contain spaces" in kv.load_warnings[0]


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity", "1e999"])
def test_nan_and_infinity_are_errors(tmp_path: Path, bad: str) -> None:
    rows = ROWS[:2] + [f"sat 1 {bad} 3"] + ROWS[3:]
    said = "number 2 is nan: not a number (NaN)" if bad == "nan" else "infinity"
    message = expect_error(write(tmp_path, "\n".join(rows) + "\n"), "line 3", said)
    assert bad != "nan" or "too large" not in message  # a NaN is no number too large


def test_not_a_number(tmp_path: Path) -> None:
    rows = ROWS[:3] + ["mat 1 two 3"]
    expect_error(write(tmp_path, "\n".join(rows) + "\n"), "line 4", "'two' is not a number")


def test_duplicate_words_keep_the_first_with_a_warning(tmp_path: Path) -> None:
    rows = ROWS + ["cat 9 9 9", "dog 1 1 1"]
    kv = load(write(tmp_path, "6 3\n" + "\n".join(rows) + "\n"))
    assert kv.index_to_key == ["the", "cat", "sat", "mat", "dog"]
    assert np.array_equal(kv["cat"], f32(0.4, 0.5, 0.6)) and kv.vectors.shape == (5, 3)
    assert kv.key_to_index["dog"] == 4
    (warning,) = kv.load_warnings
    assert "'cat' at line 6 repeats line 3" in warning


def test_invalid_utf8_names_the_byte_offset(tmp_path: Path) -> None:
    data = ("\n".join(ROWS[:2]) + "\n").encode() + b"s\xffat 1 2 3\n"
    offset = data.index(b"\xff")
    expect_error(write(tmp_path, data), "line 3", f"byte offset {offset}", "UTF-8")


def test_detection(tmp_path: Path) -> None:
    assert detect_format(write(tmp_path, "\n".join(ROWS), "g.txt")) == "glove_text"
    assert detect_format(write(tmp_path, "4 3\n" + "\n".join(ROWS), "w.txt")) == "word2vec_text"
    assert detect_format(write(tmp_path, "4 3\n" + "\n".join(ROWS), "f.vec")) == "fasttext_text"
    binary = b"1 3\nw " + np.ones(3, "<f4").tobytes() + b"\n"
    assert detect_format(write(tmp_path, binary, "b.txt")) == "word2vec_binary"


# ------------------------------------------------------------------------ binary


def binary_file(words: list[str], dim: int = 3, count: int | None = None) -> bytes:
    body = b"".join(w.encode() + b" " + np.arange(dim, dtype="<f4").tobytes() for w in words)
    return f"{len(words) if count is None else count} {dim}\n".encode() + body


def test_binary_truncated_or_miscounted(tmp_path: Path) -> None:
    full = binary_file(["the", "cat", "sat"])
    assert load(write(tmp_path, full, "ok.bin")).index_to_key == ["the", "cat", "sat"]
    expect_error(write(tmp_path, full[:-5], "cut.bin"), "word 3")
    expect_error(write(tmp_path, binary_file(["the", "cat", "sat"], count=2), "more.bin"), "more")
    wrong_dim = binary_file(["the", "cat", "sat"], dim=4).replace(b"3 4\n", b"3 3\n", 1)
    expect_error(write(tmp_path, wrong_dim, "dim.bin"), fmt="word2vec_binary")


def test_binary_nan_and_bad_utf8(tmp_path: Path) -> None:
    data = b"2 2\nok " + f32(1, 2).tobytes() + b"bad " + f32(np.nan, 1).tobytes()
    expect_error(write(tmp_path, data, "nan.bin"), "word 2", "NaN")
    data = b"1 2\nb\xffd " + f32(1, 2).tobytes()
    expect_error(write(tmp_path, data, "utf.bin"), "byte offset 5", fmt="word2vec_binary")


def test_fasttext_bad_magic(tmp_path: Path) -> None:
    data = struct.pack("<2i", 12345, 12) + b"\0" * 200
    expect_error(write(tmp_path, data, "m.bin"), "magic", fmt="fasttext_bin")


def test_line_numbers_are_exact_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import core.vectors.text_files

    monkeypatch.setattr(core.vectors.text_files, "_CHUNK_BYTES", 100)  # many small chunks
    rows = [f"w{i} {i} 0.5 -1" for i in range(200)]
    kv = load(write(tmp_path, "\n".join(rows) + "\n", "ok.txt"))
    assert len(kv) == 200 and kv["w150"][0] == 150
    rows[170] = "w170 1 x 2"
    expect_error(write(tmp_path, "\n".join(rows) + "\n"), "line 171", "'x' is not a number")
