"""Compact, read-only vocabularies for loaded word vectors: the words as one UTF-8 buffer.

gensim keeps ``index_to_key`` as a list of Python strings and ``key_to_index`` as a dict: about
60 bytes per word for the string, 8 for the list slot, ~70 for the dict entry and its int. For
GloVe's 400,000 words that is ~55 MB, for GoogleNews' 3,000,000 words over 400 MB, more than the
memory-mapped matrix costs. :class:`Vocabulary` stores the UTF-8 bytes once plus an offset per word
(4-8 bytes) and decodes a word only when it is asked for; :class:`KeyIndex` finds a word by binary
search over the rows sorted by their bytes (8 bytes per word, core.vectors.byte_sort), sorted on the
first look-up, so opening a set that is never searched costs no index at all.

Only NumPy is needed: pyarrow did this before, but loading it costs ~70 MB of shared libraries,
a fifth of the window's memory, for a set (the default one) that never needs its parsers.

Both behave as the ``Sequence[str]`` / ``Mapping[str, int]`` gensim's ``KeyedVectors`` reads
(``kv[word]``, ``word in kv``, ``get_vector``, ``most_similar``...); they are read-only, so
``add_vectors`` on such a ``KeyedVectors`` is not supported (build a new one instead).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np

from core.vectors.byte_sort import byte_order

__all__ = ["KeyIndex", "Vocabulary"]

_NEWLINE = 10
_ITER_CHUNK = 10_000  # words decoded at a time while iterating: fast, and never the whole list


class Vocabulary(Sequence[str]):
    """The words of a vector set in file order (index i is row i), decoded on access.

    Parameters
    ----------
    words : any iterable of str
    """

    def __init__(self, words: Iterable[str]) -> None:
        encoded = []
        for word in words:
            if not isinstance(word, str):
                raise TypeError(f"a vocabulary holds strings, not {type(word).__name__}")
            try:
                encoded.append(word.encode("utf-8"))
            except UnicodeEncodeError as e:
                raise ValueError(f"word {len(encoded) + 1} is not valid Unicode: {e}") from None
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        self._set(b"".join(encoded), np.concatenate([[0], np.cumsum(lengths)]))

    def _set(self, data: bytes, offsets: np.ndarray) -> None:
        self._data = data  # the UTF-8 words back to back
        small = len(data) < 2**31
        self._offsets = offsets.astype(np.int32 if small else np.int64)  # (n + 1,) word starts

    @classmethod
    def from_utf8_lines(cls, blob: np.ndarray, count: int) -> Vocabulary:
        """``count`` words from UTF-8 bytes (uint8 array) separated by single ``\\n`` bytes.

        Raises ValueError when the bytes are not UTF-8 or do not hold ``count`` lines.
        """
        breaks = np.flatnonzero(blob == _NEWLINE)  # (count - 1,) positions of the separators
        if count == 0 or len(breaks) != count - 1:
            raise ValueError(f"expected {count} lines, found {len(breaks) + 1}")
        try:  # a line break is never inside a UTF-8 sequence: the lines are valid if the blob is
            blob.tobytes().decode("utf-8")
        except UnicodeDecodeError as e:
            line = int(np.searchsorted(breaks, e.start)) + 1
            raise ValueError(
                f"the vocabulary is not valid UTF-8 (line {line}: {e.reason})") from None
        ends = np.append(breaks, len(blob)) - np.arange(count)  # (count,) end of word i in data
        vocabulary = cls.__new__(cls)
        vocabulary._set(np.delete(blob, breaks).tobytes(), np.concatenate([[0], ends]))
        return vocabulary

    def utf8(self, i: int) -> bytes:
        """Word ``i`` as UTF-8 bytes (0 <= i < len)."""
        return self._data[self._offsets[i]:self._offsets[i + 1]]

    def utf8_lines(self) -> bytes:
        """All the words, one per line (what :meth:`from_utf8_lines` reads back); only for
        vocabularies without line breaks in their words (see :meth:`has_line_breaks`)."""
        data = np.frombuffer(self._data, dtype=np.uint8)
        return np.insert(data, self._offsets[1:-1].astype(np.intp), _NEWLINE).tobytes()

    def has_line_breaks(self) -> bool:
        """Whether any word contains a line break."""
        return _NEWLINE in self._data

    def byte_order(self) -> tuple[np.ndarray, np.ndarray]:
        """(order, repeat): rows sorted by their words, stably; see core.vectors.byte_sort."""
        return byte_order(np.frombuffer(self._data, dtype=np.uint8), self._offsets)

    def lowered(self) -> Vocabulary:
        """The same words in lower case (Python's ``str.lower``), row for row."""
        if self.has_line_breaks():
            return Vocabulary(w.lower() for w in self)
        text = self.utf8_lines().decode("utf-8").lower()  # one C call for all the words
        blob = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        return Vocabulary.from_utf8_lines(blob, len(self)) if len(self) else Vocabulary([])

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            return self._decode(range(start, stop, step))
        n = len(self)
        j = int(i)  # numpy integers index too (gensim passes them)
        if not -n <= j < n:
            raise IndexError(f"word index {j} out of range for {n} words")
        return self.utf8(j if j >= 0 else j + n).decode("utf-8")

    def _decode(self, rows: range) -> list[str]:
        starts, ends = self._offsets[:-1][rows.start:rows.stop:rows.step].tolist(), \
            self._offsets[1:][rows.start:rows.stop:rows.step].tolist()
        data = self._data
        return [data[a:b].decode("utf-8") for a, b in zip(starts, ends, strict=True)]

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), _ITER_CHUNK):
            yield from self._decode(range(start, min(start + _ITER_CHUNK, len(self))))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Vocabulary):
            return self._data == other._data and np.array_equal(self._offsets, other._offsets)
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    # Equal to a list with the same words, so unhashable as a list is.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(repr(w) for w in self[:3])
        return f"Vocabulary([{head}{', ...' if len(self) > 3 else ''}], {len(self)} words)"


