"""One matrix of the Matrices tab as a heatmap that can be read: row and column names on its axes,
the numbers in the cells when they fit, the number under the pointer, and a colour key.

Built once and updated in place (one ImageItem, one item painting every number, one small image
for the key): no PlotItem or ColorBarItem, each of which builds a menu of axis controls, eight
times over, for a tab that may never be opened.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from core.explain.steps import format_number
from explorer.views.heatmap_layout import VerticalLabelAxis
from explorer.views.heatmap_layout import label_step as heatmap_label_step
from explorer.views.palette import FOREGROUND

MAX_LABEL_CHARS = 12  # longer token names are cut ("international…") so the axes stay narrow
LABEL_GAP = 2  # pixels between two labels
KEY_STEPS = 256  # colours in the colour key


def short(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[:MAX_LABEL_CHARS - 1] + "…"


def label_step(count: int, pixels: float, label_px: float) -> int:
    """Name every k-th of ``count`` rows (or columns) so names ``label_px`` tall fit ``pixels``,
    with :data:`LABEL_GAP` between them."""
    return heatmap_label_step(count, pixels, label_px + LABEL_GAP)


class VerticalAxis(VerticalLabelAxis):
    """The heatmaps' vertical column names, its height fitted to the longest name."""

    def set_labels(self, ticks: Sequence[tuple[float, str]]) -> None:
        super().set_labels(ticks)
        metrics = QFontMetricsF(self.font())
        longest = max((metrics.horizontalAdvance(text) for _, text in ticks), default=0.0)
        self.setHeight(int(longest + max(0, self.style["tickLength"]) + 8))


class KeyAxis(pg.AxisItem):
    """The colour key's axis: pyqtgraph's numbers, but a tick one rounding away from zero (as
    -2.4 + 12 × 0.2 is) reads "0", not "-2.22045e-16" or "-0.0"."""

    def tickStrings(self, values, scale, spacing) -> list[str]:  # noqa: N802, ANN001 (Qt)
        values = [0.0 if abs(v) < abs(spacing) * 1e-6 else v for v in values]
        strings = super().tickStrings(values, scale, spacing)
        return [text[1:] if text.startswith("-") and _is_zero(text) else text for text in strings]


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0.0
    except ValueError:
        return False


