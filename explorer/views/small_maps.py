"""Pieces of the model view: thumbnails of many attention maps, where they go, and their badges.

Shape legend: L layers, H heads per layer, n tokens, m <= MAX_CELLS cells per thumbnail side.

The model view draws every head of a trained model as one small map. A 512-token map drawn in
~50 pixels shows one cell in ten, so each map is first reduced to at most MAX_CELLS x MAX_CELLS
cells by max pooling (why max: see :func:`max_pool`); the pooled cells of every map are then
drawn by one item (explorer/views/map_grid.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, NamedTuple

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsObject

__all__ = ["MAX_CELLS", "SHIFT_FLOOR", "SHIFT_LEGEND", "GridGeometry", "ShiftBadges", "max_pool",
           "pooled_maps", "shift_colour"]

MAX_CELLS = 48
"""Most cells per side of a thumbnail: about its size in pixels at 12 x 12 heads."""


def max_pool(weights: np.ndarray, max_cells: int = MAX_CELLS) -> np.ndarray:
    """``weights`` (..., n, n) pooled to (..., m, m) blocks of k x k, m = ceil(n / k) <= max_cells.

    Max pooling, not mean pooling: the model view is read for patterns (a head that attends to
    the previous token, to [SEP], to itself), and those are lines one cell wide. The mean of a
    k x k block holding one such cell is 1/k of its weight, so at 512 tokens (k = 11) a sharp
    head would fade into a near-uniform one; the maximum keeps every block's strongest weight,
    so a line stays a line, at the cost of making diffuse heads look a little brighter. Blocks
    are whole k x k squares except the last row and column of blocks (n need not divide).
    Maps of at most ``max_cells`` tokens are returned as they are.
    """
    n = weights.shape[-1]
    if n <= max_cells:
        return weights
    k = -(-n // max_cells)  # tokens per cell
    whole = n // k  # blocks of exactly k rows
    lead = weights.shape[:-2]
    # Rows first, through a reshape: the maximum of k contiguous rows runs over long rows in
    # NumPy's inner loop (reduceat over axis -2 was 5x slower at 12 x 12 x 512 x 512).
    rows = weights[..., : whole * k, :].reshape(*lead, whole, k, n).max(axis=-2)  # (..., whole, n)
    if whole * k < n:  # the short last block of rows
        rest = weights[..., whole * k:, :].max(axis=-2, keepdims=True)  # (..., 1, n)
        rows = np.concatenate([rows, rest], axis=-2)  # (..., m, n)
    cells = np.maximum.reduceat(rows, np.arange(0, n, k), axis=-1)  # (..., m, m)
    cells.flags.writeable = False  # ImageItem keeps the array it is given and draws from it later
    return cells


_last_pool: tuple[np.ndarray, np.ndarray] | None = None  # (weights, max_pool(weights))
_pool_lock = threading.Lock()


def pooled_maps(weights: np.ndarray) -> np.ndarray:
    """``max_pool(weights)``, remembered for the last array (by identity: read-only results).

    The background job that runs a long text pools its maps there (8 ms at 6 x 12 x 512 x 512),
    so the model view, handed the same array on the GUI thread, finds them made. One is kept:
    it holds its run's weights alive (75 MB at 512 tokens), and the view pools a result once.
    """
    global _last_pool
    with _pool_lock:
        if _last_pool is not None and _last_pool[0] is weights:
            return _last_pool[1]
    pooled = max_pool(weights)
    with _pool_lock:
        _last_pool = (weights, pooled)
    return pooled


class GridGeometry(NamedTuple):
    """Where map (layer, head) lies in view coordinates: a unit square per map, ``gap`` apart,
    layer rows from the top, head columns from the left."""

    layers: int
    heads: int
    gap: float = 0.14

    @property
    def pitch(self) -> float:
        """Distance between the top-left corners of neighbouring maps."""
        return 1.0 + self.gap

    def map_rect(self, layer: int, head: int) -> QRectF:
        """The unit square of one map."""
        return QRectF(head * self.pitch, layer * self.pitch, 1.0, 1.0)

    def bounds(self) -> QRectF:
        """All maps, with half a gap around them (room for the selection outline)."""
        half = self.gap / 2
        return QRectF(-half, -half, self.heads * self.pitch, self.layers * self.pitch)

    def outline_rect(self, layer: int, head: int | None) -> QRectF:
        """The selection outline: around one map, or (head None) around the whole layer row."""
        margin = self.gap * 0.32
        if head is None:
            left, width = 0.0, self.heads * self.pitch - self.gap
        else:
            left, width = head * self.pitch, 1.0
        return QRectF(left - margin, layer * self.pitch - margin, width + 2 * margin,
                      1.0 + 2 * margin)

    def hit(self, x: float, y: float) -> tuple[int, int, float, float] | None:
        """(layer, head, fraction across, fraction down) of the map under (x, y), or None."""
        if x < 0 or y < 0:
            return None
        head, layer = int(x // self.pitch), int(y // self.pitch)
        across, down = x - head * self.pitch, y - layer * self.pitch
        if head >= self.heads or layer >= self.layers or across >= 1.0 or down >= 1.0:
            return None
        return layer, head, across, down

    def rects_path(self, cells: Iterable[tuple[int, int]], crossed: bool = False) -> QPainterPath:
        """One path with the squares of ``cells`` (and, ``crossed``, both diagonals of each)."""
        path = QPainterPath()
        for layer, head in cells:
            rect = self.map_rect(layer, head)
            path.addRect(rect)
            if crossed:
                path.moveTo(rect.topLeft())
                path.lineTo(rect.bottomRight())
                path.moveTo(rect.topRight())
                path.lineTo(rect.bottomLeft())
        return path

    def query_row_path(self, query_row: int, tokens: int) -> QPainterPath:
        """The band of the query row in every map (one path for all L x H maps)."""
        path = QPainterPath()
        if tokens <= 0:
            return path
        top, height = query_row / tokens, 1.0 / tokens
        for layer in range(self.layers):
            for head in range(self.heads):
                rect = self.map_rect(layer, head)
                path.addRect(QRectF(rect.left(), rect.top() + top, 1.0, height))
        return path


_LOW, _HIGH = QColor("#fff1e0"), QColor("#b2182b")  # shift 0 -> pale, shift 1 -> dark red
SHIFT_FLOOR = 1e-4
"""Shifts up to this get the palest colour: one ablation moves most later heads by 0.001 to
0.01, which a linear scale drew all alike, as pale as no change."""
SHIFT_LEGEND = ("Corner colour: how far the intervention moved the head's attention "
                "(Jensen-Shannon, 0 to 1; log scale: pale below 0.0001, dark red 1).")


def shift_colour(shift: float) -> QColor:
    """The badge colour of a Jensen-Shannon shift in [0, 1]: pale to dark red on a log scale
    from :data:`SHIFT_FLOOR` (0.0001 -> pale, 0.001 a quarter, 0.01 half way, 1 dark red)."""
    value = float(shift) if np.isfinite(shift) else 0.0
    floor = np.log10(SHIFT_FLOOR)
    t = 0.0 if value <= SHIFT_FLOOR else min((np.log10(value) - floor) / -floor, 1.0)
    return QColor.fromRgbF(_LOW.redF() + (_HIGH.redF() - _LOW.redF()) * t,
                           _LOW.greenF() + (_HIGH.greenF() - _LOW.greenF()) * t,
                           _LOW.blueF() + (_HIGH.blueF() - _LOW.blueF()) * t)


class ShiftBadges(QGraphicsObject):
    """A coloured badge with the shift ("0.42", "0.0042") in the top-right corner of every map.

    One item paints every badge (no text item per map: hundreds would make updates slow). The
    item lives in view coordinates, which stretch with the widget; badges are drawn in device
    pixels so their text keeps its size. Maps narrower than a badge with text get a coloured
    corner only.
    """

    _POINTS = 7.0

    def __init__(self) -> None:
        super().__init__()
        self._geometry = GridGeometry(0, 0)
        self._shift: np.ndarray | None = None
        self._font = QFont()
        self._font.setPointSizeF(self._POINTS)
        self._metrics = QFontMetricsF(self._font)

    def set_shift(self, geometry: GridGeometry, shift: np.ndarray | None) -> None:
        """Badges for ``shift`` (L, H) on the maps of ``geometry``; None: no badges."""
        self.prepareGeometryChange()
        self._geometry, self._shift = geometry, shift
        self.setVisible(shift is not None)
        self.update()

    def text(self, layer: int, head: int) -> str | None:
        """The badge text of one map, or None without a badge there."""
        shift = self._shift
        if shift is None or not (0 <= layer < shift.shape[0] and 0 <= head < shift.shape[1]):
            return None
        return _badge_text(float(shift[layer, head]))

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return self._geometry.bounds()

    def paint(self, painter: QPainter, *args: Any) -> None:
        shift = self._shift
        if shift is None:
            return
        to_device = painter.transform()
        painter.save()
        painter.resetTransform()  # from here on, device pixels
        painter.setFont(self._font)
        height = self._metrics.height()
        width = self._metrics.horizontalAdvance("0.0042") + 4
        rows, cols = min(shift.shape[0], self._geometry.layers), min(shift.shape[1],
                                                                     self._geometry.heads)
        for layer in range(rows):
            for head in range(cols):
                value = float(shift[layer, head])
                rect = to_device.mapRect(self._geometry.map_rect(layer, head))
                colour = shift_colour(value)
                painter.setPen(QPen(QColor(60, 60, 60), 0.8))
                painter.setBrush(colour)
                if rect.width() < 2.2 * width:  # too small for a number: a coloured corner
                    side = max(rect.width() * 0.28, 4.0)
                    corner = rect.topRight()
                    painter.drawPolygon(QPolygonF([corner, corner - QPointF(side, 0),
                                                   corner + QPointF(0, side)]))
                    continue
                badge = QRectF(rect.right() - width, rect.top(), width, height)
                painter.drawRect(badge)
                painter.setPen(QColor("white") if colour.lightnessF() < 0.55 else QColor("black"))
                painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, _badge_text(value))
        painter.restore()


def _badge_text(value: float) -> str:
    """A shift with two significant digits ("0.42", "0.0042": one ablation moves later heads by
    thousandths), "<1e-4" below :data:`SHIFT_FLOOR`; "n/a" for a missing (NaN) value."""
    if not np.isfinite(value):
        return "n/a"
    if 0 < value < SHIFT_FLOOR:
        return "<1e-4"
    return f"{value:.2g}"
