"""How many threads the attention core runs on: heads over a few threads, BLAS on one.

Groups of heads on a few threads (``over_head_groups``, used by the multi-head softmax path):

   NumPy releases the GIL inside its products and element-wise loops, so heads handed to two or
   more threads really run at once, as a tuned library's fused kernel does (torch's
   ``scaled_dot_product_attention`` splits over heads too). Every thread writes its heads' slice of
   arrays allocated once up front, so nothing is concatenated afterwards, and each head's numbers
   are exactly those of the single-threaded path (the same operations on the same rows).

   Shapes: h heads, n_q queries, n_kv keys/values, d_k and d_v head widths.

A block of small matrix products on one BLAS thread (``single_blas_thread``):

   NumPy's bundled OpenBLAS splits every product over all cores, and its threads spin while they
   wait for each other. Attention is many small products (per head: 512 x 25 x 512 at n=512,
   h=12), where extra threads gain nothing on an idle machine; when another thread or program has
   the other cores (the GUI thread while the loader works, a second application), every product
   waits for a busy core. Measured on a 2-core machine with the other core busy: 360 ms for
   ``multi_head_attention`` at n=512, h=12 with OpenBLAS's threads, 30 ms on one (also 30 ms on
   an idle machine either way). The thread count is process-wide, so nested and concurrent users
   share one switch: the first to enter sets 1 thread, the last to leave restores the count.

   The BLAS libraries are found and driven by threadpoolctl (the library scikit-learn uses for
   this); where it finds none, this does nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["blas_threads", "head_chunks", "in_column_halves", "over_head_groups",
           "single_blas_thread"]

Array = NDArray[np.floating[Any]]

MIN_ELEMENTS = 1 << 20
"""Below this many weights (h * n_q * n_kv) a thread hand-off costs more than it saves."""
MAX_THREADS = 4

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def head_chunks(h: int, n_q: int, n_kv: int) -> list[slice]:
    """Contiguous groups of heads, one per thread; a single group when threads would not pay."""
    if h * n_q * n_kv < MIN_ELEMENTS:  # before asking the system (cpu_count: ~5 us)
        return [slice(0, h)]
    threads = min(os.cpu_count() or 1, MAX_THREADS, h)
    if threads < 2:
        return [slice(0, h)]
    bounds = np.linspace(0, h, threads + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="attention-heads")
    return _executor


def _run(work: Callable[[slice], None], chunks: list[slice]) -> None:
    if len(chunks) == 1:
        work(chunks[0])
        return
    for done in [_pool().submit(work, chunk) for chunk in chunks]:
        done.result()  # waits; re-raises an error of that chunk here


def over_head_groups(work: Callable[[slice], None], h: int, n_q: int, n_kv: int) -> None:
    """Call ``work(heads)`` for contiguous groups of the h heads, on threads when that pays."""
    _run(work, head_chunks(h, n_q, n_kv))


def in_column_halves(x: Array, w: Array) -> Array:
    """``x @ w``, (n, d) @ (d, m) -> (n, m), its two column halves computed on two threads.

    For a transformer's largest products at short texts (32 x 384 x 1536: 0.36 ms on one
    thread, 0.2 ms in halves). Not OpenBLAS's own threads (see ``single_blas_thread``): this
    thread computes one half and then blocks, not spins, on the other, so when the other core
    is busy the second half gets this core: a 32-token MiniLM pass measured 1.7 ms faster on an
    idle machine and 0.5-1 ms slower with the other core busy, not ten times slower. Each half
    writes its columns of one output array (a column block is a valid BLAS output).
    """
    if (os.cpu_count() or 1) < 2 or w.shape[1] < 2:
        return x @ w
    out = np.empty((x.shape[0], w.shape[1]), np.result_type(x, w))  # (n, m)
    half = w.shape[1] // 2
    other = _pool().submit(np.matmul, x, w[:, half:], out=out[:, half:])
    np.matmul(x, w[:, :half], out=out[:, :half])
    other.result()  # re-raises an error of that half here
    return out


# ----------------------------------------------------------------------------- BLAS threads

_blas_lock = threading.Lock()
_users = 0
_saved: list[int] = []  # each BLAS library's thread count before the first user entered
_libraries: list[Any] | None = None  # threadpoolctl's controllers of the loaded BLAS libraries


def _blas() -> list[Any]:
    """The loaded BLAS libraries (found once: threadpoolctl scans the process's libraries)."""
    global _libraries
    if _libraries is None:
        from threadpoolctl import ThreadpoolController

        _libraries = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _libraries


def blas_threads() -> int | None:
    """The first BLAS library's current thread count, or None when there is none to ask."""
    libraries = _blas()
    return int(libraries[0].get_num_threads()) if libraries else None


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Within the block, NumPy's matrix products run on one thread."""
    global _users, _saved
    libraries = _blas()
    if not libraries:
        yield
        return
    with _blas_lock:
        if _users == 0:
            _saved = [int(lib.get_num_threads()) for lib in libraries]
            for lib in libraries:
                lib.set_num_threads(1)
        _users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _users -= 1
            if _users == 0:
                for lib, count in zip(libraries, _saved, strict=True):
                    lib.set_num_threads(count)
