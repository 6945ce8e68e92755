"""Compact, read-only vocabularies for loaded word vectors: the words in one Arrow string array.

gensim keeps ``index_to_key`` as a list of Python strings and ``key_to_index`` as a dict: about
60 bytes per word for the string, 8 for the list slot, ~70 for the dict entry and its int. For
GloVe's 400,000 words that is ~55 MB, for GoogleNews' 3,000,000 words over 400 MB, more than the
memory-mapped matrix costs. :class:`Vocabulary` stores the UTF-8 bytes once plus an offset per
word (~12 bytes per word) and decodes a word only when it is asked for; :class:`KeyIndex` finds a
word by binary search over an argsort of those bytes (4-8 bytes per word), built on the first
look-up, so opening a set that is never searched costs no index at all.

Both behave as the ``Sequence[str]`` / ``Mapping[str, int]`` gensim's ``KeyedVectors`` reads
(``kv[word]``, ``word in kv``, ``get_vector``, ``most_similar``...); they are read-only, so
``add_vectors`` on such a ``KeyedVectors`` is not supported (build a new one instead).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.compute as pc
else:  # imported on first use: not on the way to the window's first paint (core/lazy_import.py)
    from core.lazy_import import LazyModule

    pa, pc = LazyModule("pyarrow"), LazyModule("pyarrow.compute")

__all__ = ["KeyIndex", "Vocabulary"]

_NEWLINE = 10
_ITER_CHUNK = 10_000  # words decoded at a time while iterating: fast, and never the whole list


class Vocabulary(Sequence[str]):
    """The words of a vector set in file order (index i is row i), decoded on access.

    Parameters
    ----------
    words : pyarrow string array, or any iterable of str
    """

    def __init__(self, words: pa.Array | pa.ChunkedArray | Iterable[str]) -> None:
        if isinstance(words, pa.ChunkedArray):
            words = words.combine_chunks()
        if not isinstance(words, pa.Array):
            words = pa.array(list(words), pa.string())
        if not (pa.types.is_string(words.type) or pa.types.is_large_string(words.type)):
            raise TypeError(f"a vocabulary holds strings, not {words.type}")
        if words.null_count:
            raise ValueError("a vocabulary cannot hold missing words")
        self._words: pa.Array = words

    @classmethod
    def from_utf8_lines(cls, blob: np.ndarray, count: int) -> Vocabulary:
        """``count`` words from UTF-8 bytes (uint8 array) separated by single ``\\n`` bytes.

        Raises ValueError when the bytes are not UTF-8 or do not hold ``count`` lines.
        """
        breaks = np.flatnonzero(blob == _NEWLINE)  # (count - 1,) positions of the separators
        if count == 0 or len(breaks) != count - 1:
            raise ValueError(f"expected {count} lines, found {len(breaks) + 1}")
        data = np.delete(blob, breaks)  # the words' bytes back to back
        ends = np.append(breaks, len(blob)) - np.arange(count)  # (count,) end of word i in data
        large = len(data) >= 2**31 - 1  # Arrow's string offsets are int32
        offsets = np.concatenate([[0], ends]).astype(np.int64 if large else np.int32)
        words = pa.Array.from_buffers(pa.large_string() if large else pa.string(), count,
                                      [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        try:
            words.validate(full=True)  # checks the UTF-8
        except pa.ArrowInvalid as e:
            raise ValueError(f"the vocabulary is not valid UTF-8: {e}") from None
        return cls(words)

    @property
    def arrow(self) -> pa.Array:
        """The words as one Arrow string array (for vectorised work, e.g. sorting)."""
        return self._words

    def __len__(self) -> int:
        return len(self._words)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:
                return self._words.slice(start, max(stop - start, 0)).to_pylist()
            return [self[j] for j in range(start, stop, step)]
        n = len(self)
        j = int(i)  # numpy integers index too (gensim passes them)
        if not -n <= j < n:
            raise IndexError(f"word index {j} out of range for {n} words")
        return self._words[j if j >= 0 else j + n].as_py()

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), _ITER_CHUNK):
            yield from self._words.slice(start, _ITER_CHUNK).to_pylist()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Vocabulary):
            return self._words.equals(other._words)
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    # Equal to a list with the same words, so unhashable as a list is.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(repr(w) for w in self[:3])
        return f"Vocabulary([{head}{', ...' if len(self) > 3 else ''}], {len(self)} words)"


class KeyIndex(Mapping[str, int]):
    """word -> index, the first index when a word repeats (as gensim's loaders do).

    A binary search over the words sorted by their UTF-8 bytes (the same order as Python's
    ``str`` comparison): about 20 decoded words per look-up for 400,000 words. The sort runs once,
    on the first look-up (Arrow sorts outside the GIL: ~0.2 s for 400,000 words).
    """

    def __init__(self, words: Vocabulary) -> None:
        self._vocab = words
        self._order: np.ndarray | None = None  # (n,) row indices in sorted-word order
        self._repeats: np.ndarray | None = None  # (r,) rows whose word occurred earlier
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # A lock cannot be pickled (gensim's KeyedVectors.save pickles its key_to_index).
        return {"vocab": self._vocab, "order": self._order, "repeats": self._repeats}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._vocab, self._order, self._repeats = state["vocab"], state["order"], state["repeats"]
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Start the sort in a background thread (Arrow sorts outside the GIL); returns at once."""
        if self._order is None:
            threading.Thread(target=self._sorted, name="key-index", daemon=True).start()

    def _sorted(self) -> np.ndarray:
        if self._order is None:
            with self._lock:
                if self._order is None:
                    self._build()
        assert self._order is not None
        return self._order

    def _build(self) -> None:
        words = self._vocab.arrow
        # A stable sort keeps repeats in row order, so the search lands on the first of them.
        order = pc.array_sort_indices(words).to_numpy().astype(np.int64)  # (n,)
        ranked = words.take(pa.array(order))
        same = pc.equal(ranked.slice(1), ranked.slice(0, max(len(ranked) - 1, 0)))
        repeated = np.flatnonzero(same.to_numpy(zero_copy_only=False)) + 1  # (r,) in ranked
        self._repeats = np.sort(order[repeated])
        self._order = order

    def __getitem__(self, key: Any) -> int:
        if not isinstance(key, str):
            raise KeyError(key)
        order = self._sorted()
        words = self._vocab.arrow
        at = bisect.bisect_left(range(len(order)), key, key=lambda i: words[order[i]].as_py())
        if at < len(order) and words[order[at]].as_py() == key:
            return int(order[at])
        raise KeyError(key)

    def __setitem__(self, key: str, index: int) -> None:
        # What gensim's add_vectors does first: say why it cannot work here.
        raise TypeError("this vocabulary is read-only (loaded vectors are shared and may be "
                        "memory-mapped): build a new KeyedVectors to add words")

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __len__(self) -> int:
        self._sorted()
        assert self._repeats is not None
        return len(self._vocab) - len(self._repeats)

    def __iter__(self) -> Iterator[str]:
        """The distinct words in row order."""
        self._sorted()
        skip = set(self._repeats.tolist()) if self._repeats is not None else set()
        return (w for i, w in enumerate(self._vocab) if i not in skip)

    def __repr__(self) -> str:
        return f"KeyIndex({len(self._vocab)} words)"
