"""Per-head attention heatmaps: the focused head large, every head and the mean small beside it.

Rows are queries, columns are keys, the colour scale is fixed to 0..1 with one colour bar (so two
heads can be compared by colour), token names are axis ticks, and the query row is outlined.
Plots are built once and re-used; more are built only when a larger head count first arrives, and
spare ones are hidden rather than removed (PITFALLS 7).
"""

from __future__ import annotations

import math

import PySide6  # noqa: F401  (PITFALLS 3: PySide6 before pyqtgraph)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import (
    QGraphicsGridLayout,
    QGraphicsRectItem,
    QGraphicsWidget,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from explorer.views.palette import BACKGROUND, WEIGHT_COLORMAP, head_colour, style_plot

MEAN_TITLE = "mean of heads"
SMALL_MEAN_TITLE = "mean"
HOVER_HINT = "Point at a cell to read its weight; click a small map to focus it."
_MAX_LABEL_CHARS = 14  # longer token names are cut on the axes (the hover text has them whole)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_LABEL_CHARS else text[: _MAX_LABEL_CHARS - 1] + "…"


class VerticalLabelAxis(pg.AxisItem):
    """A bottom axis whose tick labels are drawn vertically, so one fits under each column."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self._labels: list[tuple[float, str]] = []

    def set_labels(self, ticks: list[tuple[float, str]]) -> None:
        """Tick marks at the values of ``ticks`` with their texts drawn vertically below them."""
        self._labels = list(ticks)
        metrics = QFontMetricsF(self.style["tickFont"] or self.font())
        widest = max((metrics.horizontalAdvance(t) for _, t in ticks), default=0.0)
        self.setHeight(int(widest) + 12)  # tall enough for the longest label
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


class Heatmap:
    """One PlotItem with an ImageItem, a query-row outline and an inspected-cell outline."""

    def __init__(self, small: bool) -> None:
        axes = {} if small else {"bottom": VerticalLabelAxis()}
        self.plot = pg.PlotItem(axisItems=axes)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(WEIGHT_COLORMAP)
        self.row_box = QGraphicsRectItem()
        self.row_box.setPen(pg.mkPen("#d62728", width=2))
        self.cell_box = QGraphicsRectItem()
        self.cell_box.setPen(pg.mkPen("w", width=2, style=Qt.PenStyle.DashLine))
        for item in (self.image, self.row_box, self.cell_box):
            self.plot.addItem(item)
        self.plot.invertY(True)  # row 0 at the top, like a matrix
        self.plot.setMouseEnabled(False, False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setDefaultPadding(0.0)
        style_plot(self.plot)
        if small:
            self.plot.hideAxis("left")
            self.plot.hideAxis("bottom")
        self.shape = (0, 0)

    def set_weights(self, weights: np.ndarray, query_row: int, inspected_col: int | None) -> None:
        """Show a (r, n) weight matrix; outline the query row and the inspected cell."""
        self.image.setImage(weights, autoLevels=False, levels=(0.0, 1.0))
        r, n = weights.shape
        if (r, n) != self.shape:
            self.shape = (r, n)
            self.plot.setRange(xRange=(0, n), yRange=(0, r), padding=0.0)
        self.row_box.setVisible(0 <= query_row < r)
        self.row_box.setRect(QRectF(0.0, query_row, n, 1.0))
        show_cell = inspected_col is not None and 0 <= inspected_col < n and 0 <= query_row < r
        self.cell_box.setVisible(show_cell)
        if show_cell and inspected_col is not None:
            self.cell_box.setRect(QRectF(inspected_col, query_row, 1.0, 1.0))

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (row, col) under a scene position, or None when it is outside this heatmap."""
        if not self.plot.isVisible() or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.image.mapFromScene(scene_pos)
        row, col = math.floor(point.y()), math.floor(point.x())
        if 0 <= row < self.shape[0] and 0 <= col < self.shape[1]:
            return row, col
        return None


