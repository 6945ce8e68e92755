"""Run a block of small matrix products on one BLAS thread.

NumPy's bundled OpenBLAS splits every product over all cores, and its threads spin while they
wait for each other. Attention is many small products (per head: 512 x 25 x 512 at n=512,
h=12), where extra threads gain nothing on an idle machine; when another thread or program has
the other cores (the GUI thread while the loader works, a second application), every product
waits for a busy core. Measured on a 2-core machine with the other core busy: 360 ms for
``multi_head_attention`` at n=512, h=12 with OpenBLAS's threads, 30 ms on one (also 30 ms on
an idle machine either way). The thread count is process-wide, so nested and concurrent users
share one switch: the first to enter sets 1 thread, the last to leave restores the count.

Without a NumPy OpenBLAS that exports the thread calls (another BLAS, another platform) this
does nothing.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["blas_threads", "single_blas_thread"]

_PREFIXES = ("scipy_openblas_", "openblas_")  # NumPy >= 2 wheels, older or system builds
_SUFFIXES = ("64_", "")

_lock = threading.Lock()
_users = 0
_saved = 0
_api: tuple[Callable[[], int], Callable[[int], None]] | None = None
_looked = False


def _find_api() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """``(get_num_threads, set_num_threads)`` of NumPy's OpenBLAS, or None."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    libs = [*glob.glob(os.path.join(root, "numpy.libs", "*openblas*")),
            *glob.glob(os.path.join(os.path.dirname(np.__file__), ".dylibs", "*openblas*"))]
    for path in libs:
        try:
            lib = ctypes.CDLL(path)  # already loaded by NumPy: this only finds it
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                    return get, set_
    return None


def _blas() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    global _api, _looked
    if not _looked:
        _api, _looked = _find_api(), True
    return _api


def blas_threads() -> int | None:
    """OpenBLAS's current thread count, or None when it cannot be read."""
    api = _blas()
    return None if api is None else int(api[0]())


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Within the block, NumPy's matrix products run on one thread."""
    global _users, _saved
    api = _blas()
    if api is None:
        yield
        return
    get, set_ = api
    with _lock:
        if _users == 0:
            _saved = int(get())
            set_(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                set_(_saved)
