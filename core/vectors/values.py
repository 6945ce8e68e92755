"""The one check every loaded matrix passes: finite values of a size attention can work with.

Why a bound and not only "finite": 3e38 is a valid float32, but attention scores are dot
products ``q . k = sum_i q_i k_i`` computed in float32, whose largest value is 3.4e38. Two such
vectors overflow to infinity in the first product, softmax turns the infinities into NaN, and
every weight and output downstream is NaN. With every ``|x| <= MAX_ABS_VALUE`` (1e6) and at most
100,000 dimensions, a score is at most 1e5 * 1e6 * 1e6 = 1e17, twenty orders of magnitude from
overflow even after a projection or a temperature of 0.01. Real embeddings stay below about 100.

The check reads the matrix in blocks (two reductions, no full-size temporary), so a memory-mapped
matrix is not copied and a loaded one is not doubled.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MAX_ABS_VALUE = 1e6
"""Largest magnitude accepted in a word vector (see the module docstring for why)."""
_BLOCK_VALUES = 1 << 20  # values per block: 4 MB of float32, cheap to scan, never the matrix

WHY_BOUND = (
    f"word vectors must lie within ±{MAX_ABS_VALUE:.0e}, because attention scores are dot "
    "products of them and larger values overflow float32 (at most 3.4e38) to infinity and "
    "then NaN; real embeddings stay below about 100"
)


def first_bad_row(matrix: np.ndarray) -> int | None:
    """The first row of ``matrix`` (n, dim) holding NaN, infinity or a value beyond the bound."""
    if matrix.ndim != 2 or matrix.size == 0:
        return None
    rows = max(1, _BLOCK_VALUES // matrix.shape[1])
    for start in range(0, matrix.shape[0], rows):
        block = matrix[start : start + rows]  # (rows, dim), a view
        # max and min propagate NaN, and NaN fails both comparisons: one pass each, no copy.
        if block.max() <= MAX_ABS_VALUE and block.min() >= -MAX_ABS_VALUE:
            continue
        ok = (np.abs(block) <= MAX_ABS_VALUE).all(axis=1)  # (rows,) only for the failing block
        return start + int(np.argmin(ok))
    return None


def describe_row(row: np.ndarray) -> str:
    """Say what is wrong with one row that :func:`first_bad_row` picked."""
    row = np.asarray(row)  # (dim,) in its own dtype: str() of an element is its shortest form
    magnitude = np.abs(row.astype(np.float64))  # (dim,)
    finite = np.isfinite(magnitude)
    if not finite.all():
        column = int(np.argmin(finite))
        value = row[column]
        what = ("not a number (NaN)" if np.isnan(value) else
                "infinity (or a number too large for float32)")
        return (f"number {column + 1} is {value!s}: {what}; expected finite numbers within "
                f"±{MAX_ABS_VALUE:.0e}")
    column = int(np.argmax(magnitude))
    return f"number {column + 1} is {row[column]!s}, too large: {WHY_BOUND}"


def row_problem(matrix: np.ndarray, where: Callable[[int], str]) -> tuple[str, str] | None:
    """``(place, problem)`` for the first bad row of ``matrix``, or None when all are fine.

    ``where(row)`` names the row for the message: "line 5", "word 3 ('cat')"...
    """
    row = first_bad_row(matrix)
    if row is None:
        return None
    return where(row), describe_row(matrix[row])