class HeatmapGrid(QWidget):
    """Heatmaps of every head and of their mean, with one focused (large) heatmap.

    Signals
    -------
    cell_clicked(int, int)
        (row, col) of a clicked cell, in any heatmap.
    head_selected(object)
        The head (int) or None (the mean) whose small heatmap was clicked.
    """

    cell_clicked = Signal(int, int)
    head_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        self.canvas.setAntialiasing(True)
        self.hover_label = QLabel(HOVER_HINT)
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hover_label)

        self.focused = Heatmap(small=False)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=WEIGHT_COLORMAP, width=14,
                                        interactive=False, pen="k", colorMapMenu=False)
        style_plot(self.colorbar)
        self._small_box = QGraphicsWidget()
        self._small_grid = QGraphicsGridLayout()
        self._small_grid.setSpacing(2)
        self._small_box.setLayout(self._small_grid)
        self.canvas.ci.addItem(self.focused.plot, 0, 0)
        self.canvas.ci.addItem(self.colorbar, 0, 1)
        self.canvas.ci.addItem(self._small_box, 0, 2)
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(2, 2)
        self._small: list[Heatmap] = []  # index 0 is the mean, index i + 1 is head i
        self._shown_small = 0  # how many small heatmaps are laid out now

        self._rows: list[str] = []
        self._cols: list[str] = []
        self._weights = np.zeros((0, 0, 0))
        self._mean = np.zeros((0, 0))
        self._query_row = 0
        self._inspected_col: int | None = None
        self._requested_head: int | None = None  # as set; may not exist in the data yet
        self._titled_head: int | None = None  # the focus the titles show (titles cost a relayout)
        self._ticks: tuple[list[tuple[float, str]], list[tuple[float, str]]] = ([], [])
        self.canvas.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.focused.plot.vb.sigResized.connect(self._on_size_changed)

    # ----------------------------------------------------------------- public interface

    @property
    def _selected_head(self) -> int | None:
        """The head shown, or None (all heads / the mean) when the requested one does not exist."""
        head, heads = self._requested_head, self._weights.shape[0]
        return head if head is not None and 0 <= head < heads else None

    def set_data(self, row_labels: list[str], col_labels: list[str], weights: np.ndarray,
                 query_row: int, inspected_col: int | None = None) -> None:
        """Show ``weights`` (h, r, n) for every head, their mean, and the focused head large."""
        weights = np.array(weights, dtype=np.float32, ndmin=3)  # a copy nobody mutates later
        heads = weights.shape[0]
        self._weights = weights
        self._mean = weights.mean(axis=0) if heads else np.zeros(weights.shape[1:], np.float32)
        self._query_row, self._inspected_col = query_row, inspected_col
        if heads + 1 != self._shown_small:
            self._arrange_small(heads + 1)
        elif self._selected_head != self._titled_head:  # it may have come into range
            self._update_titles()
        if (list(row_labels), list(col_labels)) != (self._rows, self._cols):
            self._rows, self._cols = list(row_labels), list(col_labels)
            self._update_ticks()
        self._refresh_images()

    def set_selected_head(self, head: int | None) -> None:
        """Focus one head (large heatmap) or, with None, the mean of the heads."""
        self._requested_head = head
        self._update_titles()
        self._refresh_images()

    def image_for(self, head: int | None) -> pg.ImageItem:
        """The small ImageItem of ``head`` (None: the mean); for tests and exporters."""
        return self._small[0 if head is None else head + 1].image

    def small_heatmap(self, head: int | None) -> Heatmap:
        """The small heatmap of ``head`` (None: the mean)."""
        return self._small[0 if head is None else head + 1]

    def tick_labels(self) -> tuple[list[str], list[str]]:
        """The (row, column) tick labels of the focused heatmap, as set by the last tick update."""
        return [t for _, t in self._ticks[0]], [t for _, t in self._ticks[1]]

    # ----------------------------------------------------------------- updating

    def _refresh_images(self) -> None:
        """Hand the current weights to every visible heatmap (images only, no new items)."""
        if self._weights.shape[1] == 0 or self._weights.shape[2] == 0:
            return
        args = (self._query_row, self._inspected_col)
        self._small[0].set_weights(self._mean, *args)
        for head in range(self._weights.shape[0]):
            self._small[head + 1].set_weights(self._weights[head], *args)
        focus = self._mean if self._selected_head is None else self._weights[self._selected_head]
        self.focused.set_weights(focus, *args)

    def _arrange_small(self, count: int) -> None:
        """Lay out ``count`` small heatmaps in a near-square grid; build only missing ones."""
        while len(self._small) < count:
            self._small.append(Heatmap(small=True))
        while self._small_grid.count():  # takes items out of the layout, they stay in the scene
            self._small_grid.removeAt(self._small_grid.count() - 1)
        columns = math.ceil(math.sqrt(count))
        for column in range(columns):  # equal widths, whatever the title lengths
            self._small_grid.setColumnStretchFactor(column, 1)
            self._small_grid.setColumnPreferredWidth(column, 10)
        for i, heatmap in enumerate(self._small):
            if i < count:
                self._small_grid.addItem(heatmap.plot, i // columns, i % columns)
            heatmap.plot.setVisible(i < count)
        self._shown_small = count
        self._update_titles()

    def _update_titles(self) -> None:
        """Titles in head colours; the focused one in bold."""
        self._titled_head = self._selected_head
        for i, heatmap in enumerate(self._small[: self._shown_small]):
            head = None if i == 0 else i - 1
            text = SMALL_MEAN_TITLE if head is None else f"head {i}"
            colour = "k" if head is None else head_colour(head)
            heatmap.plot.setTitle(text, color=colour, size="8pt", bold=head == self._selected_head)
        title = MEAN_TITLE if self._selected_head is None else f"head {self._selected_head + 1}"
        self.focused.plot.setTitle(title, color="k", size="10pt", bold=True)

    def _update_ticks(self) -> None:
        """Token names as ticks on the focused heatmap, every k-th one when they would overlap."""
        vb = self.focused.plot.vb
        metrics = QFontMetricsF(self.focused.plot.getAxis("bottom").style.get("tickFont")
                                or self.font())
        # Both axes now stack labels by their height (the bottom one is drawn vertically).
        col_step = _label_step(len(self._cols), vb.width(), metrics.height() + 1)
        row_step = _label_step(len(self._rows), vb.height(), metrics.height() + 1)
        self._ticks = (
            [(i + 0.5, _short(t)) for i, t in enumerate(self._rows) if i % row_step == 0],
            [(i + 0.5, _short(t)) for i, t in enumerate(self._cols) if i % col_step == 0],
        )
        self.focused.plot.getAxis("left").setTicks([self._ticks[0]])
        self.focused.plot.getAxis("bottom").set_labels(self._ticks[1])

    # ----------------------------------------------------------------- mouse

    def _hit(self, scene_pos: QPointF) -> tuple[int | None, int, int, bool] | None:
        """(head or None for the mean, row, col, small?) under a scene position."""
        cell = self.focused.cell_at(scene_pos)
        if cell is not None:
            return (self._selected_head, *cell, False)
        for i, heatmap in enumerate(self._small[: self._shown_small]):
            cell = heatmap.cell_at(scene_pos)
            if cell is not None:
                return (None if i == 0 else i - 1, *cell, True)
        return None

    def _on_scene_clicked(self, event) -> None:  # noqa: ANN001 (pyqtgraph MouseClickEvent)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._hit(event.scenePos())
        if hit is None:
            return
        head, row, col, small = hit
        if small:
            self.head_selected.emit(head)
        self.cell_clicked.emit(row, col)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        hit = self._hit(scene_pos)
        if hit is None:
            self.hover_label.setText(HOVER_HINT)
            return
        head, row, col, _ = hit
        matrix = self._mean if head is None else self._weights[head]
        name = MEAN_TITLE if head is None else f"head {head + 1}"
        self.hover_label.setText(
            f"{name}: {self._rows[row]} → {self._cols[col]}  {float(matrix[row, col]):.4f}")

    def _on_size_changed(self) -> None:
        self._update_ticks()


def _label_step(count: int, pixels: float, label_px: float) -> int:
    """Show every k-th of ``count`` labels so labels of ``label_px`` fit in ``pixels``."""
    if count == 0 or pixels <= 0:
        return 1
    return max(1, math.ceil(label_px / (pixels / count)))
