"""Reading word-vector files: format detection, validation and fast parsers.

Every parser here returns the same thing, ``(words, matrix, warnings)``: the vocabulary in file
order, a ``(n_words, dim)`` float32 matrix and human-readable warnings. Building a gensim
``KeyedVectors`` from that is left to :mod:`core.embeddings`, so this module never imports gensim.

The text parser gives results identical to gensim's ``load_word2vec_format`` (same keys, same
order, same float32 bits: both parse each number as a float64 and round it once to float32) but
parses whole chunks in C, which makes it several times faster. Malformed files raise
:class:`VectorFileError` naming the file, the line or byte offset and what was expected, instead of
gensim's bare ``ValueError``/``EOFError`` (PITFALLS 10).
"""

from __future__ import annotations

import mmap
import os
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

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
# A scheme of two or more letters: one letter would be a Windows drive (C:\...).
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")


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
        """The file name used in messages."""
        return os.path.basename(self.path) or self.path

    def error(self, where: str, what: str) -> VectorFileError:
        """Build an error that names the file and the place in it."""
        return VectorFileError(f"{self.name}: {where}: {what} (file: {self.path})")

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


# --------------------------------------------------------------------------------- checks


def check_local_file(path: str) -> None:
    """Raise :class:`VectorFileError` unless ``path`` is an existing, non-empty local file.

    URLs are refused because gensim's smart_open would happily download them (PITFALLS 12).
    """
    name = os.path.basename(path) or path
    if _URL_SCHEME.match(path):
        raise VectorFileError(f"{name}: only local files can be opened, not URLs ({path})")
    if not os.path.exists(path):
        raise VectorFileError(f"{name}: file not found ({path})")
    if os.path.isdir(path):
        raise VectorFileError(f"{name}: is a folder, expected a word-vector file ({path})")
    if os.path.getsize(path) == 0:
        raise VectorFileError(f"{name}: file is empty, expected word vectors ({path})")


