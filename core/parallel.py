"""Multi-head softmax attention with the heads split over a few threads.

NumPy releases the GIL inside its products and element-wise loops, so heads handed to two or
more threads really run at once, as a tuned library's fused kernel does (torch's
``scaled_dot_product_attention`` splits over heads too). Every thread writes its heads' slice of
arrays allocated once up front, so nothing is concatenated afterwards, and each head's numbers
are exactly those of the single-threaded path (the same operations on the same rows).

Shapes: h heads, n_q queries, n_kv keys/values, d_k and d_v head widths.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.normalize import softmax_into

__all__ = ["head_chunks", "softmax_attention"]

Array = NDArray[np.floating[Any]]

MIN_ELEMENTS = 1 << 20
"""Below this many weights (h * n_q * n_kv) a thread hand-off costs more than it saves."""
MAX_THREADS = 4

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def head_chunks(h: int, n_q: int, n_kv: int) -> list[slice]:
    """Contiguous groups of heads, one per thread; a single group when threads would not pay."""
    threads = min(os.cpu_count() or 1, MAX_THREADS, h)
    if threads < 2 or h * n_q * n_kv < MIN_ELEMENTS:
        return [slice(0, h)]
    bounds = np.linspace(0, h, threads + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _run(work: Callable[[slice], None], chunks: list[slice]) -> None:
    global _executor
    if len(chunks) == 1:
        work(chunks[0])
        return
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="attention-heads")
    for done in [_executor.submit(work, chunk) for chunk in chunks]:
        done.result()  # waits; re-raises an error of that chunk here


def softmax_attention(
    q: Array, k: Array, v: Array, divisor: float, allowed: NDArray[np.bool_] | None,
) -> tuple[Array, Array, Array, Array, NDArray[np.bool_]]:
    """Scores, logits, softmax weights, output and empty rows for q (h, n_q, d_k),
    k (h, n_kv, d_k), v (h, n_kv, d_v); ``allowed`` is None or broadcast to (h, n_q, n_kv).

    The same steps as ``core.attention._attend_batched`` for dot/scaled_dot scoring.
    """
    h, n_q, n_kv = q.shape[0], q.shape[1], k.shape[1]
    scores = np.empty((h, n_q, n_kv), q.dtype)
    logits = np.empty_like(scores)
    weights = np.empty_like(scores)
    output = np.empty((h, n_q, v.shape[2]), q.dtype)
    empty = np.empty((h, n_q), np.bool_)

    def work(heads: slice) -> None:
        np.matmul(q[heads], np.swapaxes(k[heads], -1, -2), out=scores[heads])  # (., n_q, n_kv)
        with np.errstate(over="ignore"):  # errstate is per thread: a logit past the float max
            np.divide(scores[heads], divisor, out=logits[heads])  # is +inf, handled by softmax
        if allowed is not None:
            np.copyto(logits[heads], -np.inf, where=~allowed[heads])
        empty[heads] = softmax_into(logits[heads], weights[heads])
        np.matmul(weights[heads], v[heads], out=output[heads])  # (., n_q, d_v)

    _run(work, head_chunks(h, n_q, n_kv))
    return scores, logits, weights, output, empty
