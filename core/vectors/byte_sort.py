"""Sort many words held as one UTF-8 buffer plus offsets, in NumPy, without Python strings.

``sorted()`` over 3,000,000 words would first decode them all (~200 MB of ``str`` objects) and
hold the GIL for seconds; pyarrow sorts them well, but loading it costs ~70 MB of shared
libraries, which the default set otherwise never needs. This is a most-significant-digit radix
sort with 8-byte digits: each pass orders the words still tied by their next 8 bytes, read as one
big-endian ``uint64``, so most words are placed after one or two passes over short arrays.
UTF-8 byte order is code-point order, so the result is the order of Python's ``str`` comparison.
"""

from __future__ import annotations

import numpy as np

__all__ = ["byte_order"]

_DIGIT = 8  # bytes per pass: one uint64
_GOES_ON = _DIGIT + 1  # "bytes left" for a word that continues past the current digit


def byte_order(data: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable lexicographic order of the words ``data[offsets[i]:offsets[i + 1]]``.

    Parameters
    ----------
    data : (n_bytes,) uint8, the words back to back
    offsets : (n + 1,) integer, where word i starts; the last entry is ``n_bytes``

    Returns
    -------
    order : (n,) int64, rows by their bytes; equal words keep their row order
    repeat : (n,) bool, ``repeat[p]``: the word at ``order[p]`` equals the one at ``order[p - 1]``
    """
    n = len(offsets) - 1
    starts = np.asarray(offsets[:-1], dtype=np.int64)  # (n,)
    lengths = np.diff(np.asarray(offsets, dtype=np.int64))  # (n,)
    order = np.arange(n, dtype=np.int64)
    repeat = np.zeros(n, dtype=bool)
    # Positions of `order` still to be placed, and their tie group: words alike in every byte
    # read so far. A group's positions are contiguous and groups are numbered in position order,
    # so sorting by (group, digit) keeps each group inside its own positions.
    pos = order.copy()
    group = np.zeros(n, dtype=np.int64)
    padded = np.concatenate([np.asarray(data, dtype=np.uint8), np.zeros(_DIGIT, np.uint8)])
    # Zero padding alone cannot tell "a" from "a\0": only then is the number of bytes left a key
    # (a word ending in this digit sorts before a longer one with the same digit).
    has_nul = bool((padded[:-_DIGIT] == 0).any())
    depth = 0
    while pos.size > 1:
        rows = order[pos]
        left = np.minimum(lengths[rows] - depth, _GOES_ON)  # (m,) bytes left, capped
        digit = _digit(padded, starts[rows] + depth, left)  # (m,) uint64
        ranked = _rank(digit, left, group, has_nul, depth == 0)  # (m,)
        rows, left, digit, group = rows[ranked], left[ranked], digit[ranked], group[ranked]
        order[pos] = rows
        # Runs of words alike so far. Without NUL bytes equal digits and a different number of
        # bytes left means one word ended exactly at this digit's end: it comes first next pass
        # (its digit is then 0), so such a run goes on whole.
        alike = (group[1:] == group[:-1]) & (digit[1:] == digit[:-1])
        if has_nul:
            alike &= left[1:] == left[:-1]
        run = np.cumsum(np.concatenate([[0], ~alike]))  # (m,) run number of each word
        run_goes_on = np.bincount(run, weights=left == _GOES_ON) > 0  # (runs,)
        run_size = np.bincount(run)  # (runs,)
        member = (run_size[run] > 1) & run_goes_on[run]  # (m,) placed in a later pass
        # Alike, both ended and placed now: the same word.
        repeat[pos[1:][alike & ~member[1:]]] = True
        pos, group = pos[member], run[member]
        depth += _DIGIT
    return order, repeat


def _rank(digit: np.ndarray, left: np.ndarray, group: np.ndarray, has_nul: bool,
          first_pass: bool) -> np.ndarray:
    """(m,) the stable order of one pass: by tie group, then digit, then bytes left (a key only
    when the words hold NUL bytes, which the zero padding cannot be told from)."""
    if has_nul:
        return np.lexsort((left, digit, group))
    if first_pass:  # one group: the digit alone
        return np.argsort(digit, kind="stable")
    return np.lexsort((digit, group))


def _digit(padded: np.ndarray, starts: np.ndarray, left: np.ndarray) -> np.ndarray:
    """(m,) uint64: the 8 bytes from ``starts``, big-endian, zero past each word's end.

    ``padded`` is the data followed by 8 zero bytes, so every 8-byte read stays inside it.
    """
    windows = np.lib.stride_tricks.as_strided(padded, (len(padded) - _DIGIT + 1, _DIGIT), (1, 1))
    chunk = windows[starts]  # (m, 8) uint8, a copy
    chunk[np.arange(_DIGIT) >= left[:, None]] = 0  # bytes of the next words
    return chunk.view(">u8")[:, 0].astype(np.uint64)
