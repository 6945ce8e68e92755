"""Nearest words by cosine similarity, over a whole (possibly memory-mapped) vocabulary.

Only the row lengths are kept per vectors array, not a unit-length copy of the matrix: that
copy would cost as much memory as the vectors (80 MB for the default set), and scaling n
scores is as fast as scaling n rows.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from core.maths.threads import single_blas_thread

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

__all__ = ["nearest_neighbours"]

# Below this a float32 length may have lost its digits to underflow: measure such rows again.
_TINY_LENGTH = float(np.sqrt(np.finfo(np.float32).tiny))
# Per vectors object, dropped with the vectors they describe.
_row_scale_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _row_lengths(vectors: np.ndarray) -> np.ndarray:
    """Lengths (n, 1) of rows (n, dim), right even for rows like 1e30 or 1e-30 in float32.

    Squaring such entries leaves the float range (the length would be inf or 0), so only those
    rows are measured again after dividing by their largest entry: ordinary vocabularies pay
    one comparison, not a second pass.
    """
    with np.errstate(over="ignore", under="ignore"):  # detected and redone just below
        # einsum sums the squares without a squared copy of the matrix, which np.linalg.norm
        # makes (as large as the vectors, and much slower).
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]  # (n, 1)
    rows = np.flatnonzero(~np.isfinite(norms[:, 0]) | (norms[:, 0] < _TINY_LENGTH))  # (m,)
    if len(rows) == 0:
        return norms
    bad = np.asarray(vectors[rows], dtype=np.float64)  # (m, dim)
    peak = np.max(np.abs(bad), axis=1, keepdims=True)  # (m, 1)
    norms = norms.astype(np.float64)  # such a length may not fit in float32 itself
    norms[rows] = peak * np.linalg.norm(bad / np.where(peak == 0, 1, peak), axis=1, keepdims=True)
    return norms


@dataclass(frozen=True)
class _RowScale:
    """What turns dot products with a unit query into cosines, per vectors array."""

    inverse: np.ndarray  # (n,) float32 1/|v_i|; 1 for a zero row (no direction: cosine 0)
    special: np.ndarray  # (m,) rows too long or too short for float32 v.q (scored in float64)
    lengths: np.ndarray  # (m,) float64 |v_i| of those rows


def _row_scale(kv: KeyedVectors) -> _RowScale:
    """Row lengths of ``kv.vectors``, computed once per vectors array.

    Only lengths are kept, not a unit-length copy of the matrix: that copy would cost as much
    memory as the vectors (80 MB for the default set), and scaling n scores is as fast as
    scaling n rows. |v.q| <= |v| for a unit q, so v.q fits in float32 whenever |v| does;
    rows beyond that (or so short that v.q would lose its digits) are few and scored apart.
    """
    vectors = kv.vectors
    cached = _row_scale_cache.get(kv)
    if cached is not None and cached[0] is vectors:
        return cast(_RowScale, cached[1])
    lengths = _row_lengths(vectors)[:, 0].astype(np.float64)  # (n,)
    limit = float(np.finfo(np.float32).max) / 2
    special = np.flatnonzero((lengths > limit) | ((lengths < _TINY_LENGTH) & (lengths > 0)))
    with np.errstate(divide="ignore"):
        inverse = (1 / np.where(lengths == 0, 1, lengths)).astype(np.float32)  # (n,)
    scale = _RowScale(inverse, special, lengths[special])
    _row_scale_cache[kv] = (vectors, scale)
    return scale


def nearest_neighbours(
    kv: KeyedVectors,
    vector: np.ndarray | Sequence[float],
    k: int = 10,
    *,
    exclude: Iterable[str] = (),
) -> list[tuple[str, float]]:
    """The ``k`` words whose vectors have the highest cosine similarity to ``vector``.

    Parameters
    ----------
    kv : KeyedVectors
        The vocabulary searched (all of it).
    vector : array_like, shape (dim,)
        Any vector of the space, e.g. an attention output.
    k : int
        How many neighbours.
    exclude : iterable of str
        Words never returned (e.g. the query itself).

    Returns
    -------
    list of (word, cosine)
        Best first; empty when ``vector`` is zero (it has no direction).
    """
    query = np.asarray(vector, dtype=np.float32).reshape(-1)  # (dim,)
    if query.shape[0] != kv.vector_size:
        raise ValueError(f"vector has {query.shape[0]} dimensions, the vocabulary {kv.vector_size}")
    length = float(_row_lengths(query[None, :])[0, 0])
    if length == 0 or k <= 0 or len(kv.index_to_key) == 0:
        return []
    # cos(v_i, q) = (v_i . q/|q|) / |v_i|: the same as unit rows @ unit query, without the copy.
    unit_query = query / length  # (dim,)
    scale = _row_scale(kv)
    # One BLAS thread: a memory-bound product gains nothing from OpenBLAS's spinning threads
    # and slows down when another thread holds a core (core/maths/threads.py).
    with np.errstate(over="ignore", invalid="ignore"), single_blas_thread():
        scores = kv.vectors @ unit_query  # (n, dim) @ (dim,) -> (n,)
        scores *= scale.inverse
    if len(scale.special):  # rare rows near the float32 limits: divide first, in float64
        rows = np.asarray(kv.vectors[scale.special], dtype=np.float64)  # (m, dim)
        scores[scale.special] = (rows / scale.lengths[:, None]) @ unit_query
    skip = [kv.key_to_index[w] for w in exclude if w in kv.key_to_index]
    scores[skip] = -np.inf
    k = min(k, len(scores) - len(set(skip)))
    if k <= 0:
        return []
    np.negative(scores, out=scores)  # in place: argpartition finds the k smallest
    top = np.argpartition(scores, k - 1)[:k]  # (k,) unordered: O(n) instead of a full sort
    top = top[np.lexsort((top, scores[top]))]  # best first, ties by vocabulary order
    return [(kv.index_to_key[i], -float(scores[i])) for i in top]