def _parse_header(line: bytes) -> tuple[int, int] | None:
    """Return ``(count, dim)`` when ``line`` is a word2vec header of two integers."""
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _is_float(token: bytes | str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _looks_like_vector_line(line: bytes, dim: int | None = None) -> bool:
    """True when ``line`` decodes as UTF-8 and is a word followed by (``dim``) numbers."""
    try:
        parts = line.rstrip().decode("utf-8").split(" ")
    except UnicodeDecodeError:
        return False
    if len(parts) < 2 or (dim is not None and len(parts) != dim + 1):
        return False
    return all(_is_float(p) for p in parts[-(dim or len(parts) - 1) :])


def _is_text(data: bytes) -> bool:
    """True for UTF-8 without NUL bytes; float32 data is almost never that."""
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(data) - 3  # only a character cut off by the sniff's end
    return True


def detect_format(path: str | os.PathLike[str]) -> str:
    """Detect a word-vector file's format from its content (the name only breaks ties).

    Parameters
    ----------
    path : str or os.PathLike
        A local file.

    Returns
    -------
    str
        One of ``VECTOR_FORMATS`` other than ``"auto"``.

    Raises
    ------
    VectorFileError
        When the file is missing, empty, not local or of no known format.
    """
    path = os.fspath(path)
    check_local_file(path)
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    name = os.path.basename(path)
    if len(head) >= 4 and struct.unpack("<i", head[:4])[0] == FASTTEXT_MAGIC:
        return "fasttext_bin"
    if head[:1] == b"\x80":  # pickle protocol 2+ opcode: gensim's native .kv/.model
        return "gensim_kv"
    if head[:2] == b"\x1f\x8b":
        raise VectorFileError(f"{name}: byte 0: file is gzip-compressed; decompress it first")
    head = head.removeprefix(_BOM)
    first, _, rest = head.partition(b"\n")
    header = _parse_header(first)
    if header is not None:
        second = rest.partition(b"\n")[0]
        if _looks_like_vector_line(second, header[1]) or _is_text(rest):
            return "fasttext_text" if name.lower().endswith(".vec") else "word2vec_text"
        return "word2vec_binary"
    if _looks_like_vector_line(first):
        return "glove_text"
    raise VectorFileError(
        f"{name}: line 1: expected a 'count dim' header, a word followed by numbers, "
        f"a fastText .bin or a gensim .kv file ({path})"
    )


# ----------------------------------------------------------------------------- text formats


def _data_end(path: str) -> int:
    """Offset after the last non-blank byte: trailing blank lines are not rows."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(max(0, size - _SNIFF_BYTES))
        tail = f.read()
    return size - (len(tail) - len(tail.rstrip()))


def _chunks(f: BinaryIO, end: int, start: int, ctx: LoadContext) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, chunk)`` pieces of whole lines up to ``end``, each ending with a newline."""
    offset, carry = start, b""
    while True:
        ctx.step(offset / end if end else 1.0)
        block = f.read(min(_CHUNK_BYTES, end - offset - len(carry)))
        if not block:
            break
        block = carry + block
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            carry = block
            continue
        yield offset, block[:cut]
        offset += cut
        carry = block[cut:]
    if carry.strip():
        yield offset, carry + b"\n"


def _arrow_parse(chunk: bytes, dim: int) -> tuple[list[str], np.ndarray] | None:
    """Parse a regular chunk with pyarrow's multi-threaded CSV reader; None when irregular.

    Arrow's float parser rounds correctly to float64, like Python's ``float``; wherever it
    rejects a token, the exact line-by-line path below decides instead.
    """
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
    for j in range(dim):
        matrix[:, j] = table.column(j + 1).to_numpy()  # float64 -> float32: one rounding
    return table.column(0).to_pylist(), matrix


def _split_spaced_word(parts: list[str], dim: int) -> str | None:
    """Join the leading fields of a too-long row into one word (GloVe 840B has 'a b' words).

    Returns None when the extra leading fields are all numbers: then the row simply has too
    many values, which is an error, not a word with spaces.
    """
    extra = parts[1 : len(parts) - dim]
    if all(_is_float(p) for p in extra):
        return None
    return " ".join(parts[: len(parts) - dim])


def _exact_line(raw: bytes, line_no: int, offset: int, dim: int, ctx: LoadContext) -> tuple:
    """Parse one line with gensim's own rules (rstrip, split on single spaces, float)."""
    try:
        text = raw.rstrip().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ctx.error(
            f"line {line_no}, byte offset {offset + e.start}", "invalid UTF-8, expected UTF-8 text"
        ) from None
    parts = text.split(" ")
    word: str | None = parts[0]
    if len(parts) > dim + 1:
        word = _split_spaced_word(parts, dim)
    if word is None or len(parts) < dim + 1:
        raise ctx.error(
            f"line {line_no}", f"found {len(parts) - 1} values, expected a word and {dim} numbers"
        )
    values = []
    for token in parts[len(parts) - dim :]:
        try:
            values.append(float(token))
        except ValueError:
            raise ctx.error(f"line {line_no}", f"{token!r} is not a number") from None
    return word, values, len(parts) > dim + 1


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
    return words, np.array(rows, dtype=np.float64).astype(np.float32), spaced


def _check_finite(matrix: np.ndarray, first_line: int, ctx: LoadContext) -> None:
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise ctx.error(f"line {first_line + row}", "contains NaN or infinity, expected numbers")


def _glove_dim(path: str, start: int, ctx: LoadContext) -> int:
    """Infer the dimension of a header-less file: the usual row length of the first lines."""
    with open(path, "rb") as f:
        f.seek(start)
        lines = f.read(_SNIFF_BYTES).split(b"\n")[:50]
    lengths = [len(line.rstrip().split(b" ")) - 1 for line in lines if line.strip()]
    lengths = lengths[:-1] or lengths  # the last line of the sniff may be cut short
    dim = max(set(lengths), key=lengths.count) if lengths else 0
    if dim < 1:
        raise ctx.error("line 1", "expected a word followed by numbers")
    return dim


def _text_start(path: str, with_header: bool, ctx: LoadContext) -> tuple[int, int | None, int]:
    """Return ``(data_offset, header_count, dim)``, validating the header against the size."""
    with open(path, "rb") as f:
        first = f.readline()
    start = len(_BOM) if first.startswith(_BOM) else 0
    if not with_header:
        return start, None, _glove_dim(path, start, ctx)
    header = _parse_header(first[start:])
    if header is None:
        raise ctx.error("line 1", f"expected a header 'count dim', found {first[:60]!r}")
    count, dim = header
    if count < 1 or dim < 1:
        raise ctx.error("line 1", f"header says {count} words of {dim} numbers; expected >= 1")
    available = os.path.getsize(path) - len(first)
    # Each row needs at least a word, and a separator plus a digit per value: refuse absurd
    # counts before allocating anything (PITFALLS 10).
    if count * (2 * dim + 2) > available:
        raise ctx.error(
            "line 1",
            f"header says {count} words of {dim} numbers, which needs at least "
            f"{count * (2 * dim + 2)} bytes, but only {available} bytes follow",
        )
    return len(first), count, dim


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
    line_no = 2 if with_header else 1
    words: list[str] = []
    parts: list[np.ndarray] = []
    spaced: list[str] = []
    with open(path, "rb") as f:
        f.seek(start)
        for offset, chunk in _chunks(f, _data_end(path), start, ctx):
            parsed = _arrow_parse(chunk, dim)
            if parsed is None:
                w, m, s = _exact_parse(chunk, line_no, offset, dim, ctx)
                spaced += s
            else:
                w, m = parsed
            _check_finite(m, line_no, ctx)
            words += w
            parts.append(m)
            line_no += len(w)
            if count is not None and len(words) > count:
                raise ctx.error(
                    f"line {count + 2}", f"header says {count} words but the file has more lines"
                )
    if count is not None and len(words) < count:
        raise ctx.error(
            f"line {line_no}", f"file ends after {len(words)} words, header says {count}"
        )
    if spaced:
        ctx.warnings.append(
            f"{len(spaced)} words contain spaces and were kept whole, e.g. {spaced[0]}"
        )
    ctx.step(1.0)
    return words, np.concatenate(parts) if parts else np.empty((0, dim), np.float32), ctx.warnings


# --------------------------------------------------------------------------- word2vec binary


def _binary_offsets(buf: mmap.mmap, start: int, count: int, dim: int, ctx: LoadContext):
    """Walk ``word<space><dim float32>`` records; return the words and the vector offsets."""
    nbytes = 4 * dim
    size = len(buf)
    words, offsets = [], []
    pos = start
    for i in range(count):
        if i % 20000 == 0:
            ctx.step(pos / size)
        space = buf.find(b" ", pos, pos + 4096)  # a word is never kilobytes long
        if space < 0 or space + 1 + nbytes > size:
            raise ctx.error(
                f"word {i + 1}, byte offset {pos}",
                f"file ends or has no word here; header says {count} words of {dim} float32",
            )
        try:
            # The original tool writes a newline after each vector; gensim strips it too.
            words.append(buf[pos:space].decode("utf-8").lstrip("\n"))
        except UnicodeDecodeError as e:
            raise ctx.error(f"byte offset {pos + e.start}", "invalid UTF-8 in a word") from None
        offsets.append(space + 1)
        pos = space + 1 + nbytes
    if buf[pos:].strip():
        raise ctx.error(
            f"byte offset {pos}", f"header says {count} words but the file has more data"
        )
    return words, offsets


def read_binary_vectors(path: str, ctx: LoadContext) -> Parsed:
    """Read the original word2vec C tool's binary format (header line, then records).

    Returns
    -------
    words, matrix, warnings
    """
    with open(path, "rb") as f:
        first = f.readline()
        start = len(_BOM) if first.startswith(_BOM) else 0
        header = _parse_header(first[start:])
        if header is None:
            raise ctx.error("line 1", f"expected a header 'count dim', found {first[:60]!r}")
        count, dim = header
        available = os.path.getsize(path) - len(first)
        if count < 1 or dim < 1 or count * (1 + 4 * dim) > available:
            raise ctx.error(
                "line 1",
                f"header says {count} words of {dim} float32, but {available} bytes follow",
            )
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            words, offsets = _binary_offsets(buf, len(first), count, dim, ctx)
            nbytes = 4 * dim
            data = bytearray().join(buf[o : o + nbytes] for o in offsets)
    matrix = np.frombuffer(data, dtype="<f4").reshape(count, dim).astype(np.float32)  # (n, dim)
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise ctx.error(f"word {row + 1} ({words[row]!r})", "contains NaN or infinity")
    ctx.step(1.0)
    return words, matrix, ctx.warnings


# ----------------------------------------------------------------------------- fastText .bin


def _unpack(buf: mmap.mmap, pos: int, fmt: str, ctx: LoadContext, what: str) -> tuple:
    size = struct.calcsize(fmt)
    if pos + size > len(buf):
        raise ctx.error(f"byte offset {pos}", f"file ends, expected {what}")
    return struct.unpack_from(fmt, buf, pos)


def _skip_fasttext_vocab(buf: mmap.mmap, pos: int, size: int, ctx: LoadContext) -> int:
    """Walk the NUL-terminated vocabulary entries; return the offset after them."""
    for i in range(size):
        if i % 20000 == 0:
            ctx.step(0.5 * pos / len(buf))
        end = buf.find(b"\0", pos)
        if end < 0 or end + 10 > len(buf):
            # gensim would wait for a NUL byte here forever (PITFALLS 11).
            raise ctx.error(
                f"byte offset {pos}", f"file ends inside the vocabulary at entry {i + 1} of {size}"
            )
        pos = end + 1 + 9  # NUL, int64 count, int8 entry type
    return pos


def validate_fasttext_bin(path: str, ctx: LoadContext) -> None:
    """Check a Facebook fastText ``.bin`` end to end before gensim reads it.

    gensim neither checks the magic number nor survives a file cut inside its vocabulary
    (it loops forever), so the structure is walked here first: header, vocabulary, pruned
    index, then the size of the input matrix against the file size.
    """
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        magic, version = _unpack(buf, 0, "<2i", ctx, "the fastText magic number")
        if magic != FASTTEXT_MAGIC:
            raise ctx.error("byte offset 0", f"expected fastText magic number {FASTTEXT_MAGIC}")
        args = _unpack(buf, 8, "<12id", ctx, "the model arguments")
        dim, bucket = args[0], args[8]
        pos = 8 + struct.calcsize("<12id")
        size, nwords, nlabels, _, prune = _unpack(buf, pos, "<3iqq", ctx, "the vocabulary sizes")
        pos += struct.calcsize("<3iqq")
        if nlabels > 0:
            raise ctx.error(f"byte offset {pos}", "supervised (classifier) models are unsupported")
        if not (0 < dim < 100_000 and 0 <= nwords <= size and bucket >= 0):
            raise ctx.error("byte offset 8", f"implausible dim {dim}, words {nwords}/{size}")
        pos = _skip_fasttext_vocab(buf, pos, size, ctx) + 8 * max(prune, 0)
        quant, rows, cols = _unpack(buf, pos, "<?2q", ctx, "the input matrix header")
        if quant:
            raise ctx.error(f"byte offset {pos}", "quantised models (.ftz) are not supported")
        pos += struct.calcsize("<?2q")
        if cols != dim or rows != nwords + bucket or pos + 4 * rows * cols > len(buf):
            raise ctx.error(
                f"byte offset {pos}",
                f"expected a {nwords + bucket} x {dim} float32 matrix within the file",
            )
