"""Reading binary word-vector files: the word2vec C tool's format and fastText ``.bin`` checks.

Split from :mod:`core.vectors.text_files` (text formats, the shared :class:`LoadContext`).
The word2vec reader walks the records over a memory map and copies only the vectors; the fastText
validator walks the whole ``.bin`` structure before gensim reads it, because gensim neither checks
the magic number nor survives a file cut inside its vocabulary (it waits forever for a NUL).
Like the text parsers, nothing here imports gensim.
"""

from __future__ import annotations

import mmap
import os
import struct
from typing import BinaryIO

import numpy as np

from core.vectors.lines import HEADER_LIMIT, MAX_DIM, WORD_LIMIT
from core.vectors.text_files import (
    _BOM,
    FASTTEXT_MAGIC,
    LoadContext,
    Parsed,
    _looks_like_vector_line,
    _parse_header,
)
from core.vectors.values import describe_row, first_bad_row, row_problem

__all__ = ["read_binary_vectors", "validate_fasttext_bin"]


# --------------------------------------------------------------------------- word2vec binary


def _copy_records(
    buf: mmap.mmap, start: int, dim: int, out: np.ndarray, ctx: LoadContext
) -> list[str]:
    """Walk ``word<space><dim float32>`` records into ``out`` (count, dim); return the words.

    Each vector is copied straight from the memory map into its row: the matrix is the only
    allocation the size of the data (joining slices, then converting, held it three times).
    """
    count = len(out)
    nbytes = 4 * dim
    size = len(buf)
    words = []
    pos = start
    with memoryview(buf) as source, out.reshape(-1).view(np.uint8).data as target:
        for i in range(count):
            if i % 20000 == 0:
                ctx.step(pos / size)
            space = buf.find(b" ", pos, pos + WORD_LIMIT)
            if space < 0 or space + 1 + nbytes > size:
                raise ctx.error(
                    f"word {i + 1}, byte offset {pos}",
                    f"file ends or has no word here; header says {count} words of {dim} float32",
                )
            words.append(_binary_word(buf[pos:space], i, pos, dim, ctx))
            target[i * nbytes : (i + 1) * nbytes] = source[space + 1 : space + 1 + nbytes]
            pos = space + 1 + nbytes
    _check_only_blanks_after(buf, pos, count, ctx)
    return words


def _check_only_blanks_after(buf: mmap.mmap, pos: int, count: int, ctx: LoadContext) -> None:
    """Only white space may follow the last record; looked at 1 MB at a time, never all at once."""
    for at in range(pos, len(buf), 1 << 20):
        if buf[at : at + (1 << 20)].strip():
            raise ctx.error(
                f"byte offset {pos}", f"header says {count} words but the file has more data"
            )


def _binary_word(raw: bytes, index: int, pos: int, dim: int, ctx: LoadContext) -> str:
    """Decode one record's word; a NUL byte in it means the records are misaligned."""
    try:
        # The original tool writes a newline after each vector; gensim strips it too.
        word = raw.decode("utf-8").lstrip("\n")
    except UnicodeDecodeError as e:
        raise ctx.error(
            f"word {index + 1}, byte offset {pos + e.start}",
            f"invalid UTF-8 in a word (or the header's dimension {dim} is wrong)",
        ) from None
    if "\0" in word:
        # Float bytes read as a word: the header's dimension is wrong (gensim keeps such
        # garbage keys silently).
        raise ctx.error(
            f"word {index + 1}, byte offset {pos}",
            f"word {word!r} contains NUL bytes: the header's dimension {dim} is probably "
            "wrong, expected a word then exactly that many float32",
        )
    return word


