"""Colours shared by every view: one colour per head and one colour map for weights.

Every view takes its colours from here so that "head 3" is the same orange in the lines view, the
latent map and the heatmap titles, and a weight of 0.4 is the same colour in the sentence strip and
in the heatmaps (whose colour bar is the legend for both).
"""

from __future__ import annotations

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

BACKGROUND = "w"
"""Background of every plot (set per widget, never through pg.setConfigOptions)."""

FOREGROUND = "k"
"""Axis, tick and title colour on that background."""

WEIGHT_COLORMAP: pg.ColorMap = pg.colormap.get("viridis")
"""Perceptually uniform map for weights in [0, 1]: lightness grows with the weight."""

# Tableau 10 followed by darker variants: distinguishable on white, and cycling after 12.
_HEAD_HEX = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#e6550d",
)  # fmt: skip

HEAD_COLOURS: list[QColor] = [QColor(h) for h in _HEAD_HEX]
"""One colour per head; head i uses HEAD_COLOURS[i % len(HEAD_COLOURS)]."""

# 256 precomputed colours: weight_colour is called per token per update, and looking up a table is
# much cheaper than asking the ColorMap to interpolate each time.
_LUT_SIZE = 256
_LUT_RGB: np.ndarray = WEIGHT_COLORMAP.getLookupTable(0.0, 1.0, _LUT_SIZE, alpha=False)
_LUT: list[QColor] = [QColor(int(r), int(g), int(b)) for r, g, b in _LUT_RGB]
# Relative luminance (sRGB weights, good enough for choosing black or white text).
_LUT_LUMA: np.ndarray = _LUT_RGB @ np.array([0.2126, 0.7152, 0.0722]) / 255.0


def head_colour(i: int) -> QColor:
    """The colour of head ``i`` (0-based); colours cycle when there are more heads than colours."""
    return QColor(HEAD_COLOURS[i % len(HEAD_COLOURS)])


def lut_index(w: float) -> int:
    """Index into the lookup table for a weight, clipped to [0, 1] (NaN counts as 0)."""
    if not np.isfinite(w):
        return 0
    return int(round(min(max(float(w), 0.0), 1.0) * (_LUT_SIZE - 1)))


def lut_indices(weights: np.ndarray) -> np.ndarray:
    """:func:`lut_index` of every weight at once (the same rounding: half to even)."""
    w = np.asarray(weights, dtype=float)
    scaled = np.rint(np.clip(np.nan_to_num(w, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)
                     * (_LUT_SIZE - 1))
    return scaled.astype(int)


_BLACK, _WHITE = QColor("black"), QColor("white")
_DARK_BEHIND = (_LUT_LUMA <= 0.45).tolist()  # per table index: white text reads better


def colour_at(index: int) -> QColor:
    """The table's colour at ``index`` (a :func:`lut_index`), shared: read it, never change it.
    For the 512 token chips of one update, where a new QColor each cost more than the paint."""
    return _LUT[index]


def text_colour_at(index: int) -> QColor:
    """Black or white on ``colour_at(index)``, shared like it."""
    return _WHITE if _DARK_BEHIND[index] else _BLACK


def weight_colour(w: float) -> QColor:
    """The colour of weight ``w`` in WEIGHT_COLORMAP (a new QColor the caller may change)."""
    return QColor(colour_at(lut_index(w)))


def text_colour_on(w: float) -> QColor:
    """Black or white, whichever reads better on ``weight_colour(w)``."""
    return QColor(text_colour_at(lut_index(w)))


def style_plot(plot: pg.PlotItem) -> None:
    """Dark axes and text for a plot on the light BACKGROUND, without touching global options."""
    for name in ("left", "bottom", "top", "right"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(FOREGROUND))
        axis.setTextPen(pg.mkPen(FOREGROUND))
        # Coordinates and weights are plain numbers: "(x0.001)" on a toy map's axis misleads.
        axis.enableAutoSIPrefix(False)