RECENT = 4096
"""How many word look-ups a KeyIndex remembers."""


class KeyIndex(Mapping[str, int]):
    """word -> index, the first index when a word repeats (as gensim's loaders do).

    A binary search over the words sorted by their UTF-8 bytes (the same order as Python's
    ``str`` comparison): about 20 words read per look-up for 400,000 words. The sort runs once,
    on the first look-up or in :meth:`prepare`'s thread.
    """

    def __init__(self, words: Vocabulary) -> None:
        self._vocab = words
        self._order: np.ndarray | None = None  # (n,) row indices in sorted-word order
        self._repeats: np.ndarray | None = None  # (r,) rows whose word occurred earlier
        self._lock = threading.Lock()
        self._recent: dict[str, int] = {}  # the last look-ups (see __getitem__)

    def __getstate__(self) -> dict[str, Any]:
        # A lock cannot be pickled (gensim's KeyedVectors.save pickles its key_to_index).
        return {"vocab": self._vocab, "order": self._order, "repeats": self._repeats}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._vocab, self._order, self._repeats = state["vocab"], state["order"], state["repeats"]
        self._lock = threading.Lock()
        self._recent = {}

    def prepare(self) -> None:
        """Start the sort in a background thread (NumPy sorts outside the GIL); returns at once."""
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
        order, repeat = self._vocab.byte_order()  # stable: a repeat comes after its first row
        self._repeats = np.sort(order[repeat])
        self._order = order

    def __getitem__(self, key: Any) -> int:
        if not isinstance(key, str):
            raise KeyError(key)
        # The same few words are looked up on every update (the sentence, the word-pair and axis
        # fields, each in a few spellings: 0.8 ms of binary search a temperature step); the
        # words never change, so the last RECENT answers are kept, "not there" (-1) too.
        found = self._recent.get(key)
        if found is None:
            found = self._search(key)
            if len(self._recent) >= RECENT:
                self._recent.clear()
            self._recent[key] = found
        if found < 0:
            raise KeyError(key)
        return found

    def _search(self, key: str) -> int:
        """The first row of ``key``, or -1."""
        try:
            target = key.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no word can be it
            return -1
        order = self._sorted()
        utf8 = self._vocab.utf8
        at = bisect.bisect_left(range(len(order)), target, key=lambda i: utf8(int(order[i])))
        if at < len(order) and utf8(int(order[at])) == target:
            return int(order[at])
        return -1

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
