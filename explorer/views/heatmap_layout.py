"""How the heatmaps are arranged and labelled: where the focused map and the small maps go
(:func:`plan_layout`), how many token names fit on an axis (:func:`label_step`), and a bottom
axis that draws its labels vertically, one under each column.

The focused heatmap is kept square-ish (square cells for a square matrix) and as large as the
canvas allows, with the small maps in a grid either below it (tall canvas) or beside it (wide
canvas), whichever leaves the focused map bigger.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

MAX_LABEL_CHARS = 14  # longer token names are cut on the axes (the hover text has them whole)
GAP = 6  # between the focused map, the colour bar and the small maps
SMALL_GAP = 4  # between small maps
SMALL_TITLE_H = 18
SMALL_MIN, SMALL_MAX = 44.0, 150.0  # side of a small map, in pixels


class Plan(NamedTuple):
    """Where things go: small maps below (or beside) the focused one, in cols x rows of side t."""

    below: bool
    cols: int
    rows: int
    side: float  # of the focused map's image area
    small: float  # of each small map's image area


def plan_layout(width: float, height: float, extra_w: float, extra_h: float, count: int,
                small_min: float = SMALL_MIN) -> Plan:
    """Place a square focused map (plus ``extra_w`` x ``extra_h`` of axes) and ``count`` small maps.

    Every arrangement (small maps below or beside, any column count) is tried; the one with the
    largest focused map wins, small maps about a third of its side (within small_min..SMALL_MAX)
    and grown into space the focused map cannot use. ``small_min`` is at least as wide as the
    widest small title: pyqtgraph makes a plot as wide as its title, whatever the layout says.
    """
    count = max(count, 1)  # before any data: room for the mean's map
    best, best_score = Plan(True, count, 1, 0.0, 0.0), -math.inf
    for below in (True, False):
        for cols in range(1, count + 1):
            rows = math.ceil(count / cols)
            if below:  # small maps in rows under the focused one
                free_w, free_h = width - extra_w, height - extra_h - GAP
                fit_small = (width - (cols - 1) * SMALL_GAP) / cols
                lines, across, title = rows, cols, SMALL_TITLE_H
                long_free, short_free = free_h - (rows - 1) * SMALL_GAP, free_w
            else:  # small maps in columns beside it
                free_w, free_h = width - extra_w - GAP, height - extra_h
                fit_small = (height - (rows - 1) * SMALL_GAP) / rows - SMALL_TITLE_H
                lines, across, title = cols, rows, 0.0
                long_free, short_free = free_w - (cols - 1) * SMALL_GAP, free_h
            # The focused side s and the small side t share ``long_free``: s + lines*(t+title).
            t = min(SMALL_MAX, fit_small, max(small_min, (long_free - lines * title)
                                              / (3 + lines)))
            side = min(short_free, long_free - lines * (t + title))
            t = max(t, min(SMALL_MAX, fit_small, (long_free - side) / lines - title))
            score = side + 0.25 * t - (1000 if t < small_min else 0) - 0.1 * across
            if score > best_score:
                best, best_score = Plan(below, cols, rows, max(side, 0.0), max(t, 0.0)), score
    return best


def short_label(text: str) -> str:
    """``text``, cut to :data:`MAX_LABEL_CHARS` with an ellipsis."""
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


class VerticalLabelAxis(pg.AxisItem):
    """A bottom axis whose tick labels are drawn vertically, so one fits under each column."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self._labels: list[tuple[float, str]] = []

    def set_labels(self, ticks: list[tuple[float, str]]) -> None:
        """Tick marks at the values of ``ticks`` with their texts drawn vertically below them.

        The owner sets the axis height (``setHeight``) to fit the longest label.
        """
        self._labels = list(ticks)
        # pyqtgraph lays out (and drops) tick texts as if horizontal: give it none, draw our own.
        self.setTicks([[(value, "") for value, _ in ticks]])

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802, ANN001
        super().drawPicture(p, axisSpec, tickSpecs, [])
        low, high = self.range
        if high == low:
            return
        p.setPen(self.textPen())
        metrics = p.fontMetrics()
        bounds = self.mapRectFromParent(self.geometry())
        top = bounds.top() + max(0, self.style["tickLength"]) + 2
        for value, text in self._labels:
            if not low <= value <= high:
                continue
            x = bounds.left() + (value - low) / (high - low) * bounds.width()
            p.save()
            # Rotate about the label's top end: the text then runs down, ending at the axis.
            p.translate(x, top)
            p.rotate(-90)
            width = metrics.horizontalAdvance(text) + 2
            p.drawText(QRectF(-width, -metrics.height() / 2, width, metrics.height()),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
            p.restore()


def label_step(count: int, pixels: float, label_px: float) -> int:
    """Show every k-th of ``count`` labels so labels of ``label_px`` fit in ``pixels``."""
    if count == 0 or pixels <= 0:
        return 1
    return max(1, math.ceil(label_px / (pixels / count)))
