"""Views keep read-only copies of what they show, made once and shared."""

from __future__ import annotations

import numpy as np

from explorer.views.arrays import frozen


def test_a_writeable_array_is_copied_and_the_copy_is_read_only():
    weights = np.ones((2, 3, 3), dtype=np.float32)
    kept = frozen(weights)
    weights[:] = 0  # the caller reuses its array
    assert kept.max() == 1 and not kept.flags.writeable


def test_a_read_only_array_of_its_own_is_shared():
    kept = frozen(np.ones((2, 3, 3), dtype=np.float32))
    assert frozen(kept) is kept and frozen(kept, np.float32, ndmin=3) is kept


def test_a_read_only_view_of_a_writeable_array_is_copied():
    base = np.ones((3, 3))
    view = base[:]
    view.flags.writeable = False
    kept = frozen(view)
    base[:] = 0  # the view would change with it
    assert kept is not view and kept.max() == 1


def test_another_dtype_or_fewer_dimensions_make_a_copy():
    kept = frozen(np.ones((3, 3), dtype=np.float64))
    as_float32 = frozen(kept, np.float32)
    assert as_float32.dtype == np.float32 and not as_float32.flags.writeable
    assert frozen(kept, ndmin=3).shape == (1, 3, 3)
