"""The five scoring functions: how a query and a key become a score.

Each takes q (..., n_q, d_k), k (..., n_kv, d_k) and the scoring parameters and returns the raw
scores (..., n_q, n_kv); the sqrt(d_k) scale of ``scaled_dot`` is applied by the attention path,
so ``dot`` and ``scaled_dot`` share one scorer here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["SCORERS", "SCORINGS"]

SCORINGS: tuple[str, ...] = ("dot", "scaled_dot", "cosine", "general", "additive")

Array = NDArray[np.floating[Any]]


def _param(params: dict[str, Any], name: str, shape: str, dtype: np.dtype[Any]) -> Array:
    """Fetch a scoring parameter as an array of the working dtype, or say what is missing."""
    if name not in params or params[name] is None:
        raise ValueError(f"scoring parameter {name!r} is missing; expected shape {shape}")
    return np.asarray(params[name], dtype=dtype)


def _check_shape(value: np.ndarray, name: str, expected: tuple[int, ...], text: str) -> None:
    if value.shape != expected:
        raise ValueError(f"scoring parameter {name!r} has shape {value.shape}; expected {text}")


def _dot(q: Array, k: Array, params: dict[str, Any]) -> Array:
    return q @ np.swapaxes(k, -1, -2)  # (..., n_q, d_k) @ (..., d_k, n_kv) -> (..., n_q, n_kv)


def _row_norms(x: Array) -> Array:
    """Row lengths (..., n, 1) that neither overflow (1e30 in float32) nor underflow (1e-30).

    Squaring such entries leaves the float range, so those rows are measured after dividing
    by their largest entry; ordinary rows keep the plain (bit-identical) computation.
    """
    with np.errstate(over="ignore", under="ignore"):  # detected and redone just below
        norms = np.linalg.norm(x, axis=-1, keepdims=True)  # (..., n, 1)
    peak = np.max(np.abs(x), axis=-1, keepdims=True) if x.shape[-1] else norms  # (..., n, 1)
    lost = ~np.isfinite(norms) | ((norms < np.sqrt(np.finfo(x.dtype).tiny)) & (peak > 0))
    if not lost.any():
        return norms
    scaled = peak * np.linalg.norm(x / np.where(peak == 0, 1, peak), axis=-1, keepdims=True)
    return np.where(lost, scaled, norms)


def _cosine(q: Array, k: Array, params: dict[str, Any]) -> Array:
    # A zero vector has no direction: dividing by 1 instead of 0 makes its score 0, not NaN.
    q_norm = _row_norms(q)  # (..., n_q, 1)
    k_norm = _row_norms(k)  # (..., n_kv, 1)
    q_unit = q / np.where(q_norm == 0, 1, q_norm)
    k_unit = k / np.where(k_norm == 0, 1, k_norm)
    return _dot(q_unit, k_unit, params)  # (..., n_q, n_kv)


def _general(q: Array, k: Array, params: dict[str, Any]) -> Array:
    d_k = q.shape[-1]
    w = _param(params, "W", f"({d_k}, {d_k}) or (h, {d_k}, {d_k})", q.dtype)
    batch = q.shape[:-2]
    if w.shape != (d_k, d_k) and w.shape != (*batch, d_k, d_k):
        raise ValueError(
            f"scoring parameter 'W' has shape {w.shape}; expected ({d_k}, {d_k})"
            + (f" or {(*batch, d_k, d_k)}" if batch else "")
        )
    q_w = q @ w  # (..., n_q, d_k) @ (..., d_k, d_k) -> (..., n_q, d_k)
    return _dot(q_w, k, params)  # (..., n_q, n_kv)


def _additive(q: Array, k: Array, params: dict[str, Any]) -> Array:
    d_k = q.shape[-1]
    w1 = _param(params, "W1", f"(d_a, {d_k})", q.dtype)
    w2 = _param(params, "W2", f"(d_a, {d_k})", q.dtype)
    v = _param(params, "v", "(d_a,)", q.dtype)
    if w1.ndim != 2 or w1.shape[1] != d_k:
        raise ValueError(f"scoring parameter 'W1' has shape {w1.shape}; expected (d_a, {d_k})")
    d_a = w1.shape[0]
    _check_shape(w2, "W2", (d_a, d_k), f"({d_a}, {d_k}), the same shape as W1")
    _check_shape(v, "v", (d_a,), f"({d_a},), one entry per row of W1")
    # Row-vector convention: W1 q becomes q @ W1.T.
    q_a = q @ w1.T  # (..., n_q, d_a)
    k_a = k @ w2.T  # (..., n_kv, d_a)
    hidden = np.tanh(q_a[..., :, None, :] + k_a[..., None, :, :])  # (..., n_q, n_kv, d_a)
    return hidden @ v  # (..., n_q, n_kv)


SCORERS: dict[str, Callable[[Array, Array, dict[str, Any]], Array]] = {
    "dot": _dot,
    "scaled_dot": _dot,  # same raw scores; the sqrt(d_k) divisor is reported as `scale`
    "cosine": _cosine,
    "general": _general,
    "additive": _additive,
}