class CellNumbers(pg.GraphicsObject):
    """Every cell's number, painted by one item, when the numbers fit the cells on screen.

    Cell (i, j) covers x in [j, j+1], y in [i, i+1]; the text is dark on light colours and light on
    dark ones. The texts keep their size whatever the cells' (the item's scale is undone while
    painting), so they are drawn only where they fit.
    """

    def __init__(self) -> None:
        super().__init__()
        self._values: np.ndarray = np.zeros((0, 0))  # (rows, cols)
        self._light: np.ndarray = np.zeros((0, 0), bool)  # (rows, cols) True: a dark cell
        self._texts: list[list[str]] | None = None  # formatted when first drawn
        self._colours: tuple[tuple[float, float], pg.ColorMap | None] = ((0.0, 1.0), None)
        self._widest = 0.0
        self.font = QFont()
        self.font.setPointSizeF(7.0)
        metrics = QFontMetricsF(self.font)
        self._line = metrics.height()
        self._narrowest = metrics.horizontalAdvance("0") + 4  # no number is narrower

    def set_cells(self, values: np.ndarray, levels: tuple[float, float],
                  cmap: pg.ColorMap) -> None:
        """``values`` (rows, cols), coloured by ``cmap`` over ``levels`` underneath.

        Formatted (and their colours looked at) only when they may fit: 512 tokens make 262,144
        cells that never will, and doing it anyway cost each update of the tab ~80 ms.
        """
        self.prepareGeometryChange()
        self._values, self._texts = values, None
        self._colours = (levels, cmap)
        self.update()

    def texts(self) -> list[list[str]]:
        """The numbers as written in the cells ("—" for a missing one)."""
        if self._texts is None:
            (low, high), cmap = self._colours
            values = np.nan_to_num(self._values, nan=low)
            share = np.clip((values - low) / ((high - low) or 1.0), 0, 1)  # (rows, cols)
            colours = cmap.map(share.ravel(), mode=pg.ColorMap.FLOAT)[:, :3]  # (rows*cols, 3)
            luminance = colours @ np.array([0.299, 0.587, 0.114])  # (rows*cols,)
            self._light = (luminance < 0.5).reshape(values.shape)  # dark cells: light text
            self._texts = [[format_number(v, 3) if math.isfinite(v) else "—" for v in row]
                           for row in self._values.tolist()]
            metrics = QFontMetricsF(self.font)
            self._widest = max((metrics.horizontalAdvance(t) for row in self._texts
                                for t in row), default=0.0)
        return self._texts

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        rows, cols = self._values.shape
        return QRectF(0, 0, cols, rows)

    def cell_pixels(self) -> tuple[float, float]:
        """A cell's width and height in scene pixels (the widget's, before any export zoom)."""
        t = self.sceneTransform()
        return abs(t.m11()), abs(t.m22())

    def fit(self) -> str | None:
        """How every number fits inside its cell as the matrix is shown now: "across", "up"
        (turned, in a tall narrow cell: a head's few dimensions over many tokens) or None."""
        width, height = self.cell_pixels()
        if self._values.size == 0 or min(width, height) < self._line or \
                max(width, height) < self._narrowest:
            return None  # too small for any number: not even formatted
        self.texts()
        if self._widest + 4 <= width and self._line <= height:
            return "across"
        return "up" if self._widest + 4 <= height and self._line <= width else None

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,  # noqa: ARG002
              widget: QWidget | None = None) -> None:
        way = self.fit()
        if way is None:
            return
        t = self.sceneTransform()
        sx, sy = t.m11(), t.m22()  # signed: the view may flip y
        p.save()
        p.scale(1 / sx, 1 / sy)  # one unit = one scene pixel: the font keeps its size
        p.setFont(self.font)
        dark, light = pg.mkColor(FOREGROUND), QColor("white")
        flags = int(Qt.AlignmentFlag.AlignCenter)
        w, h = (abs(sx), abs(sy)) if way == "across" else (abs(sy), abs(sx))
        for i, row in enumerate(self.texts()):
            for j, text in enumerate(row):
                p.setPen(light if self._light[i, j] else dark)
                p.save()
                p.translate((j + 0.5) * sx, (i + 0.5) * sy)
                if way == "up":
                    p.rotate(-90)
                p.drawText(QRectF(-w / 2, -h / 2, w, h), flags, text)
                p.restore()
        p.restore()


