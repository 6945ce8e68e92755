"""Run a block of small matrix products on one BLAS thread.

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

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["blas_threads", "single_blas_thread"]

_lock = threading.Lock()
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
    with _lock:
        if _users == 0:
            _saved = [int(lib.get_num_threads()) for lib in libraries]
            for lib in libraries:
                lib.set_num_threads(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for lib, count in zip(libraries, _saved, strict=True):
                    lib.set_num_threads(count)
