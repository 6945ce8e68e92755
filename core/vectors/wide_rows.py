"""A fast parser for chunks of wide rows (thousands of numbers each), where the per-column one
of :mod:`core.vectors.text_files` is slow.

That parser gives pyarrow one CSV column per dimension: ideal for 50 or 300 columns, but with
12,000 columns of 80 rows each, the fixed cost per column dominates (0.45 s per 8 MB chunk, nine
times a 50-dimension chunk, and ~25x the matrix in memory). Here the numbers of all the chunk's
rows are split and converted as one list by pyarrow's compute functions (0.1 s per 8 MB); the
words are cut off in Python, which costs little because a chunk of wide rows has few lines. The
numbers are parsed as float64 and rounded once to float32, as gensim and the other parser do, so
results are bit-identical; a chunk this parser is unsure of returns None, and the exact
line-by-line parser decides (and names the line).
"""

from __future__ import annotations

import numpy as np

WIDE_DIM = 1000
"""From this many numbers per row on, chunks are parsed here."""


def parse_wide_chunk(chunk: bytes, dim: int) -> tuple[list[str], np.ndarray] | None:
    """``(words, (n, dim) float32)`` for a chunk of whole lines, or None when irregular."""
    lines = chunk.split(b"\n")[:-1]  # the chunk ends with a newline
    words, numbers = [], []
    for line in lines:
        word, _, rest = line.removesuffix(b"\r").partition(b" ")
        # Exactly dim - 1 separators, no empty field, nothing before the word: else let the
        # exact parser say what is wrong (or keep a word with spaces whole).
        if rest.count(b" ") != dim - 1 or b"  " in rest or not word or rest[-1:] in b" \t":
            return None
        try:
            words.append(word.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        numbers.append(rest)
    if not lines:
        return None
    values = _numbers(numbers)
    if values is None or values.size != len(lines) * dim:
        return None
    with np.errstate(over="ignore"):  # past float32 becomes inf, which the value check names
        return words, values.astype(np.float32).reshape(len(lines), dim)  # (n, dim)


def _numbers(rows: list[bytes]) -> np.ndarray | None:
    """The space-separated numbers of ``rows``, split and parsed by pyarrow (or None).

    Arrow's string to float64 conversion rounds correctly, as Python's ``float`` does.
    """
    import pyarrow as pa  # here, not at the top: not on the way to the window's first paint
    import pyarrow.compute as pc

    text = pa.array([b" ".join(rows)], pa.large_binary())
    try:
        fields = pc.split_pattern(text.cast(pa.large_string()), " ").flatten()  # (count,)
        return np.asarray(pc.cast(fields, pa.float64()).to_numpy())  # (count,) float64
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
