"""Reading word-vector text files: the shared load context and errors, and fast text parsers.

Every parser here returns the same thing, ``(words, matrix, warnings)``: the vocabulary in file
order, a ``(n_words, dim)`` float32 matrix and human-readable warnings. Building a gensim
``KeyedVectors`` from that is left to :mod:`core.vectors.load`, so this module never imports gensim.

The text parser gives results identical to gensim's ``load_word2vec_format`` (same keys, same
order, same float32 bits: both parse each number as a float64 and round it once to float32) but
parses whole chunks in C, which makes it several times faster. Malformed files raise
:class:`VectorFileError` naming the file, the line or byte offset and what was expected, instead of
gensim's bare ``ValueError``/``EOFError``. Every read is bounded (:mod:`core.vectors.lines`: no line
may be longer than a row of its dimension can be) and every value checked
(:mod:`core.vectors.values`: finite and within ±1e6). File checks and format detection live in
:mod:`core.vectors.detect`, the binary formats in :mod:`core.vectors.binary_files`, rows of 1,000
numbers or more in :mod:`core.vectors.wide_rows`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from core.vectors.lines import (
    HEADER_LIMIT,
    MAX_DIM,
    LineTooLong,
    max_row_bytes,
    too_long,
    whole_lines,
)
from core.vectors.printable import readable
from core.vectors.values import row_problem
from core.vectors.wide_rows import WIDE_DIM, parse_wide_chunk

VECTOR_FORMATS = (
    "auto",
    "word2vec_text",
    "word2vec_binary",
    "glove_text",
    "fasttext_text",
    "fasttext_bin",
    "gensim_kv",
)

FASTTEXT_MAGIC = 793712314
_BOM = b"\xef\xbb\xbf"
_CHUNK_BYTES = 8 << 20  # large enough for C-speed parsing, small enough for frequent progress
_SNIFF_BYTES = 64 << 10


class VectorFileError(ValueError):
    """A word-vector file is missing, unsupported or malformed.

    The message names the file, the line or byte offset and what was expected.
    """


class LoadCancelled(Exception):
    """Loading was cancelled by the caller's ``cancel`` callback."""


@dataclass
class LoadContext:
    """Where a parser reports progress, polls cancellation and collects warnings."""

    path: str
    progress: Callable[[float], None] | None = None
    cancel: Callable[[], bool] | None = None
    warnings: list[str] = field(default_factory=list)
    _last: float = -1.0

    @property
    def name(self) -> str:
        """The file name used in messages (and as the vectors' name): printable, one line."""
        return readable(os.path.basename(self.path) or self.path)

    def error(self, where: str, what: str) -> VectorFileError:
        """Build an error that names the file and the place in it."""
        return VectorFileError(f"{self.name}: {where}: {what} (file: {readable(self.path)})")

    def step(self, fraction: float) -> None:
        """Poll cancellation, then report progress at most about 100 times per load."""
        if self.cancel is not None and self.cancel():
            raise LoadCancelled(f"loading {self.name} was cancelled")
        fraction = min(max(fraction, 0.0), 1.0)
        if self.progress is not None and (fraction >= self._last + 0.01 or fraction == 1.0):
            if fraction > self._last:
                self._last = fraction
                self.progress(fraction)


Parsed = tuple[list[str], np.ndarray, list[str]]


# ------------------------------------------------------------------------- line shapes


def _parse_header(line: bytes) -> tuple[int, int] | None:
    """Return ``(count, dim)`` when ``line`` is a word2vec header of two integers.

    Signs are accepted so that a negative count is reported as a bad header, not misread as a
    one-dimensional GloVe row.
    """
    parts = line.split()
    if len(parts) != 2 or not all(p.removeprefix(b"-").isdigit() for p in parts):
        return None
    # Python refuses to convert more than 4,300 digits; any count past 10^30 is as absurd.
    count, dim = (int(p) if len(p) <= 30 else 10**30 for p in parts)
    return count, dim


