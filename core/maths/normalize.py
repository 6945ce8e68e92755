"""Normalisations of attention logits into weights: softmax, ReLU and sparsemax.

Kept apart from the scoring so ``core/maths/attention.py`` stays one readable path. Each takes
logits (..., n_q, n_kv) with masked entries at ``-inf`` and returns ``(weights, empty_rows)``:
weights of the logits' dtype, each row summing to 1 or all zero (then flagged in ``empty_rows``
(..., n_q)), never NaN, even for logits near the largest float.

Speed: a (12, 512, 512) float32 stack is 12 MB, so every full-size temporary costs milliseconds.
Each function allocates its result once and works in place on it; special rows (fully masked,
overflowed to +inf) are found on the (..., n_q, 1) row maxima and repaired on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["NORMALIZATIONS", "NORMALIZERS", "softmax_into"]

NORMALIZATIONS: tuple[str, ...] = ("softmax", "relu", "sparsemax")

Array = NDArray[np.floating[Any]]


def _nonzero(total: Array) -> Array:
    """Row totals safe to divide by: a zero total becomes 1, so an all-zero row stays zero."""
    return np.where(total == 0, 1, total).astype(total.dtype, copy=False)


def _subtract_row_max(logits: Array, out: Array | None = None) -> Array:
    """A new array (or ``out``): each row shifted so its largest entry is 0 (softmax and
    sparsemax are shift invariant).

    A fully masked row (max -inf) stays -inf instead of becoming -inf - -inf = NaN; in a row
    where logits overflowed to +inf, those entries become 0 and the rest -inf (the limit).
    """
    row_max = np.max(logits, axis=-1, keepdims=True)  # (..., n_q, 1)
    shift = np.where(np.isfinite(row_max), row_max, 0).astype(logits.dtype)  # (..., n_q, 1)
    with np.errstate(over="ignore"):  # -1e308 - 1e308 = -inf is the right limit: weight 0
        shifted = np.subtract(logits, shift, out=out, dtype=logits.dtype)  # (..., n_q, n_kv)
    overflowed = np.isposinf(row_max[..., 0])  # (..., n_q), rare: repaired row by row
    if overflowed.any():
        shifted[overflowed] = np.where(np.isposinf(logits[overflowed]), 0, -np.inf)
    return shifted


def _softmax(logits: Array, out: Array | None = None) -> tuple[Array, NDArray[np.bool_]]:
    # Subtracting the row maximum leaves softmax unchanged (it cancels in the ratio) but keeps
    # exp() <= 1, so logits like 1e30 cannot overflow to inf and turn the row into NaN.
    weights = _subtract_row_max(logits, out)  # (..., n_q, n_kv)
    np.exp(weights, out=weights)  # masked -inf -> 0
    total = np.sum(weights, axis=-1, keepdims=True)  # (..., n_q, 1)
    weights /= _nonzero(total)
    return weights, total[..., 0] == 0


def _relu(logits: Array) -> tuple[Array, NDArray[np.bool_]]:
    positive = np.maximum(logits, 0, dtype=logits.dtype)  # (..., n_q, n_kv); masked -inf -> 0
    # Dividing by the row maximum first keeps the row sum finite even for logits near the
    # largest float; it does not change the normalised result.
    row_max = np.max(positive, axis=-1, keepdims=True)  # (..., n_q, 1)
    overflowed = np.isposinf(row_max[..., 0])  # (..., n_q): +inf outweighs any finite logit
    positive /= _nonzero(np.where(overflowed[..., None], 1, row_max).astype(logits.dtype))
    if overflowed.any():  # rare: such a row is split evenly among its +inf entries
        positive[overflowed] = np.isposinf(logits[overflowed])
    total = np.sum(positive, axis=-1, keepdims=True)  # (..., n_q, 1)
    positive /= _nonzero(total)
    return positive, total[..., 0] == 0


def _sparsemax(logits: Array) -> tuple[Array, NDArray[np.bool_]]:
    """Sparsemax (Martins & Astudillo 2016): the Euclidean projection onto the simplex.

    Sort each row descending; the support is the largest prefix of size k with
    ``1 + k * z_(k) > sum of the top k``; ``tau = (sum of the support - 1) / k``;
    the weights are ``max(z - tau, 0)``. Masked ``-inf`` entries never enter the support.
    """
    # Shifting the maximum to 0 keeps `z - tau` exact for huge logits (1e30 - tau would round).
    z = _subtract_row_max(logits)  # (..., n_q, n_kv)
    z_sorted = -np.sort(-z, axis=-1)  # (..., n_q, n_kv), descending
    cumulative = np.cumsum(z_sorted, axis=-1)  # (..., n_q, n_kv)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)  # (n_kv,)
    in_support = 1 + k * z_sorted > cumulative  # (..., n_q, n_kv), a prefix of each row
    support_size = np.sum(in_support, axis=-1, keepdims=True)  # (..., n_q, 1)
    empty = support_size[..., 0] == 0  # only fully masked rows have no support
    last = np.maximum(support_size, 1) - 1  # (..., n_q, 1), index of the support's last entry
    support_sum = np.take_along_axis(cumulative, last, axis=-1)  # (..., n_q, 1)
    tau = (support_sum - 1) / np.maximum(support_size, 1).astype(z.dtype)  # (..., n_q, 1)
    # A fully masked row would give tau = -inf and -inf - -inf = NaN; tau = 0 leaves it all zero.
    tau = np.where(empty[..., None], 0, tau).astype(z.dtype, copy=False)
    z -= tau
    return np.maximum(z, 0, out=z), empty  # (..., n_q, n_kv)


NORMALIZERS: dict[str, Callable[[Array], tuple[Array, NDArray[np.bool_]]]] = {
    "softmax": _softmax,
    "relu": _relu,
    "sparsemax": _sparsemax,
}


def softmax_into(logits: Array, out: Array) -> NDArray[np.bool_]:
    """Softmax of ``logits`` written into ``out`` (same shape); returns the empty-row flags."""
    return _softmax(logits, out)[1]
