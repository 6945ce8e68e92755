"""The matrix view's data: I (d×n) → Q, K, V → A, A′ → O for one head, tokens as columns.

Like the step table, every number is read from a `MultiHeadResult`; nothing is computed anew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.explain.steps import per_row
from core.maths.attention import MultiHeadResult
from core.maths.heads import HeadProjections

__all__ = ["MatrixViewData", "NamedMatrix", "matrix_view"]

Array = NDArray[np.floating[Any]]


@dataclass(frozen=True, eq=False)
class NamedMatrix:
    """One matrix of the matrix view, tokens as columns."""

    symbol: str  #: "I", "Q", "K", "V", "A", "A′", "O"
    description: str  #: what it is, e.g. "scores Kᵀ Q"
    array: Array  #: (rows, cols)
    row_names: str  #: what the rows are, e.g. "d_k"
    row_labels: tuple[str, ...]  #: one per row (tokens for A/A′, else dimensions from 1)
    col_labels: tuple[str, ...]  #: one per column
    col_names: str = "n"  #: what the columns are: "n" tokens, or "r" query rows

    @property
    def title(self) -> str:
        """E.g. ``Q: d_k×n = 12×15``."""
        rows, cols = self.array.shape
        return f"{self.symbol}: {self.row_names}×{self.col_names} = {rows}×{cols}"


@dataclass(frozen=True, eq=False)
class MatrixViewData:
    """I → Q, K, V → A, A′ → O for one head, and one query/key pair as vectors."""

    head: int
    matrices: tuple[NamedMatrix, ...]  #: I (and I_q for outside queries), Q, K, V, A, A′, O
    query_row: int  #: which column of Q is the chosen query
    key_index: int  #: which column of K the vector perspective shows
    query_vector: Array  #: (d_k,)
    key_vector: Array  #: (d_k,)
    score: float  #: A[key_index, query_row]
    weight: float  #: A′[key_index, query_row]

    def by_symbol(self, symbol: str) -> NamedMatrix:
        """The matrix named ``symbol``."""
        return next(m for m in self.matrices if m.symbol == symbol)


def _dims(count: int) -> tuple[str, ...]:
    """Row names of the dimensions, counted from 1 as everything on screen is (data files count
    from 0: they are read by programs)."""
    return tuple(str(i + 1) for i in range(count))


def matrix_view(
    result: MultiHeadResult, heads: HeadProjections | None, x_q: ArrayLike, x_kv: ArrayLike,
    head: int | None, *, row: int = 0, row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None, key: int | None = None,
) -> MatrixViewData:
    """The matrices of one head with tokens as columns: I (d×n) → Q, K, V → A, A′ → O.

    ``A = Kᵀ Q`` holds the scores with keys as rows and queries as columns (``A[j, i]`` is
    query i's score for key j), ``A′`` the weights, and ``O = V A′`` the head's outputs. When the
    queries are not the keys' tokens (an outside query word) ``I_q`` is shown as well. ``heads``
    is accepted for symmetry with `computation_steps`; the matrices come from ``result``.
    """
    a = per_row(result)
    h = 0 if head is None else head
    xq, xkv = np.atleast_2d(np.asarray(x_q)), np.asarray(x_kv)  # (r, d), (n, d)
    r, n = a["weights"].shape[1:]
    rows = tuple(row_labels) if row_labels is not None else _dims(r)
    cols = tuple(col_labels) if col_labels is not None else _dims(n)
    q = a["queries"][h].T  # (r, d_k) -> (d_k, r)
    k = result.keys[h].T  # (n, d_k) -> (d_k, n)
    v = result.values[h].T  # (n, d_v) -> (d_v, n)
    scores = a["scores"][h].T  # (r, n) -> (n, r): keys as rows
    weights = a["weights"][h].T  # (n, r)
    out = a["head_outputs"][h].T  # (r, d_v) -> (d_v, r)
    mats = [NamedMatrix("I", "inputs, one column per token", xkv.T, "d", _dims(xkv.shape[1]),
                        cols)]
    # Self-attention: the queries are the tokens (n columns); else r query rows of their own.
    r_name = "n"
    if xq.shape != xkv.shape or not np.array_equal(xq, xkv):
        r_name = "r"
        mats.append(NamedMatrix("I_q", "query inputs", xq.T, "d", _dims(xq.shape[1]), rows,
                                r_name))
    mats += [
        NamedMatrix("Q", "queries W_Qᵀ I", q, "d_k", _dims(q.shape[0]), rows, r_name),
        NamedMatrix("K", "keys W_Kᵀ I", k, "d_k", _dims(k.shape[0]), cols),
        NamedMatrix("V", "values W_Vᵀ I", v, "d_v", _dims(v.shape[0]), cols),
        NamedMatrix("A", "scores Kᵀ Q (rows keys, columns queries)", scores, "n", cols, rows,
                    r_name),
        NamedMatrix("A′", "weights: A normalised per column", weights, "n", cols, rows, r_name),
        NamedMatrix("O", "head outputs V A′", out, "d_v", _dims(out.shape[0]), rows, r_name),
    ]
    j = int(np.argmax(weights[:, row])) if key is None else key
    return MatrixViewData(h, tuple(mats), row, j, q[:, row], k[:, j], float(scores[j, row]),
                          float(weights[j, row]))