def _is_float(token: bytes | str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _looks_like_vector_line(line: bytes, dim: int | None = None) -> bool:
    """True when ``line`` decodes as UTF-8 and is a word followed by (``dim``) numbers."""
    if line.count(b" ") > MAX_DIM + 64:  # more fields than any row: not worth splitting
        return False
    try:
        parts = line.rstrip().decode("utf-8").split(" ")
    except UnicodeDecodeError:
        return False
    if len(parts) < 2 or (dim is not None and len(parts) != dim + 1):
        return False
    return all(_is_float(p) for p in parts[-(dim or len(parts) - 1) :])


# ----------------------------------------------------------------------------- text formats


def _data_end(path: str) -> int:
    """Offset after the last non-blank byte: trailing blank lines are not rows."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(max(0, size - _SNIFF_BYTES))
        tail = f.read()
    return size - (len(tail) - len(tail.rstrip()))


def _arrow_parse(chunk: bytes, dim: int) -> tuple[list[str], np.ndarray] | None:
    """Parse a regular chunk with pyarrow's multi-threaded CSV reader; None when irregular.

    Arrow's float parser rounds correctly to float64, like Python's ``float``; wherever it
    rejects a token, the exact line-by-line path below decides instead.
    """
    import pyarrow as pa  # here, not at the top: not on the way to the window's first paint
    import pyarrow.csv as pa_csv

    names = [f"c{i}" for i in range(dim + 1)]
    types = {n: pa.float64() for n in names[1:]} | {"c0": pa.string()}
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(chunk),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=4 << 20),
            parse_options=pa_csv.ParseOptions(
                delimiter=" ",
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=types,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    # A lone "\r" is a line break to arrow but part of a word to gensim: counts must agree.
    if table.num_rows != chunk.count(b"\n") or table.num_rows == 0:
        return None
    matrix = np.empty((table.num_rows, dim), dtype=np.float32)  # (n, dim)
    with np.errstate(over="ignore"):  # past float32 becomes inf, which the value check names
        for j in range(dim):
            matrix[:, j] = table.column(j + 1).to_numpy()  # float64 -> float32: one rounding
    return table.column(0).to_pylist(), matrix


def _split_spaced_word(parts: list[str], dim: int) -> str | None:
    """Join the leading fields of a too-long row into one word (GloVe 840B has 'a b' words).

    Returns None when the extra leading fields are all numbers: then the row simply has too
    many values, which is an error, not a word with spaces.
    """
    extra = parts[1 : len(parts) - dim]
    # An empty field is two spaces in a row: a separator mistake, not part of a word.
    if len(parts) < dim + 1 or "" in parts or all(_is_float(p) for p in extra):
        return None
    return " ".join(parts[: len(parts) - dim])


def _exact_line(raw: bytes, line_no: int, offset: int, dim: int, ctx: LoadContext) -> tuple:
    """Parse one line with gensim's own rules (rstrip, split on single spaces, float)."""
    if len(raw) > max_row_bytes(dim):  # refused before splitting it into a million pieces
        raise ctx.error(
            f"line {line_no}",
            f"the line is {len(raw):,} bytes long, but a row of a word and {dim} numbers is at "
            f"most {max_row_bytes(dim):,}",
        )
    try:
        text = raw.rstrip().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ctx.error(
            f"line {line_no}, byte offset {offset + e.start}", "invalid UTF-8, expected UTF-8 text"
        ) from None
    parts = text.split(" ")
    word = parts[0] if len(parts) == dim + 1 else _split_spaced_word(parts, dim)
    if word is None:
        raise ctx.error(
            f"line {line_no}",
            f"found {len(parts) - 1} values, expected a word and {dim} numbers"
            + _separator_hint(text),
        )
    values = []
    for token in parts[len(parts) - dim :]:
        try:
            values.append(float(token))
        except ValueError:
            hint = _separator_hint(text)
            raise ctx.error(f"line {line_no}", f"{token!r} is not a number{hint}") from None
    return word, values, len(parts) > dim + 1


def _separator_hint(text: str) -> str:
    """Say why a line split wrongly: gensim splits on single spaces only, so we do too."""
    if not text:
        return " (the line is blank)"
    if "\t" in text:
        return " (the line contains a tab; values must be separated by single spaces)"
    if "  " in text or text.startswith(" "):
        return " (two spaces in a row; values must be separated by single spaces)"
    return ""


def _exact_parse(chunk: bytes, first_line: int, offset: int, dim: int, ctx: LoadContext):
    """Line-by-line parse of a chunk the fast path refused; reports the exact bad line."""
    words, rows, spaced = [], [], []
    for i, raw in enumerate(chunk.split(b"\n")[:-1]):
        word, values, has_space = _exact_line(raw, first_line + i, offset, dim, ctx)
        words.append(word)
        rows.append(values)
        if has_space:
            spaced.append(f"line {first_line + i}: {word!r}")
        offset += len(raw) + 1
    with np.errstate(over="ignore"):  # as in _arrow_parse
        return words, np.array(rows, dtype=np.float64).astype(np.float32), spaced


def _check_values(matrix: np.ndarray, first_line: int, ctx: LoadContext) -> None:
    """Refuse NaN, infinity and values too large for attention (core.vectors.values)."""
    problem = row_problem(matrix, lambda row: f"line {first_line + row}")
    if problem is not None:
        raise ctx.error(*problem)


def _glove_dim(f: BinaryIO, ctx: LoadContext) -> int:
    """Infer the dimension of a header-less file: the usual row length of its first lines.

    Reads whole lines (each bounded by the widest row allowed) until 64 KiB are seen: at least
    the first line, however wide, and up to 50 lines to outvote an odd one.
    """
    lengths: list[int] = []
    seen = line_no = 0
    limit = max_row_bytes(MAX_DIM)
    while len(lengths) < 50 and (seen < _SNIFF_BYTES or not lengths):
        line = f.readline(limit + 1)
        line_no += 1
        if not line or (lengths and not line.endswith(b"\n") and seen + len(line) >= _SNIFF_BYTES):
            break  # the end of the file, or a line cut by the sniff's own limit
        if len(line) > limit:
            raise too_long(line_no, limit, None, ctx)
        seen += len(line)
        if line.strip():
            lengths.append(line.rstrip().count(b" "))
    dim = max(set(lengths), key=lengths.count) if lengths else 0
    if dim < 1:
        raise ctx.error("line 1", "expected a word followed by numbers")
    if dim > MAX_DIM:
        raise ctx.error("line 1", f"found {dim} numbers; at most {MAX_DIM:,} are supported")
    return dim


def _read_header(f: BinaryIO, ctx: LoadContext) -> tuple[int, int, int]:
    """Read and check a ``count dim`` line 1; return ``(count, dim, bytes read)``."""
    first = f.readline(HEADER_LIMIT)
    start = len(_BOM) if first.startswith(_BOM) else 0
    header = _parse_header(first[start:])
    if header is None:
        raise ctx.error("line 1", f"expected a header 'count dim', found {first[:60]!r}")
    count, dim = header
    if count < 1 or dim < 1:
        raise ctx.error("line 1", f"header says {count} words of {dim} numbers; expected >= 1")
    return count, dim, len(first)


def _text_start(path: str, with_header: bool, ctx: LoadContext) -> tuple[int, int | None, int]:
    """Return ``(data_offset, header_count, dim)``, validating the header against the size."""
    with open(path, "rb") as f:
        start = len(_BOM) if f.read(len(_BOM)) == _BOM else 0
        f.seek(start)
        if not with_header:
            return start, None, _glove_dim(f, ctx)
        f.seek(0)
        count, dim, data_start = _read_header(f, ctx)
    available = os.path.getsize(path) - data_start
    # Each row needs at least a word, and a separator plus a digit per value: refuse absurd
    # counts before allocating anything (gensim allocates what the header claims first).
    if count * (2 * dim + 2) > available:
        raise ctx.error(
            "line 1",
            f"header says {count} words of {dim} numbers, which needs at least "
            f"{count * (2 * dim + 2)} bytes, but only {available} bytes follow",
        )
    if dim > MAX_DIM:  # a row could then be longer than any line read is allowed to be
        raise ctx.error(
            "line 1", f"header says {dim} numbers per word; at most {MAX_DIM:,} are supported"
        )
    return data_start, count, dim


def read_text_vectors(path: str, with_header: bool, ctx: LoadContext) -> Parsed:
    """Read word2vec/fastText text (``with_header``) or GloVe text (no header).

    Parameters
    ----------
    path : str
        A local file.
    with_header : bool
        Whether line 1 is a ``count dim`` header.
    ctx : LoadContext
        Progress, cancellation and warnings.

    Returns
    -------
    words, matrix, warnings
    """
    start, count, dim = _text_start(path, with_header, ctx)
    first_line = 2 if with_header else 1
    with open(path, "rb") as f:
        f.seek(start)
        words, parts, spaced = _read_rows(f, (start, _data_end(path)), first_line, count, dim, ctx)
    if count is not None and len(words) < count:
        raise ctx.error(
            f"line {first_line + len(words)}",
            f"file ends after {len(words)} words, header says {count}",
        )
    if spaced:
        ctx.warnings.append(
            f"{len(spaced)} words contain spaces and were kept whole, e.g. {spaced[0]}"
        )
    ctx.step(1.0)
    return words, np.concatenate(parts) if parts else np.empty((0, dim), np.float32), ctx.warnings


def _read_rows(
    f: BinaryIO, span: tuple[int, int], line_no: int, count: int | None, dim: int,
    ctx: LoadContext,
) -> tuple[list[str], list[np.ndarray], list[str]]:
    """Parse the rows chunk by chunk: words, a (rows, dim) matrix per chunk, spaced words."""
    words: list[str] = []
    parts: list[np.ndarray] = []
    spaced: list[str] = []
    try:
        for offset, chunk in whole_lines(f, span, dim, ctx, _CHUNK_BYTES):
            parsed = _arrow_parse(chunk, dim) if dim < WIDE_DIM else parse_wide_chunk(chunk, dim)
            if parsed is None:
                w, m, s = _exact_parse(chunk, line_no, offset, dim, ctx)
                spaced += s
            else:
                w, m = parsed
            _check_values(m, line_no, ctx)
            words += w
            parts.append(m)
            line_no += len(w)
            if count is not None and len(words) > count:
                raise ctx.error(
                    f"line {count + 2}", f"header says {count} words but the file has more lines"
                )
    except LineTooLong as e:  # the line after every row parsed so far
        raise too_long(line_no, e.limit, dim, ctx) from None
    return words, parts, spaced
