"""One heatmap plot: a PlotItem holding a HeatmapImage, the query-row outline and the
inspected-cell outline (the focused map, each small map, the across-layers map)."""

from __future__ import annotations

import math

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsRectItem

from explorer.views.axis_cache import cache_axes
from explorer.views.heatmap_image import HeatmapImage
from explorer.views.heatmap_layout import VerticalLabelAxis
from explorer.views.palette import WEIGHT_COLORMAP, style_plot

__all__ = ["Heatmap"]


class Heatmap:
    """One PlotItem with an ImageItem, a query-row outline and an inspected-cell outline."""

    def __init__(self, small: bool) -> None:
        axes = {} if small else {"bottom": VerticalLabelAxis()}
        # No pyqtgraph menu (ours offers export), and none to build for every heatmap.
        self.plot = pg.PlotItem(axisItems=axes, enableMenu=False)
        self.image = HeatmapImage(axisOrder="row-major")
        self.image.setColorMap(WEIGHT_COLORMAP)
        self.row_box = QGraphicsRectItem()
        self.row_box.setPen(pg.mkPen("#d62728", width=2))
        self.cell_box = QGraphicsRectItem()
        self.cell_box.setPen(pg.mkPen("w", width=2, style=Qt.PenStyle.DashLine))
        for item in (self.image, self.row_box, self.cell_box):
            self.plot.addItem(item)
        self.plot.invertY(True)  # row 0 at the top, like a matrix
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setDefaultPadding(0.0)
        style_plot(self.plot)
        if small:
            self.plot.hideAxis("left")
            self.plot.hideAxis("bottom")
        else:  # each new weight image beside the axes would redraw them
            cache_axes(self.plot)
        self.shape = (0, 0)
        self._title: tuple[object, ...] | None = None  # set_title's last arguments

    def set_title(self, text: str, colour: str | QColor, size: str, bold: bool,
                  height: int) -> None:
        """A title in a row of ``height`` pixels (pyqtgraph's own row is 30 pixels tall).

        The same title again changes nothing: each focus change retitles every small map, and
        pyqtgraph rebuilds a title's HTML text item each time (13 of them: ~1.5 ms)."""
        title = (text, QColor(colour) if isinstance(colour, QColor) else colour, size, bold,
                 height)
        if title == self._title:
            return
        self._title = title
        self.plot.setTitle(text, color=colour, size=size, bold=bold)
        self.plot.titleLabel.setMaximumHeight(height)
        self.plot.layout.setRowFixedHeight(0, height)

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
