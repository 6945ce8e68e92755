"""The matrix view of one head: I → Q, K, V → A, A′ → O, tokens as columns.

Shows a `core.explain.matrices.MatrixViewData`; computes nothing itself. Each matrix is a small
grid of numbers while it fits (≤ 12×12) and a heatmap when it is larger (a sentence's words):
rows and columns named on its axes, numbers in the cells when they fit, the number under the
pointer below it and a colour key beside it (explorer.views.matrix_heatmap). The vector
perspective beside the grid shows the same score as one query vector dotted with one key vector.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from core.explain.matrices import MatrixViewData, NamedMatrix
from core.explain.steps import format_number, format_vector
from explorer.views.matrix_heatmap import MatrixHeatmap
from explorer.views.table_model import FittedGridView, GridModel, read_only_view

MAX_NUMBERS = 12
"""Matrices up to 12×12 show their numbers; larger ones are heatmaps."""

HOVER_HINT = "Point at a cell to read its number."
SYMBOLS = ("I", "Q", "K", "V", "A", "A′", "O", "I_q")
_GRID_POSITIONS = {"I": (0, 0), "Q": (0, 1), "K": (0, 2), "V": (0, 3),
                   "A": (1, 0), "A′": (1, 1), "O": (1, 2), "I_q": (1, 3)}
WEIGHT_MAP = pg.colormap.get("viridis")
SIGNED_MAP = pg.colormap.get("CET-D1")  # diverging: negative blue, zero grey, positive red


class MatrixGridModel(GridModel):
    """A matrix's numbers as texts, each cell's tooltip naming it with more digits (a squeezed
    column shows its numbers cut, with "…")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._matrix: NamedMatrix | None = None

    def set_matrix(self, m: NamedMatrix) -> None:
        rows, cols = m.array.shape
        self._matrix = m
        texts = [[format_number(m.array[i, j], 3) for j in range(cols)] for i in range(rows)]
        self.set_headers(m.col_labels, m.row_labels, col_tips=m.col_labels)
        self.set_grid(texts, cols=cols)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Vertical:
            return super().headerData(section, orientation)  # a cut row name, whole
        return super().headerData(section, orientation, role)

    def cell_tooltip(self, row: int, col: int) -> str | None:
        m = self._matrix
        if m is None or row >= len(m.row_labels) or col >= len(m.col_labels):
            return None
        return (f"{m.symbol}[“{m.row_labels[row]}”, “{m.col_labels[col]}”] = "
                f"{format_number(m.array[row, col])}")


_ROW_NAMES_MIN = 60  # px: the narrowest the row names are cut to


class SqueezedGridView(FittedGridView):
    """A number grid whose columns fit their texts while it is wide enough; in a narrower view
    they keep their numbers whole and share what is left, the headers cut with "…" (whole in
    their tooltips). Narrower still, the panel shows the matrix as a heatmap
    (:meth:`numbers_fit`).

    Columns wider than the view were cut at its edge, "-0.0774" reading "-0.07" (and a header
    "I eat salmo"), with the horizontal scroll bar below the dock's fold: a cut number looked
    like a real one.
    """

    def __init__(self, model: GridModel, parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setTextElideMode(Qt.TextElideMode.ElideRight)  # Qt's headers: none

    def number_widths(self) -> list[int]:
        """Each column's width for its numbers alone (its header may be cut)."""
        model, widths = self._grid, self._cells_delegate.widths()
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None,
                                          self) + 1
        extra = 2 * margin + (1 if self.showGrid() else 0) + 1
        least = self.horizontalHeader().minimumSectionSize()
        return [max(least, math.ceil(max((widths(model.cell_text(row, col))
                                          for row in range(model.rowCount())), default=0.0))
                    + extra) for col in range(model.columnCount())]

    def numbers_fit(self, width: int) -> bool:
        """Whether every number fits whole when the view is ``width`` pixels wide."""
        names = min(self.verticalHeader().sizeHint().width(), _row_names_width(width))
        return names + sum(self.number_widths()) + 2 * self.frameWidth() <= width

    def shown_widths(self, fitted: list[int]) -> list[int]:
        room = self.viewport().width()
        if sum(fitted) <= room or not fitted:
            return fitted
        shown = self.number_widths()  # the numbers whole; the headers share what is left
        left = room - sum(shown)
        wanting = [col for col in range(len(fitted)) if fitted[col] > shown[col]]
        for count, col in enumerate(sorted(wanting, key=lambda c: fitted[c] - shown[c])):
            if left <= 0:
                break
            more = min(fitted[col] - shown[col], left // (len(wanting) - count))
            shown[col] += more
            left -= more
        return shown

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)  # (the viewport's resizes come here too)
        # Row names (A's sentences) take at most 2/5 of the width, cut with "…" beyond it:
        # whole, they left the numbers' columns a few pixels each.
        names = self.verticalHeader()
        most = _row_names_width(self.width())
        if names.maximumWidth() != most:
            names.setMaximumWidth(most)
            self.updateGeometries()
        self.fit_columns()


