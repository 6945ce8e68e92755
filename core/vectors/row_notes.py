"""Warnings about rows that load but deserve a word: repeated words and all-zero vectors.

Split from :mod:`core.vectors.text_files`; used after any plain format is parsed. Each note is one
line of plain text (words are shown with ``repr``, which escapes line breaks and lone surrogates).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["drop_duplicates", "zero_rows_note"]


def drop_duplicates(
    words: list[str], matrix: np.ndarray, label: Callable[[int], str]
) -> tuple[list[str], np.ndarray, str | None]:
    """Keep the first occurrence of each word; describe what was dropped.

    gensim keeps the first too, but leaves ``None`` keys and zero rows behind.
    """
    if len(set(words)) == len(words):  # the usual case, checked at C speed
        return words, matrix, None
    first: dict[str, int] = {}
    repeats = []  # (row, row of its first occurrence)
    for i, w in enumerate(words):
        j = first.setdefault(w, i)
        if j != i:
            repeats.append((i, j))
    if not repeats:
        return words, matrix, None
    keep = np.fromiter(sorted(first.values()), dtype=np.int64, count=len(first))
    i, j = repeats[0]
    note = (
        f"{len(repeats)} repeated words ignored (the first occurrence is kept), "
        f"e.g. {words[i]!r} at {label(i)} repeats {label(j)}"
    )
    return [words[k] for k in keep], matrix[keep], note


def zero_rows_note(
    words: list[str], matrix: np.ndarray, label: Callable[[int], str]
) -> str | None:
    """Describe all-zero vectors: they have no direction, so cosine with them is undefined."""
    zero = ~np.any(matrix, axis=1)  # (n,) True where every value is 0 (or -0)
    count = int(np.count_nonzero(zero))
    if count == 0:
        return None
    row = int(np.argmax(zero))
    return (
        f"{count} all-zero vectors: they have no direction, so their cosine similarity is "
        f"undefined (shown as 0), e.g. {words[row]!r} at {label(row)}"
    )
