"""The read-only part of gensim's ``KeyedVectors`` interface, without importing gensim.

Importing gensim imports SciPy: about a second and ~90 MB of resident memory. The window
only looks words up, reads rows and searches neighbours, so for the bundled default set it uses a
:class:`WordVectors` and never pays that; :meth:`WordVectors.to_keyed_vectors` gives a real
``KeyedVectors`` over the same arrays when gensim's own methods are wanted.

The attributes are the ones core and the window read from a ``KeyedVectors``: ``vectors``,
``vector_size``, ``index_to_key``, ``key_to_index``, ``[word]``, ``word in``, ``get_vector``,
``get_index``, ``has_index_for``, plus ``load_warnings``, ``source_name`` and ``source_path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from core.vectors.vocabulary import KeyIndex, Vocabulary

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

__all__ = ["WordVectors", "keyed_vectors"]


class WordVectors:
    """Words and their vectors (row i of ``vectors`` is ``index_to_key[i]``); read-only."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, name: str,
                 path: str | None = None, warnings: Sequence[str] = ()) -> None:
        self.index_to_key = words if isinstance(words, Vocabulary) else Vocabulary(words)
        self.key_to_index = KeyIndex(self.index_to_key)  # sorted on the first look-up
        self.vectors = vectors  # (n_words, dim)
        self.load_warnings = list(warnings)
        self.source_name = name
        self.source_path = path

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.index_to_key)

    def get_index(self, key: Any, default: int | None = None) -> int:
        """The row of ``key`` (a word, or a row number as in gensim); KeyError if absent."""
        index = self.key_to_index.get(key, -1)
        if index >= 0:
            return index
        if isinstance(key, int | np.integer) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"Key '{key}' not present")

    def has_index_for(self, key: Any) -> bool:
        return self.get_index(key, -1) >= 0

    __contains__ = has_index_for

    def get_vector(self, key: Any, norm: bool = False) -> np.ndarray:
        """The (dim,) row of ``key``; ``norm=True`` scales it to length 1 (0 stays 0)."""
        row = np.asarray(self.vectors[self.get_index(key)])  # (dim,)
        if not norm:
            return row
        length = float(np.linalg.norm(row))
        return row / length if length else row

    def __getitem__(self, keys: Any) -> np.ndarray:
        """One word -> (dim,); a list of words -> (n, dim), as gensim does."""
        if isinstance(keys, str | int | np.integer):
            return self.get_vector(keys)
        return np.vstack([self.get_vector(k) for k in keys])

    def to_keyed_vectors(self) -> KeyedVectors:
        """A gensim ``KeyedVectors`` sharing this vocabulary and matrix (imports gensim)."""
        kv = keyed_vectors(self.index_to_key, self.vectors, self.source_name,
                           self.source_path, self.load_warnings)
        kv.key_to_index = self.key_to_index  # the same words: share the (maybe sorted) index
        return kv

    def __repr__(self) -> str:
        return f"WordVectors({self.source_name!r}, {len(self)} words x {self.vector_size})"


def keyed_vectors(words: Sequence[str], matrix: np.ndarray, name: str, path: str | None,
                  warnings: Sequence[str]) -> KeyedVectors:
    """Wrap a vocabulary and matrix in a gensim KeyedVectors without copying either.

    ``add_vectors`` would copy the matrix and check every key; setting gensim 4's three index
    structures directly is instant and keeps a memory map a memory map. The vocabulary is kept
    compact (core.vectors.vocabulary): a list and dict of Python strings would cost more than the
    memory-mapped matrix itself. For a repeated word, the first occurrence wins.
    """
    from gensim.models import KeyedVectors

    vocabulary = words if isinstance(words, Vocabulary) else Vocabulary(words)
    kv = KeyedVectors(matrix.shape[1], count=0, dtype=np.float32)
    kv.index_to_key = vocabulary
    kv.key_to_index = KeyIndex(vocabulary)  # sorted on the first look-up
    kv.vectors = matrix  # (n_words, dim)
    kv.next_index = len(vocabulary)
    # gensim's own loader invents descending counts; some of its methods sort by them.
    kv.expandos["count"] = np.arange(len(vocabulary), 0, -1, dtype=np.int64)
    kv.load_warnings = list(warnings)
    kv.source_name = name
    kv.source_path = path
    return kv