def _row_names_width(width: int) -> int:
    """The most a number grid ``width`` wide gives its row names."""
    return max(_ROW_NAMES_MIN, width * 2 // 5)


class MatrixPanel(QWidget):
    """One matrix: a title with its shape over a number grid or a heatmap."""

    def __init__(self, symbol: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.symbol = symbol
        self.title = QLabel(symbol)
        self.title.setWordWrap(True)
        self.model = MatrixGridModel(self)
        self.table = cast(SqueezedGridView, read_only_view(self.model, SqueezedGridView))
        self.table.horizontalHeader().setMinimumSectionSize(20)
        self.table.verticalHeader().setMinimumSectionSize(16)
        self.table.verticalHeader().setDefaultSectionSize(18)
        small = self.table.font()
        small.setPointSizeF(max(6.0, small.pointSizeF() - 1.5))
        self.table.setFont(small)
        # No pyqtgraph menu: ours (export) shows instead, like the other views', and the start
        # does not build 8 menus of axis controls for a tab that may never be opened.
        self.plot = MatrixHeatmap()
        self.readout = QLabel(HOVER_HINT)  # the number under the pointer (heatmaps only)
        small = self.readout.font()
        small.setPointSizeF(max(6.0, small.pointSizeF() - 1.5))
        self.readout.setFont(small)
        self.plot.hovered.connect(self._on_cell_hovered)
        self._matrix: NamedMatrix | None = None
        self._small = True  # numbers when they fit (else always a heatmap)
        self._heatmap_shown = False  # a small matrix shown as a heatmap: it did not fit
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.readout)

    def set_matrix(self, m: NamedMatrix) -> None:
        """Show ``m`` as numbers when small, as a heatmap otherwise."""
        rows, cols = m.array.shape
        self.title.setText(f"<b>{html.escape(m.title)}</b><br><small>"
                           f"{html.escape(m.description)}</small>")
        self.title.setToolTip(m.description)
        self._small = rows <= MAX_NUMBERS and cols <= MAX_NUMBERS
        if self._small:
            self._show_numbers(m)
        if not self._small or self._heatmap_shown:
            self._show_heatmap(m)  # (a small one too, while its numbers do not fit)
        self._matrix = m
        self._choose_view()

    def _choose_view(self) -> None:
        """Numbers while they fit the panel's width whole (always before it is laid out), else
        the heatmap: its colours and the number under the pointer, not numbers cut short."""
        width = self.stack.width()
        numbers = self._small and (not self.isVisible() or self.table.numbers_fit(width))
        if not numbers and not self._heatmap_shown and self._matrix is not None:
            self._heatmap_shown = True
            self._show_heatmap(self._matrix)
        self._heatmap_shown = not numbers
        self.stack.setCurrentWidget(self.table if numbers else self.plot)
        self.readout.setVisible(not numbers)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._small:
            self._choose_view()

    @property
    def image(self) -> pg.ImageItem:
        """The heatmap's image (made with the first matrix shown as a heatmap)."""
        return self.plot.image

    def is_heatmap(self) -> bool:
        return self.stack.currentWidget() is self.plot

    def cell_text(self, row: int, col: int) -> str:
        """The text of a number-grid cell (tests, export)."""
        return self.model.data(self.model.index(row, col))

    def _show_numbers(self, m: NamedMatrix) -> None:
        self.model.set_matrix(m)

    def _show_heatmap(self, m: NamedMatrix) -> None:
        data = np.array(m.array, dtype=np.float64)  # a copy: ImageItem keeps the array it is given
        data[~np.isfinite(data)] = np.nan
        if m.symbol == "A′":
            levels, cmap = (0.0, 1.0), WEIGHT_MAP
        else:
            top = float(np.nanmax(np.abs(data))) if np.any(np.isfinite(data)) else 1.0
            levels, cmap = (-top or -1.0, top or 1.0), SIGNED_MAP
        self.plot.set_matrix(m.symbol, data, m.row_labels, m.col_labels, levels, cmap)
        self.plot.setToolTip(f"{m.title}; colour range {format_number(levels[0])} .. "
                             f"{format_number(levels[1])}")
        self.readout.setText(HOVER_HINT)

    def _on_cell_hovered(self, text: str) -> None:
        self.readout.setText(text or HOVER_HINT)


class MatrixView(QWidget):
    """The vector perspective (one q, one k, their score) beside the matrices of one head."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data: MatrixViewData | None = None
        self.vector_label = QLabel("No matrices yet.")
        self.vector_label.setTextFormat(Qt.TextFormat.RichText)
        self.vector_label.setWordWrap(True)
        self.vector_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.vector_label.setFixedWidth(170)
        self.panels = {symbol: MatrixPanel(symbol) for symbol in SYMBOLS}
        grid = QGridLayout()
        grid.setSpacing(4)
        for symbol, (r, c) in _GRID_POSITIONS.items():
            grid.addWidget(self.panels[symbol], r, c)
        layout = QHBoxLayout(self)
        layout.addWidget(self.vector_label)
        layout.addLayout(grid, 1)

    def set_matrices(self, data: MatrixViewData) -> None:
        """Show the matrices and the vector perspective of ``data``."""
        self._data = data
        present = {m.symbol for m in data.matrices}
        for m in data.matrices:
            self.panels[m.symbol].set_matrix(m)
        for symbol, panel in self.panels.items():
            panel.setVisible(symbol in present)
        self.vector_label.setText(self._vector_text(data))

    @contextmanager
    def for_figure(self) -> Iterator[QWidget]:
        """This view without its pointer readouts (they only help on screen), for a figure."""
        shown = [panel.readout for panel in self.panels.values() if not panel.readout.isHidden()]
        for label in shown:
            label.hide()
        try:
            yield self
        finally:
            for label in shown:
                label.show()

    def title(self, symbol: str) -> str:
        """The plain title of a matrix panel, e.g. ``Q: d_k×n = 3×3``."""
        if self._data is None:
            return ""
        return self._data.by_symbol(symbol).title

    @staticmethod
    def _vector_text(d: MatrixViewData) -> str:
        a = d.by_symbol("A")
        query, key = a.col_labels[d.query_row], a.row_labels[d.key_index]
        esc = html.escape
        return (
            f"<b>Vector view</b> (head {d.head + 1})<br><br>"
            f"query “{esc(query)}”:<br>q = {esc(format_vector(d.query_vector, 6, 3))}<br><br>"
            f"key “{esc(key)}”:<br>k = {esc(format_vector(d.key_vector, 6, 3))}<br><br>"
            f"score = {format_number(d.score)}<br>= A[“{esc(key)}”, “{esc(query)}”]<br>"
            f"weight = {format_number(d.weight)}<br>= A′[“{esc(key)}”, “{esc(query)}”]<br><br>"
            "<b>Matrix view</b>: every column of Q against every column of K at once: "
            "A = Kᵀ Q, A′ = normalised columns of A, O = V A′."
        )
