"""Attention across layers: one map of attention rollout or attention flow (Abnar & Zuidema 2020).

A title line says what the map is, one caveat line under it says what it is not
(:data:`core.maths.rollout.CAVEAT`), and a note line under the map says how it was computed (or
why flow fell back to rollout). The map is an (r, n) matrix in [0, 1]: rows are tokens after the
layers (all n, or the query alone), columns the input tokens, drawn by the heatmaps' own
:class:`~explorer.views.heatmaps_view.Heatmap` (row-major, levels fixed to 0..1, the app's colour
map and one colour bar) with the query row outlined. Under it a strip of bars repeats the query
row's values, one bar under each column, in the same colours, with the token names below.

Everything is built once and updated in place; many token names are thinned evenly, but the
query row is always named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.maths.rollout import CAVEAT
from explorer.views.arrays import frozen
from explorer.views.heatmap_layout import GAP, VerticalLabelAxis, label_step, short_label
from explorer.views.heatmaps_view import Heatmap
from explorer.views.palette import BACKGROUND, WEIGHT_COLORMAP, style_plot, weight_colour

__all__ = ["HOVER_HINT", "AcrossLayersView", "label_indices"]

HOVER_HINT = "Point at a cell to read it."
NOTHING = "Nothing to show."
_TICK_POINT_SIZES = (9.0, 8.0, 7.0)  # tick fonts tried, largest first, so every label fits
_STRIP_H = 56  # pixels of the query row's bars
_BAR_W = 50.0  # the colour bar with its numbers
_MIN_SCALE_H = 100  # pixels: a shorter map's colour bar reaches down beside the bars
_PAD = 4
_STALE_STYLE = ("background: rgba(238, 238, 238, 200); color: #202020; font-size: 15pt;"
                " font-weight: bold;")
_MESSAGE_STYLE = "color: #404040; font-size: 11pt;"


def label_indices(count: int, step: int, keep: int | None = None) -> list[int]:
    """The labels to show of ``count``: every ``step``-th, evenly, and always ``keep`` (the
    query), dropping the regular ones closer to it than ``step``."""
    picked = list(range(0, count, max(step, 1)))
    if keep is None or not 0 <= keep < count or step <= 1:
        return picked
    return sorted([i for i in picked if abs(i - keep) >= step] + [keep])


class AcrossLayersView(QWidget):
    """Attention rollout or flow as one map with the query row's bars under it.

    Signals
    -------
    cell_clicked(int, int)
        (row, col) of a clicked map cell; a clicked bar is (query row, its column).
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        bold = QFont(self.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.caveat = QLabel(CAVEAT)
        self.caveat.setWordWrap(True)
        self.caveat.setStyleSheet("color: #555555; font-style: italic;")
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.readout = QLabel(HOVER_HINT)
        for label in (self.title, self.caveat, self.note, self.readout):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for widget, stretch in ((self.title, 0), (self.caveat, 0), (self.canvas, 1),
                                (self.note, 0), (self.readout, 0)):
            layout.addWidget(widget, stretch)
        self._build_canvas()
        self.message = self._canvas_label(_MESSAGE_STYLE)  # instead of the map, when there is none
        self.overlay = self._canvas_label(_STALE_STYLE)  # over the map when it is not current
        self._matrix = frozen(np.zeros((0, 0), np.float32))
        self._rows: list[str] = []
        self._cols: list[str] = []
        self._query_row: int | None = None
        self._tick_font = QFont(self.font())
        self._side = 0.0  # pixels per cell
        self._ticks: tuple[list[tuple[float, str]], list[tuple[float, str]]] = ([], [])
        self.canvas.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.installEventFilter(self)  # a resized canvas is laid out again
        self.set_data(None, [], [], None, "", "")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(640, 560)

    def _build_canvas(self) -> None:
        """The map with its colour bar, and the strip of bars under the map."""
        self.map = Heatmap(small=False)
        self.map.plot.hideAxis("bottom")  # the column names go under the bars
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=WEIGHT_COLORMAP, width=14,
                                        interactive=False, pen="k", colorMapMenu=False)
        style_plot(self.colorbar)
        self.strip = pg.PlotItem(axisItems={"bottom": VerticalLabelAxis()}, enableMenu=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, pen=None)
        self.strip.addItem(self.bars)
        self.strip.setMouseEnabled(False, False)
        self.strip.hideButtons()
        self.strip.setDefaultPadding(0.0)
        style_plot(self.strip)
        layout = self.canvas.ci.layout
        layout.setSpacing(GAP)
        self.canvas.ci.addItem(self.map.plot, 0, 0)
        self.canvas.ci.addItem(self.colorbar, 0, 1, 2, 1)  # beside the map and the strip
        self.canvas.ci.addItem(self.strip, 1, 0)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        for item in (self.map.plot, self.colorbar, self.strip):
            layout.setAlignment(item, align)

    def _canvas_label(self, style: str) -> QLabel:
        label = QLabel(self.canvas)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setStyleSheet(style)
        # Clicks and hover reach the map through it.
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        label.hide()
        return label

    # ----------------------------------------------------------------- public interface

    def set_data(self, matrix: np.ndarray | None, row_labels: Sequence[str],
                 col_labels: Sequence[str], query_row: int | None, title: str,
                 note: str = "") -> None:
        """Show ``matrix`` (r, n) in [0, 1]: row i of token ``row_labels[i]`` after the layers,
        column j of input token ``col_labels[j]``; ``query_row`` is outlined and its values
        drawn as bars (None: neither). ``matrix`` None clears the map and shows ``note`` in
        its place."""
        self.title.setText(title)
        self.title.setVisible(bool(title))
        if matrix is None:
            self._show_nothing(note)
            return
        matrix = frozen(matrix, np.float32)  # ImageItem keeps the array: one nobody changes
        if matrix.ndim != 2:
            raise ValueError(f"matrix must be (rows, columns), not {matrix.shape}")
        if matrix.size == 0:  # no tokens: nothing to draw
            self._show_nothing(note)
            return
        r, n = matrix.shape
        rows = _labels(row_labels, r)
        cols = _labels(col_labels, n)
        query = None if query_row is None or not 0 <= query_row < r else int(query_row)
        relayout = (rows, cols) != (self._rows, self._cols) or not self.map.plot.isVisible()
        ticks = relayout or query != self._query_row
        self._matrix, self._rows, self._cols, self._query_row = matrix, rows, cols, query
        self.message.hide()
        for item in (self.map.plot, self.colorbar, self.strip):
            item.show()
        self.map.set_weights(matrix, -1 if query is None else query, None)
        self.strip.setXRange(0, n, padding=0.0)
        self._show_bars()
        self.note.setText(note)
        self.note.setVisible(bool(note))
        if relayout:
            self._relayout()
        elif ticks:
            self._update_ticks()
        self.readout.setText(HOVER_HINT)

    def set_stale(self, message: str | None) -> None:
        """Grey the map under ``message`` ("updating…"); None: current again."""
        if message is None:
            self.overlay.hide()
            return
        self.overlay.setText(message)
        self.overlay.setGeometry(self.canvas.rect())
        self.overlay.show()
        self.overlay.raise_()

    # ----------------------------------------------------------------- for tests and exports

    @property
    def image(self) -> pg.ImageItem:
        """The map's image item."""
        return self.map.image

    def tick_labels(self) -> tuple[list[str], list[str]]:
        """The (row, column) names shown, after thinning."""
        return [t for _, t in self._ticks[0]], [t for _, t in self._ticks[1]]

    def bar_heights(self) -> np.ndarray:
        """The heights of the query row's bars (empty without a query row)."""
        return np.asarray(self.bars.opts["height"], dtype=float)

    def message_text(self) -> str | None:
        """The message shown instead of the map, or None when the map is shown."""
        return self.message.text() if not self.message.isHidden() else None

    def stale_message(self) -> str | None:
        """The overlay's message, or None when it is hidden."""
        return self.overlay.text() if not self.overlay.isHidden() else None

    def cell_scene_pos(self, row: int, col: int) -> QPointF:
        """The scene position of the centre of map cell (row, col)."""
        return self.map.image.mapToScene(QPointF(col + 0.5, row + 0.5))

    # ----------------------------------------------------------------- updating

    def _show_nothing(self, note: str) -> None:
        self._matrix = frozen(np.zeros((0, 0), np.float32))
        self._rows, self._cols, self._query_row = [], [], None
        for item in (self.map.plot, self.colorbar, self.strip):
            item.hide()
        self.bars.setOpts(x=[], height=[], brushes=[])
        self._ticks = ([], [])
        self.message.setText(note or NOTHING)
        self.message.setGeometry(self.canvas.rect())
        self.message.show()
        self.note.hide()
        self.readout.setText("")

    def _show_bars(self) -> None:
        """The query row as bars, one under each column, coloured like its cells."""
        if self._query_row is None:
            self.bars.setOpts(x=[], height=[], brushes=[])
            self.strip.getAxis("left").setTicks([[]])
            return
        values = self._matrix[self._query_row]  # (n,)
        top = float(values.max()) if values.size else 0.0
        self.bars.setOpts(x=np.arange(values.size) + 0.5, height=values, width=0.8,
                          brushes=[weight_colour(v) for v in values.tolist()])
        self.strip.setYRange(0, top if top > 0 else 1.0, padding=0.0)
        self.strip.getAxis("left").setTicks([[(0.0, "0"), (top, f"{top:.2f}")]])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            for label in (self.message, self.overlay):
                label.setGeometry(self.canvas.rect())
            self._relayout()
        return super().eventFilter(watched, event)

    def _relayout(self) -> None:
        """Square cells as large as the canvas allows, with the largest tick font that names
        every token (the smallest, with names thinned, when none does)."""
        r, n = self._matrix.shape
        if r == 0 or n == 0:
            return
        for points in _TICK_POINT_SIZES:
            font = QFont(self.font())
            font.setPointSizeF(points)
            left, bottom = self._axes_size(font)
            free_w = self.canvas.width() - 2 * _PAD - left - GAP - _BAR_W
            free_h = self.canvas.height() - 2 * _PAD - GAP - _STRIP_H - bottom
            side = max(min(free_w / n, free_h / r), 1.0)
            label_px = QFontMetricsF(font).height() + 1
            if max(label_step(r, r * side, label_px), label_step(n, n * side, label_px)) == 1:
                break
        self._tick_font, self._side = font, side
        self._apply_sizes(left, bottom, n * side, r * side)
        self._update_ticks()

    def _axes_size(self, font: QFont) -> tuple[float, float]:
        """The left axis's width (row names) and the bottom axis's height (column names)."""
        metrics = QFontMetricsF(font)
        rows = max((metrics.horizontalAdvance(short_label(t)) for t in self._rows), default=0.0)
        cols = max((metrics.horizontalAdvance(short_label(t)) for t in self._cols), default=0.0)
        numbers = metrics.horizontalAdvance("0.00")  # the bars' scale shares the left column
        return math.ceil(max(rows, numbers)) + 12, math.ceil(cols) + 12

    def _apply_sizes(self, left: float, bottom: float, width: float, height: float) -> None:
        """The map (``width`` x ``height`` pixels of cells) and the strip under it, centred."""
        for plot, size, axis_h in ((self.map.plot, QSizeF(left + width, height), 0),
                                   (self.strip, QSizeF(left + width, _STRIP_H + bottom), bottom)):
            plot.setMinimumSize(size)
            plot.setMaximumSize(size)
            plot.getAxis("left").setWidth(int(left))
            if axis_h:
                plot.getAxis("bottom").setHeight(int(axis_h))
        # The colour bar is the map's scale: level with it, or (a map too short to read a
        # scale beside it, such as one row of flow) down to the bars' foot.
        bar_h = height + GAP + _STRIP_H
        self.colorbar.setMinimumHeight(bar_h)
        self.colorbar.setMaximumHeight(bar_h)
        below = GAP + _STRIP_H if height >= _MIN_SCALE_H else 0
        self.colorbar.layout.setContentsMargins(1, 1, 1, below + 1)
        used_w = left + width + GAP + _BAR_W
        used_h = height + GAP + _STRIP_H + bottom
        spare_w = max(self.canvas.width() - 2 * _PAD - used_w, 0) / 2
        spare_h = max(self.canvas.height() - 2 * _PAD - used_h, 0) / 2
        self.canvas.ci.setContentsMargins(_PAD + spare_w, _PAD + spare_h, _PAD, _PAD)

    def _update_ticks(self) -> None:
        """Token names on the map's rows and under the bars; the query row always named."""
        metrics = QFontMetricsF(self._tick_font)
        label_px = metrics.height() + 1
        r, n = self._matrix.shape
        for axis in (self.map.plot.getAxis("left"), self.strip.getAxis("bottom"),
                     self.strip.getAxis("left")):
            axis.setStyle(tickFont=self._tick_font)
        # A square map's columns are the same tokens: the query's column is named too.
        keep_col = self._query_row if r == n else None
        rows = label_indices(r, label_step(r, r * self._side, label_px), self._query_row)
        cols = label_indices(n, label_step(n, n * self._side, label_px), keep_col)
        self._ticks = ([(i + 0.5, short_label(self._rows[i])) for i in rows],
                       [(j + 0.5, short_label(self._cols[j])) for j in cols])
        self.map.plot.getAxis("left").setTicks([self._ticks[0]])
        self.strip.getAxis("bottom").set_labels(self._ticks[1])

    # ----------------------------------------------------------------- mouse

    def _hit(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (row, col) under a scene position: a map cell, or a bar (the query row)."""
        if self._matrix.size == 0:
            return None
        cell = self.map.cell_at(scene_pos)
        if cell is not None:
            return cell
        if self._query_row is None or not self.strip.vb.sceneBoundingRect().contains(scene_pos):
            return None
        col = math.floor(self.strip.vb.mapSceneToView(scene_pos).x())
        return (self._query_row, col) if 0 <= col < self._matrix.shape[1] else None

    def _on_scene_clicked(self, event) -> None:  # noqa: ANN001 (pyqtgraph MouseClickEvent)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._hit(event.scenePos())
        if hit is not None:
            self.cell_clicked.emit(*hit)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        hit = self._hit(scene_pos)
        if hit is None:
            self.readout.setText(HOVER_HINT if self._matrix.size else "")
            return
        row, col = hit
        self.readout.setText(f"{self._rows[row]} after these layers, from {self._cols[col]}: "
                             f"{float(self._matrix[row, col]):.4f}")


def _labels(labels: Sequence[str], count: int) -> list[str]:
    """``count`` names: the given ones, cut or filled with "#i"."""
    names = [str(t) for t in labels][:count]
    return names + [f"#{i}" for i in range(len(names), count)]