def _binary_header(f: BinaryIO, path: str, ctx: LoadContext) -> tuple[int, int, int]:
    """Read and check the ``count dim`` line; return ``(count, dim, data_offset)``."""
    first = f.readline(HEADER_LIMIT)  # bounded: a file of zeros has no line break at all
    start = len(_BOM) if first.startswith(_BOM) else 0
    header = _parse_header(first[start:])
    if header is None:
        raise ctx.error("line 1", f"expected a header 'count dim', found {first[:60]!r}")
    count, dim = header
    available = os.path.getsize(path) - len(first)
    # Checked before anything is allocated: a header claiming 10^12 words must not reserve
    # memory for them (gensim allocates what the header claims before reading a row).
    if count < 1 or dim < 1 or count * (1 + 4 * dim) > available:
        raise ctx.error(
            "line 1",
            f"header says {count} words of {dim} float32, which needs at least "
            f"{count * (1 + 4 * dim)} bytes, but {available} bytes follow",
        )
    if dim > MAX_DIM:
        raise ctx.error(
            "line 1", f"header says {dim} float32 per word; at most {MAX_DIM:,} are supported"
        )
    # A text body behind a binary flag would otherwise be read as garbage float32.
    second = f.readline(WORD_LIMIT)
    if _looks_like_vector_line(second, dim):
        raise ctx.error(
            "line 2",
            f"expected binary float32 vectors but found a text row {second[:40]!r}; "
            "open the file as word2vec text",
        )
    return count, dim, len(first)


def read_binary_vectors(path: str, ctx: LoadContext) -> Parsed:
    """Read the original word2vec C tool's binary format (header line, then records).

    Parameters
    ----------
    path : str
        A local file.
    ctx : LoadContext
        Progress, cancellation and warnings.

    Returns
    -------
    words, matrix, warnings
    """
    with open(path, "rb") as f:
        count, dim, start = _binary_header(f, path, ctx)
        matrix = np.empty((count, dim), dtype="<f4")  # (n, dim), the file's byte order
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            words = _copy_records(buf, start, dim, matrix, ctx)
    matrix = matrix.astype(np.float32, copy=False)  # a no-op on little-endian machines
    problem = row_problem(matrix, lambda row: f"word {row + 1} ({words[row]!r})")
    if problem is not None:
        raise ctx.error(*problem)
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
            # gensim would wait for a NUL byte here forever.
            raise ctx.error(
                f"byte offset {pos}", f"file ends inside the vocabulary at entry {i + 1} of {size}"
            )
        pos = end + 1 + 9  # NUL, int64 count, int8 entry type
    return pos


def _fasttext_header(buf: mmap.mmap, ctx: LoadContext) -> tuple[int, int, int, int, int, int]:
    """Check magic, arguments and vocabulary sizes; return dim, bucket, sizes, prune, offset."""
    magic, _version = _unpack(buf, 0, "<2i", ctx, "the fastText magic number")
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
    return dim, bucket, size, nwords, prune, pos


def validate_fasttext_bin(path: str, ctx: LoadContext) -> None:
    """Check a Facebook fastText ``.bin`` end to end before gensim reads it.

    The structure is walked here first: header, vocabulary, pruned index, then the size of the
    input matrix against the file size, and its values (core.vectors.values: gensim keeps NaN,
    which surfaces much later as an SVD that does not converge, naming no file).

    Raises
    ------
    VectorFileError
        Naming the byte offset where the file stops matching the format.
    """
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        dim, bucket, size, nwords, prune, pos = _fasttext_header(buf, ctx)
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
        found = _bad_matrix_row(buf, pos, rows, cols)
        if found is not None:
            row, problem = found
            raise ctx.error(f"byte offset {pos + 4 * row * cols}: {_row_name(buf, row, nwords)}",
                            problem)


def _bad_matrix_row(buf: mmap.mmap, pos: int, rows: int, cols: int) -> tuple[int, str] | None:
    """The first bad row of the input matrix, read in place from the memory map.

    The array viewing the map is gone when this returns, so the map can be closed (an error
    raised while it exists would keep it in the traceback and make closing the map fail).
    """
    matrix = np.frombuffer(buf, dtype="<f4", count=rows * cols, offset=pos).reshape(rows, cols)
    row = first_bad_row(matrix)
    found = None if row is None else (row, describe_row(matrix[row]))
    del matrix
    return found


def _row_name(buf: mmap.mmap, row: int, nwords: int) -> str:
    """Name row ``row`` of the input matrix: a word (walking the vocabulary again) or a bucket."""
    if row >= nwords:
        return f"input matrix row {row + 1}, sub-word bucket {row - nwords + 1}"
    pos = 8 + struct.calcsize("<12id") + struct.calcsize("<3iqq")
    for _ in range(row):
        pos = buf.find(b"\0", pos) + 1 + 9
    word = buf[pos : buf.find(b"\0", pos)].decode("utf-8", "backslashreplace")
    return f"input matrix row {row + 1}, word {row + 1} ({word!r})"
