"""How the heatmaps are arranged and labelled: where the focused map and the small maps go
(:func:`plan_layout`), how many token names fit on an axis (:func:`label_step`), and a bottom
axis that draws its labels vertically, one under each column.

The focused heatmap is kept square-ish (square cells for a square matrix) and as large as the
canvas allows, with the small maps in a grid either below it (tall canvas) or beside it (wide
canvas), whichever leaves the focused map bigger.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF

MAX_LABEL_CHARS = 14  # longer token names are cut on the axes (the hover text has them whole)
GAP = 6  # between the focused map, the colour bar and the small maps
SMALL_GAP = 4  # between small maps
SMALL_TITLE_H = 18
SMALL_MIN, SMALL_MAX = 44.0, 150.0  # side of a small map, in pixels
FOCUS_SHARE = 0.6
"""The focused map keeps at least this share of the side it would have alone; small maps that
do not fit beside it then are shown a page at a time."""


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


_WIDEST: dict[tuple[str, tuple[str, ...], int], float] = {}
_WIDEST_KEPT = 64


def widest_label(font: QFont, labels: Sequence[str], max_chars: int) -> float:
    """Pixels of the widest of ``labels``, each cut to ``max_chars`` (`short_label`), in
    ``font``; 0 for none.

    Remembered by font, labels and cut: each layout tries several tick fonts on both axes, and
    a 512-token sentence measured 12,000 names per new result. Repeated names are measured once.
    """
    key = (font.key(), tuple(labels), max_chars)
    if key not in _WIDEST:
        if len(_WIDEST) >= _WIDEST_KEPT:
            _WIDEST.clear()
        metrics = QFontMetricsF(font)
        _WIDEST[key] = max((metrics.horizontalAdvance(t) for t in {short_label(t, max_chars)
                                                                   for t in labels}), default=0.0)
    return _WIDEST[key]


def short_label(text: str, max_chars: int = MAX_LABEL_CHARS) -> str:
    """``text`` cut to ``max_chars`` in the middle, keeping its start and its end.

    The end says as much as the start: sentences that begin alike ("I drink water", "I drink
    water with fine (query)") stay apart, where cutting the end left "I drink water…" for both.
    A closing remark in parentheses ("(query)") is kept whole when it takes at most half.
    """
    if len(text) <= max_chars:
        return text
    remark = text.rfind(" (")
    if text.endswith(")") and remark > 0 and len(text) - remark <= (max_chars + 2) // 2:
        tail = len(text) - remark
    else:
        tail = max(max_chars - 1 - max(math.ceil((max_chars - 1) * 0.6), 1), 0)
    head = max(max_chars - 1 - tail, 1)
    return text[:head].rstrip() + "…" + (text[len(text) - tail:] if tail else "")


def thinned(count: int, step: int, keep: Iterable[int | None] = ()) -> list[int]:
    """The labels to show of ``count``: always those in ``keep`` (the query row, the inspected
    column), and every ``step``-th of the others, evenly, except those closer than ``step`` to a
    kept one (they would overlap it)."""
    kept = sorted({k for k in keep if k is not None and 0 <= k < count})
    step = max(step, 1)
    regular = [i for i in range(0, count, step) if all(abs(i - k) >= step for k in kept)]
    return sorted(set(regular) | set(kept))


Ticks = list[tuple[float, str]]


def axis_ticks(rows: list[str], cols: list[str], side: float, label_px: float, query: int,
               col: int | None, chars: tuple[int, int]) -> tuple[Ticks, Ticks]:
    """(row ticks, column ticks) of a map ``side`` pixels square, names cut to ``chars``
    (rows, columns) letters: the query row's and the
    inspected column's names always, every k-th of the others when all would overlap (both
    axes stack labels by their height: the bottom one draws them vertically)."""
    row_step = label_step(len(rows), side, label_px)
    col_step = label_step(len(cols), side, label_px)
    # In self-attention the query is a column too: its name is kept under the map as well.
    same = 0 <= query < min(len(rows), len(cols)) and rows[query] == cols[query]
    shown_rows = thinned(len(rows), row_step, (query,))
    shown_cols = thinned(len(cols), col_step, (col, query if same else None))
    return ([(i + 0.5, short_label(rows[i], chars[0])) for i in shown_rows],
            [(j + 0.5, short_label(cols[j], chars[1])) for j in shown_cols])


def plan_page(width: float, height: float, extra_w: float, extra_h: float, count: int,
              small_min: float = SMALL_MIN) -> tuple[Plan, int]:
    """:func:`plan_layout` for as many of ``count`` small maps as leave the focused map at
    least :data:`FOCUS_SHARE` of the room it would have alone; (plan, maps on one page).

    With 50 heads every small map at its smallest left the focused map a line; beyond what
    fits, the small maps are paged instead.
    """
    alone = max(min(width - extra_w, height - extra_h), 0.0)
    plan = plan_layout(width, height, extra_w, extra_h, count, small_min)
    if count <= 2 or plan.side >= FOCUS_SHARE * alone and plan.small >= small_min:
        return plan, max(count, 1)
    low, high = 2, count - 1  # the largest page that keeps the focused map large: bisection
    best = plan_layout(width, height, extra_w, extra_h, 2, small_min)
    while low <= high:
        middle = (low + high) // 2
        candidate = plan_layout(width, height, extra_w, extra_h, middle, small_min)
        if candidate.side >= FOCUS_SHARE * alone and candidate.small >= small_min:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best, max(high, 2)


class VerticalLabelAxis(pg.AxisItem):
    """A bottom axis whose tick labels are drawn vertically, so one fits under each column."""

    def __init__(self, pen: object = None) -> None:
        super().__init__("bottom", pen=pen, textPen=pen)
        self._labels: list[tuple[float, str]] = []

    def set_labels(self, ticks: Sequence[tuple[float, str]]) -> None:
        """Tick marks at the values of ``ticks`` with their texts drawn vertically below them.

        The owner sets the axis height (``setHeight``) to fit the longest label.
        """
        self._labels = list(ticks)
        # pyqtgraph lays out (and drops) tick texts as if horizontal: give it none, draw our own.
        self.setTicks([[(value, "") for value, _ in ticks]])

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        # The axis line's square cap reaches a pixel past pyqtgraph's rect (which keeps no
        # margin for a bottom axis that hides overlapping labels): the cached picture of the
        # axis (explorer/views/axis_cache.py) must hold it.
        return super().boundingRect().adjusted(-1, 0, 1, 0)

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802, ANN001
        super().drawPicture(p, axisSpec, tickSpecs, [])
        low, high = self.range
        if high == low:
            return
        p.setPen(self.textPen())
        if self.style["tickFont"] is None:  # else pyqtgraph has set its tick font already
            p.setFont(self.font())
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
