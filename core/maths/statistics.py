"""Statistics of attention weights: row entropy, and how each head spreads one query row.

Shapes: h heads, r query rows, n keys.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["HeadStatistics", "entropy", "head_statistics", "jensen_shannon_similarity"]

Array = NDArray[np.floating[Any]]


def entropy(weights: ArrayLike) -> NDArray[np.floating[Any]]:
    """Entropy in nats of each row of weights (..., n_kv) -> (...), with 0 * log 0 = 0.

    0 for a one-hot (or all-zero) row, ``log(n_kv)`` for a uniform row.
    """
    w = np.asarray(weights)
    w = w if np.issubdtype(w.dtype, np.floating) else w.astype(np.float64)
    positive = w > 0
    # log is taken of 1 where w == 0, so 0 * log 0 contributes exactly 0 and never warns.
    terms = np.where(positive, w * np.log(np.where(positive, w, 1)), 0)  # (..., n_kv)
    return -np.sum(terms, axis=-1)  # (...)


@dataclass(frozen=True, eq=False)
class HeadStatistics:
    """How each head spreads the query row's weight, and how alike the heads are."""

    row: int
    entropy: Array  #: (h,) nats; 0 = all weight on one key, log(n) = uniform
    max_entropy: float  #: log(n)
    max_weight: Array  #: (h,)
    max_key: NDArray[np.intp]  #: (h,) index of the key with the max weight
    max_key_labels: tuple[str, ...]  #: (h,) its name ("—" for a row with no weight)
    similarity: Array  #: (h, h) 1 − Jensen–Shannon divergence (base 2); NaN for an empty row
    similarity_name: str = "1 − Jensen–Shannon divergence (log base 2): 1 = same weights, " \
                           "0 = no key in common"


def jensen_shannon_similarity(p: Array) -> Array:
    """1 − JSD between every pair of rows of ``p`` (h, n); NaN where a row sums to 0."""
    totals = p.sum(axis=-1)  # (h,)
    m = (p[:, None, :] + p[None, :, :]) / 2  # (h, h, n) the mixture of each pair
    # JSD = H(m) − (H(p) + H(q)) / 2; dividing by log 2 puts it in [0, 1].
    own = entropy(p)  # (h,)
    jsd = (entropy(m) - (own[:, None] + own[None, :]) / 2) / math.log(2)  # (h, h)
    similarity = np.clip(1 - jsd, 0.0, 1.0)
    empty = np.abs(totals) <= 1e-8  # an all-zero row is not a distribution (isclose to 0)
    similarity[empty, :] = np.nan
    similarity[:, empty] = np.nan
    return similarity


def head_statistics(
    weights: ArrayLike, row: int, col_labels: Sequence[str] | None = None
) -> HeadStatistics:
    """Entropy, strongest key and head×head similarity of query row ``row``.

    Parameters
    ----------
    weights : (h, r, n) array
        Every head's weights (``MultiHeadResult.weights``).
    row : int
        The query row.
    col_labels : sequence of str, optional
        Key names (n,), for ``max_key_labels``.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 2:
        w = w[:, None, :]  # (h, n) -> (h, 1, n): a single query
    p = w[:, row, :]  # (h, n)
    n = p.shape[1]
    labels = tuple(col_labels) if col_labels is not None else tuple(str(i) for i in range(n))
    max_key = np.argmax(p, axis=1)  # (h,)
    max_weight = p.max(axis=1)  # (h,)
    return HeadStatistics(
        row=row, entropy=entropy(p), max_entropy=math.log(n) if n else 0.0,
        max_weight=max_weight, max_key=max_key,
        max_key_labels=tuple(labels[j] if wt > 0 else "—" for j, wt in zip(max_key, max_weight,
                                                                           strict=True)),
        similarity=jensen_shannon_similarity(p),
    )