class MatrixHeatmap(pg.GraphicsLayoutWidget):
    """A matrix as coloured cells with named rows and columns, numbers and a colour key.

    Signals
    -------
    hovered(str)
        What the cell under the pointer holds ("A′[“animal”, “it”] = 0.3818"), or "" off it.
    """

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self._symbol = ""
        self._data = np.zeros((0, 0))
        self._rows: tuple[str, ...] = ()
        self._cols: tuple[str, ...] = ()
        self._key_shown: tuple = ()
        self._ticks_shown: tuple = ()
        self._built = False  # the items are made with the first matrix (most panels never
        # become heatmaps: made up front, they cost the window's start ~25 ms)

    def _build(self) -> None:
        self._built = True
        self.view = pg.ViewBox(lockAspect=False, invertY=True, enableMenu=False)
        self.view.setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.numbers = CellNumbers()
        self.view.addItem(self.image)
        self.view.addItem(self.numbers)
        self.key_view = pg.ViewBox(enableMenu=False)
        self.key_view.setMouseEnabled(False, False)
        self.key_view.setFixedWidth(10)
        self.key_image = pg.ImageItem(axisOrder="row-major")
        self.key_view.addItem(self.key_image)
        pen = pg.mkPen(FOREGROUND)  # given to the constructors: each later setPen re-lays out
        self.left = pg.AxisItem("left", pen=pen, textPen=pen, linkView=self.view)
        self.bottom = VerticalAxis(pen)
        self.bottom.linkToView(self.view)
        self.key_axis = KeyAxis("right", pen=pen, textPen=pen, linkView=self.key_view)
        self.key_axis.enableAutoSIPrefix(False)  # weights and scores are plain numbers
        layout = self.ci
        layout.addItem(self.left, 0, 0)
        layout.addItem(self.view, 0, 1)
        layout.addItem(self.key_view, 0, 2)
        layout.addItem(self.key_axis, 0, 3)
        layout.addItem(self.bottom, 1, 1)
        self.view.sigResized.connect(self._update_ticks)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def set_matrix(self, symbol: str, data: np.ndarray, rows: Sequence[str], cols: Sequence[str],
                   levels: tuple[float, float], cmap: pg.ColorMap) -> None:
        """Show ``data`` (rows, cols) in ``cmap`` over ``levels``, rows and columns named."""
        if not self._built:
            self._build()
        self._symbol, self._data = symbol, data
        self._rows, self._cols = tuple(rows), tuple(cols)
        self.image.setColorMap(cmap)
        self.image.setImage(data, levels=levels, autoLevels=False)
        if self.view.viewRange() != [[0, data.shape[1]], [0, data.shape[0]]]:
            self.view.setRange(xRange=(0, data.shape[1]), yRange=(0, data.shape[0]), padding=0)
        self.numbers.set_cells(data, levels, cmap)
        self._show_key(levels, cmap)
        self._update_ticks()

    def _show_key(self, levels: tuple[float, float], cmap: pg.ColorMap) -> None:
        """The colour key: ``cmap`` from ``levels[0]`` (bottom) to ``levels[1]``, with its axis.
        Redrawn only when it changes (the weights' key never does)."""
        key = (levels, cmap.name)
        if key == self._key_shown:
            return
        self._key_shown = key
        low, high = levels
        ramp = np.linspace(low, high, KEY_STEPS)[:, None]  # (KEY_STEPS, 1): low at the bottom
        self.key_image.setColorMap(cmap)
        self.key_image.setImage(ramp, levels=levels, autoLevels=False)
        self.key_image.setRect(QRectF(0, low, 1, high - low))
        self.key_view.setRange(xRange=(0, 1), yRange=(low, high), padding=0)

    def _update_ticks(self, *_: object) -> None:
        """Name as many rows and columns as fit (every k-th), at the cells' centres.

        The axes are told only when their names change: every update telling them again cost
        as much as drawing the tab (a new temperature leaves the tokens as they were)."""
        rect = self.view.sceneBoundingRect()
        metrics = QFontMetricsF(self.left.font())
        row_step = label_step(len(self._rows), rect.height(), metrics.height())
        col_step = label_step(len(self._cols), rect.width(), metrics.height())
        names = [(i + 0.5, short(self._rows[i])) for i in range(0, len(self._rows), row_step)]
        below = [(j + 0.5, short(self._cols[j])) for j in range(0, len(self._cols), col_step)]
        if (names, below) == self._ticks_shown:
            return
        self._ticks_shown = (names, below)
        self.left.setTicks([names])
        # pyqtgraph drops a name wider than the axis: make it as wide as the widest name.
        widest = max((metrics.horizontalAdvance(t) for _, t in names), default=0.0)
        self.left.setWidth(int(widest + max(0, self.left.style["tickLength"]) + 8))
        self.bottom.set_labels(below)

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (row, column) of the cell at ``scene_pos``, None outside the matrix."""
        if not self._built or not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.view.mapSceneToView(scene_pos)
        i, j = math.floor(point.y()), math.floor(point.x())
        rows, cols = self._data.shape
        return (i, j) if 0 <= i < rows and 0 <= j < cols else None

    def describe(self, i: int, j: int) -> str:
        """What cell (i, j) holds, named as the screen names its row and column."""
        return (f"{self._symbol}[“{self._rows[i]}”, “{self._cols[j]}”] = "
                f"{format_number(self._data[i, j])}")

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        self.hovered.emit("" if cell is None else self.describe(*cell))


__all__ = ["CellNumbers", "KeyAxis", "MatrixHeatmap", "VerticalAxis", "label_step"]
