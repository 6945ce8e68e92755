"""Arrays the views keep: their own, unchangeable copies, made once per result.

A view keeps the weights it shows (pyqtgraph's ImageItem keeps the array it is given and draws
from it later), so it must not see them change under it. A read-only array that owns its data
cannot change, so views share it instead of each copying it on every update. The core's results
are such arrays already: the heatmaps and the lines view then copy nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["frozen"]


def frozen(values: np.ndarray, dtype: DTypeLike | None = None, ndmin: int = 0) -> np.ndarray:
    """``values`` as a read-only array nobody else can change: itself when it already is one
    (read-only, owning its data, of ``dtype``), else a read-only copy."""
    if (isinstance(values, np.ndarray) and not values.flags.writeable and values.base is None
            and (dtype is None or values.dtype == np.dtype(dtype)) and values.ndim >= ndmin):
        return values
    array = np.array(values, dtype=dtype, ndmin=ndmin)  # a copy
    array.flags.writeable = False
    return array
