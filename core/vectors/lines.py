"""Reading a text file's lines with a bound on every one, so no file can make a read unbounded.

A valid row is a word and ``dim`` numbers, so its length has a ceiling (:func:`max_row_bytes`):
a longer run of bytes without a line break is not a row, whatever follows. Every read here stops
at that ceiling and says so, naming the line, instead of copying the run until the file ends
(a 2 GB run of zeros used to take minutes and gigabytes before it was refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol


class LoadContext(Protocol):
    """What these readers need of core.vectors.text_files.LoadContext (not imported: it
    imports this module)."""

    def error(self, where: str, what: str) -> Exception: ...

    def step(self, fraction: float) -> None: ...

MAX_DIM = 100_000
"""The widest vectors opened: real embeddings have at most a few thousand dimensions."""
MAX_NUMBER_CHARS = 64
"""Longest number written in a row ("-1.2345678901234567e-05" is 23); generous on purpose."""
WORD_LIMIT = 4096
"""Longest word in bytes: a word is never kilobytes long (GloVe 840B's longest is ~1,000)."""
HEADER_LIMIT = 256
"""Longest ``count dim`` header line: two integers."""


def max_row_bytes(dim: int) -> int:
    """The longest a valid row of ``dim`` numbers can be: word, numbers, separators, CR LF."""
    return WORD_LIMIT + dim * (MAX_NUMBER_CHARS + 1) + 2


def too_long(line_no: int, limit: int, dim: int | None, ctx: LoadContext) -> Exception:
    """The error for a line with no line break within ``limit`` bytes."""
    row = f"a word and {dim} numbers" if dim is not None else f"a word and up to {MAX_DIM} numbers"
    return ctx.error(
        f"line {line_no}",
        f"no line break within {limit:,} bytes, but a row of {row} is shorter than that; "
        "expected one word vector per line",
    )


def read_line(f: BinaryIO, limit: int, line_no: int, dim: int | None, ctx: LoadContext) -> bytes:
    """One line (with its newline, if any) of at most ``limit`` bytes; an error when longer."""
    line = f.readline(limit + 1)
    if len(line) > limit:
        raise too_long(line_no, limit, dim, ctx)
    return line


class LineTooLong(Exception):
    """No line break within ``limit`` bytes (the reader, which counts lines, names the line)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"no line break within {limit} bytes")
        self.limit = limit


def whole_lines(
    f: BinaryIO, span: tuple[int, int], dim: int, ctx: LoadContext, chunk_bytes: int
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, chunk)`` pieces of whole lines from ``span[0]`` to ``span[1]``, reading
    ``chunk_bytes`` at a time.

    Each chunk ends with a newline (one is added after a last line without one). Only the new
    block is searched for a line break and the unfinished line is kept as a list of pieces, so
    the work is linear in the file's size; when the unfinished line grows past
    :func:`max_row_bytes`, :class:`LineTooLong` is raised: it is the line after the last chunk.
    """
    limit = max_row_bytes(dim)
    offset, end = span
    pieces: list[bytes] = []  # the unfinished line, in the order read
    pending = 0  # its length in bytes
    while True:
        ctx.step(offset / end if end else 1.0)
        block = f.read(min(chunk_bytes, end - offset - pending))
        if not block:
            break
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            pieces.append(block)
            pending += len(block)
            if pending > limit:
                raise LineTooLong(limit)
            continue
        with memoryview(block) as view:  # one copy of the chunk, not two
            chunk = b"".join([*pieces, view[:cut]]) if pieces or cut < len(block) else block
        yield offset, chunk
        offset += len(chunk)
        pieces, pending = [block[cut:]], len(block) - cut
        if pending > limit:  # the rest of this block is already too long for one row
            raise LineTooLong(limit)
    rest = b"".join(pieces)
    if rest.strip():
        yield offset, rest + b"\n"
