"""Attention masks (True = may attend).

Kept apart from the attention steps so ``core/maths/attention.py`` stays one readable path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["causal_mask", "exclude_self_mask", "padding_mask"]


def causal_mask(n_q: int, n_kv: int | None = None) -> NDArray[np.bool_]:
    """Causal mask (n_q, n_kv), True = may attend: query i sees key j only if j <= i.

    When ``n_kv`` (default ``n_q``) is larger, the queries are the last ``n_q`` of ``n_kv``
    tokens: query i sits at position ``i + n_kv - n_q`` and may attend keys up to there.
    """
    n_kv = n_q if n_kv is None else n_kv
    return np.tri(n_q, n_kv, k=n_kv - n_q, dtype=bool)


def exclude_self_mask(n: int) -> NDArray[np.bool_]:
    """Mask that stops each token attending itself: (n, n) bool, False on the diagonal."""
    return ~np.eye(n, dtype=bool)


def padding_mask(valid: ArrayLike, n_q: int) -> NDArray[np.bool_]:
    """Mask (n_q, n_kv) letting every query attend the keys where ``valid`` (n_kv,) is True.

    Masks combine with ``&``, e.g. ``causal_mask(n) & padding_mask(valid, n)``.
    """
    valid_keys = np.asarray(valid, dtype=bool)
    if valid_keys.ndim != 1:
        raise ValueError(f"valid must be 1-D (n_kv,), got shape {valid_keys.shape}")
    return np.broadcast_to(valid_keys, (n_q, valid_keys.shape[0])).copy()  # (n_q, n_kv)
