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

from core.vectors.text_files import (
    _BOM,
    FASTTEXT_MAGIC,
    LoadContext,
    Parsed,
    _looks_like_vector_line,
    _parse_header,
)

__all__ = ["read_binary_vectors", "validate_fasttext_bin"]

_WORD_LIMIT = 4096  # a word is never kilobytes long; bounds each search for its end


# --------------------------------------------------------------------------- word2vec binary


def _binary_offsets(
    buf: mmap.mmap, start: int, count: int, dim: int, ctx: LoadContext
) -> tuple[list[str], list[int]]:
    """Walk ``word<space><dim float32>`` records; return the words and the vector offsets."""
    nbytes = 4 * dim
    size = len(buf)
    words, offsets = [], []
    pos = start
    for i in range(count):
        if i % 20000 == 0:
            ctx.step(pos / size)
        space = buf.find(b" ", pos, pos + _WORD_LIMIT)
        if space < 0 or space + 1 + nbytes > size:
            raise ctx.error(
                f"word {i + 1}, byte offset {pos}",
                f"file ends or has no word here; header says {count} words of {dim} float32",
            )
        words.append(_binary_word(buf[pos:space], pos, dim, ctx))
        offsets.append(space + 1)
        pos = space + 1 + nbytes
    if buf[pos:].strip():
        raise ctx.error(
            f"byte offset {pos}", f"header says {count} words but the file has more data"
        )
    return words, offsets


def _binary_word(raw: bytes, pos: int, dim: int, ctx: LoadContext) -> str:
    """Decode one record's word; a NUL byte in it means the records are misaligned."""
    try:
        # The original tool writes a newline after each vector; gensim strips it too.
        word = raw.decode("utf-8").lstrip("\n")
    except UnicodeDecodeError as e:
        raise ctx.error(
            f"byte offset {pos + e.start}",
            f"invalid UTF-8 in a word (or the header's dimension {dim} is wrong)",
        ) from None
    if "\0" in word:
        # Float bytes read as a word: the header's dimension is wrong (gensim keeps such
        # garbage keys silently).
        raise ctx.error(
            f"byte offset {pos}",
            f"word {word!r} contains NUL bytes: the header's dimension {dim} is probably "
            "wrong, expected a word then exactly that many float32",
        )
    return word


def _binary_header(f: BinaryIO, path: str, ctx: LoadContext) -> tuple[int, int, int]:
    """Read and check the ``count dim`` line; return ``(count, dim, data_offset)``."""
    first = f.readline()
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
    # A text body behind a binary flag would otherwise be read as garbage float32.
    second = f.readline(_WORD_LIMIT)
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
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            words, offsets = _binary_offsets(buf, start, count, dim, ctx)
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
    input matrix against the file size.

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
