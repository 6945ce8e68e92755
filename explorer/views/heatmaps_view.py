"""Per-head attention heatmaps: the focused head large, every head and the mean small beside it.

Rows are queries, columns are keys, the colour scale is fixed to 0..1 with one colour bar (so two
heads can be compared by colour), token names are axis ticks, and the query row is outlined.
Plots are built once and re-used; more are built only when a larger head count first arrives, and
spare ones are hidden rather than removed (pyqtgraph leaves removed items in the scene, and its
PlotItems leak on PySide6).

Where the maps go is planned by :func:`explorer.views.heatmap_layout.plan_layout`; the layout is
recomputed only when the canvas, the labels or the head count change, never on a weight update.
"""

from __future__ import annotations

import math

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QSizeF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import (
    QGraphicsGridLayout,
    QGraphicsWidget,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from explorer.views.arrays import frozen
from explorer.views.elided_label import ElidedLabel
from explorer.views.heatmap_layout import (
    GAP,
    MAX_LABEL_CHARS,
    SMALL_GAP,
    SMALL_MIN,
    SMALL_TITLE_H,
    Plan,
    axis_ticks,
    label_step,
    plan_page,
    widest_label,
)
from explorer.views.heatmap_pages import PageBar, page_heads
from explorer.views.heatmap_plot import Heatmap
from explorer.views.palette import BACKGROUND, WEIGHT_COLORMAP, head_colour, style_plot

__all__ = ["Heatmap", "HeatmapGrid"]

MEAN_TITLE = "mean of heads"
SMALL_MEAN_TITLE = "mean"
HOVER_HINT = "Point at a cell to read its weight; click a small map to focus it."
_FOCUS_TITLE_H = 26
_SMALL_TITLE_POINTS = 8.0
_TITLE_PADDING = 6  # pyqtgraph's title label around its text, in pixels
_TICK_POINT_SIZES = (9.0, 8.0, 7.0)  # tick fonts tried, largest first, so every label fits


class HeatmapGrid(QWidget):
    """Heatmaps of every head and of their mean, with one focused (large) heatmap.

    Signals
    -------
    cell_clicked(int, int)
        (row, col) of a clicked cell of the focused heatmap: the person picks a query and a key.
    head_selected(object)
        The head (int) or None (the mean) whose small heatmap was clicked: a small map is too
        small to aim at a cell, so a click on it only focuses its head.
    """

    cell_clicked = Signal(int, int)
    head_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        self.canvas.setAntialiasing(True)
        # Its text must not widen the view (with the page bar it took the latent map's room);
        # in a narrow window it ends in "…" instead of being cut mid-word.
        self.hover_label = ElidedLabel(HOVER_HINT)
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pages = PageBar()
        below = QHBoxLayout()
        below.addWidget(self.hover_label, 1)
        below.addWidget(self.pages)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(below)
        self._build_canvas()
        self._plan: Plan | None = None  # the arrangement now shown
        self._axes = (0.0, 0.0)  # the room beside and under the focused map it was made for
        self._tick_font = QFont(self.font())
        self._small: list[Heatmap] = []  # index 0 is the mean, index i + 1 is head i
        self._heads = 0  # the head count the layout is made for
        self._per_page = 1  # heads on one page of small maps (the mean is on every page)
        self._page = 0
        self._pointer: QPointF | None = None  # where the pointer is on the maps, if it is
        self._slots: list[int] = []  # indices into _small of the small maps laid out now
        self._rows: list[str] = []
        self._cols: list[str] = []
        self._weights = np.zeros((0, 0, 0))
        self._mean = np.zeros((0, 0))
        self._query_row = 0
        self._inspected_col: int | None = None
        self._requested_head: int | None = None  # as set; may not exist in the data yet
        self._titled_head: int | None = None  # the focus the titles show (titles cost a relayout)
        self._ticks: tuple[list[tuple[float, str]], list[tuple[float, str]]] = ([], [])
        self._ticked: tuple[int, int | None] | None = None  # (query row, column) of the ticks
        self._label_chars = (MAX_LABEL_CHARS, MAX_LABEL_CHARS)  # (rows, columns)
        self.canvas.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.installEventFilter(self)  # a resized canvas is laid out again
        self.pages.page_requested.connect(self._show_page)

    def _build_canvas(self) -> None:
        """The focused map, the colour bar and a box for the small maps, side by side."""
        self.focused = Heatmap(small=False)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=WEIGHT_COLORMAP, width=14,
                                        interactive=False, pen="k", colorMapMenu=False)
        style_plot(self.colorbar)
        self._small_box = QGraphicsWidget()
        self._small_grid = QGraphicsGridLayout()
        self._small_grid.setSpacing(SMALL_GAP)
        self._small_grid.setContentsMargins(0, 0, 0, 0)
        self._small_box.setLayout(self._small_grid)
        self.canvas.ci.setContentsMargins(4, 4, 4, 4)
        self.canvas.ci.layout.setSpacing(GAP)
        self.canvas.ci.addItem(self.focused.plot, 0, 0)
        self.canvas.ci.addItem(self.colorbar, 0, 1)
        self.canvas.ci.addItem(self._small_box, 0, 2)

    # ----------------------------------------------------------------- public interface

    @property
    def _selected_head(self) -> int | None:
        """The head shown, or None (all heads / the mean) when the requested one does not exist."""
        head, heads = self._requested_head, self._weights.shape[0]
        return head if head is not None and 0 <= head < heads else None

    def set_data(self, row_labels: list[str], col_labels: list[str], weights: np.ndarray,
                 query_row: int, inspected_col: int | None = None, *,
                 mean: np.ndarray | None = None) -> None:
        """Show ``weights`` (h, r, n) for every head, their mean, and the focused head large;
        ``mean`` is their (r, n) mean when the caller has it (an analysis computes it once)."""
        weights = frozen(weights, np.float32, ndmin=3)  # an array nobody changes later
        heads = weights.shape[0]
        self._weights = weights
        if mean is None:  # averaged here, for a caller without an analysis
            mean = weights.mean(axis=0) if heads else np.zeros(weights.shape[1:], np.float32)
        self._mean = frozen(mean, np.float32)
        self._query_row, self._inspected_col = query_row, inspected_col
        heads_changed, self._heads = heads != self._heads, heads
        named = (list(row_labels), list(col_labels)) != (self._rows, self._cols)
        if named:
            self._rows, self._cols = list(row_labels), list(col_labels)
            self._ticked = None  # the ticks are written again with the new names
            self._pointer = None  # "head 1: the → sat 0.0367" was of old words
        if heads_changed or named:  # new names alone re-plan only if they need other room
            self._relayout(force=heads_changed)  # (a re-plan re-adds every small map: ~4 ms)
        if self._selected_head != self._titled_head:  # it may have come into range
            self._follow_focus()
        if self._ticked != (query_row, inspected_col):  # the query row and key stay labelled
            self._update_ticks()
        self._refresh_images()

    def set_selected_head(self, head: int | None) -> None:
        """Focus one head (large heatmap) or, with None, the mean of the heads."""
        if head == self._requested_head:  # called after every set_data: nothing new to show
            return
        self._requested_head = head
        self._follow_focus()
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

    def labelled(self) -> tuple[list[int], list[int]]:
        """The indices of the rows and of the columns whose names the focused map shows."""
        return ([int(v) for v, _ in self._ticks[0]], [int(v) for v, _ in self._ticks[1]])

    def shown_heads(self) -> range:
        """The heads whose small maps are on screen (a page of them when they do not all fit)."""
        return page_heads(self._heads, self._per_page, self._page)

    # ----------------------------------------------------------------- updating

    def _refresh_images(self) -> None:
        """Hand the current weights to every heatmap (images only, no new items)."""
        if self._weights.shape[1] == 0 or self._weights.shape[2] == 0:
            self._on_mouse_moved(None)  # no cell to read
            return
        args = (self._query_row, self._inspected_col)
        self._small[0].set_weights(self._mean, *args)
        for head in range(self._weights.shape[0]):
            self._small[head + 1].set_weights(self._weights[head], *args)
        focus = self._mean if self._selected_head is None else self._weights[self._selected_head]
        self.focused.set_weights(focus, *args)
        self._on_mouse_moved(self._pointer)  # the readout is of these weights, not the last

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self._relayout()
        return super().eventFilter(watched, event)

    def _relayout(self, force: bool = False) -> None:
        """Choose the tick font and the arrangement for the canvas size; apply them if new."""
        width, height = self.canvas.width() - 8, self.canvas.height() - 8
        # Long names (sentence mode) may take a third of the width beside the map and a fifth
        # of the height under it (where they run down); words keep MAX_LABEL_CHARS.
        letter = max(self.fontMetrics().averageCharWidth(), 1)
        chars = (max(MAX_LABEL_CHARS, int(width / 3 / letter)),
                 max(MAX_LABEL_CHARS, int(height / 5 / letter)))
        font, plan, per_slot, small_min = self._tick_font, None, 1, self._small_min()
        for points in _TICK_POINT_SIZES:  # the largest font with which every label fits
            font = QFont(self.font())
            font.setPointSizeF(points)
            extra_w, extra_h = self._axes_size(font, chars)
            plan, per_slot = plan_page(width, height, extra_w, extra_h, self._heads + 1,
                                       small_min)
            label_px = QFontMetricsF(font).height() + 1
            most = max(len(self._rows), len(self._cols), 1)
            if label_step(most, plan.side, label_px) == 1:
                break
        per_page = max(per_slot - 1, 1)  # the mean's map takes one place on every page
        if plan is None or (not force and (plan, font, per_page, chars, (extra_w, extra_h)) == (
                self._plan, self._tick_font, self._per_page, self._label_chars, self._axes)):
            return
        self._tick_font, self._plan, self._per_page, self._label_chars = (font, plan, per_page,
                                                                           chars)
        self._axes = (extra_w, extra_h)
        self._apply_plan(plan, extra_w, extra_h)
        self._follow_focus(arrange=True)
        self._update_ticks()

    def _small_min(self) -> float:
        """The narrowest small map: its widest title ("head 12"), bold as when selected."""
        font = QFont(self.font())
        font.setPointSizeF(_SMALL_TITLE_POINTS)
        font.setBold(True)
        widest = max(QFontMetricsF(font).horizontalAdvance(t) for t in
                     (SMALL_MEAN_TITLE, f"head {max(self._heads, 1)}"))
        return max(SMALL_MIN, math.ceil(widest) + _TITLE_PADDING)

    def _axes_size(self, font: QFont, chars: tuple[int, int]) -> tuple[float, float]:
        """Width and height the focused plot needs beside its image (axes, title, colour bar)."""
        rows, cols = (widest_label(font, labels, most) for labels, most in
                      zip((self._rows, self._cols), chars, strict=True))
        left, bottom = math.ceil(rows) + 12, math.ceil(cols) + 12
        bar = max(self.colorbar.minimumWidth(), 50.0)
        return left + 4 + GAP + bar, _FOCUS_TITLE_H + bottom + 4

    def _apply_plan(self, plan: Plan, extra_w: float, extra_h: float) -> None:
        """Size the focused plot and the small-map box and put the box below or beside."""
        bar = max(self.colorbar.minimumWidth(), 50.0)
        focus = QSizeF(extra_w - GAP - bar + plan.side, extra_h + plan.side)
        bottom = int(extra_h - _FOCUS_TITLE_H - 4)
        self.focused.plot.setMinimumSize(focus)
        self.focused.plot.setMaximumSize(focus)
        self.focused.plot.getAxis("left").setWidth(int(extra_w - GAP - bar - 4))
        self.focused.plot.getAxis("bottom").setHeight(bottom)
        # The colour bar as tall as the plot, its bar level with the image (not title or labels).
        self.colorbar.setMinimumHeight(focus.height())
        self.colorbar.setMaximumHeight(focus.height())
        self.colorbar.layout.setContentsMargins(1, _FOCUS_TITLE_H + 1, 1, bottom + 1)
        box = QSizeF(plan.cols * plan.small + (plan.cols - 1) * SMALL_GAP,
                     plan.rows * (plan.small + SMALL_TITLE_H) + (plan.rows - 1) * SMALL_GAP)
        self._small_box.setMinimumSize(box)
        self._small_box.setMaximumSize(box)
        layout = self.canvas.ci.layout
        layout.removeItem(self._small_box)
        if plan.below:
            layout.addItem(self._small_box, 1, 0, 1, 2)
        else:
            layout.addItem(self._small_box, 0, 2)
        # Centre what is used in the canvas: the spare space goes to equal margins.
        if plan.below:
            used_w = max(focus.width() + GAP + bar, box.width())
            used_h = focus.height() + GAP + box.height()
        else:
            used_w = focus.width() + 2 * GAP + bar + box.width()
            used_h = max(focus.height(), box.height())
        spare_w = max(self.canvas.width() - 8 - used_w, 0) / 2
        spare_h = max(self.canvas.height() - 8 - used_h, 0) / 2
        self.canvas.ci.setContentsMargins(4 + spare_w, 4 + spare_h, 4, 4)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        for item in (self.focused.plot, self.colorbar, self._small_box):
            layout.setAlignment(item, align)

    def _follow_focus(self, arrange: bool = False) -> None:
        """Turn to the page of the focused head (if it is not shown) and title the maps."""
        head = self._selected_head
        if head is not None and head not in self.shown_heads():
            self._page, arrange = head // self._per_page, True
        if arrange:
            self._show_page(self._page)
        else:
            self._update_titles()

    def _show_page(self, page: int) -> None:
        """Lay out the mean's small map and one page of heads (every head when they fit)."""
        shown = page_heads(self._heads, self._per_page, page)
        self._page = shown.start // self._per_page
        self.pages.show_page(self._page, shown, self._heads, self._per_page)
        self._slots = [0, *(head + 1 for head in shown)]
        if self._plan is not None:
            self._arrange_small(self._plan)

    def _arrange_small(self, plan: Plan) -> None:
        """Lay out the small heatmaps of ``_slots`` in the plan's columns; build missing ones."""
        while len(self._small) < self._heads + 1:
            self._small.append(Heatmap(small=True))
        while self._small_grid.count():  # takes items out of the layout, they stay in the scene
            self._small_grid.removeAt(self._small_grid.count() - 1)
        for column in range(plan.cols):  # equal widths, whatever the title lengths
            self._small_grid.setColumnStretchFactor(column, 1)
            self._small_grid.setColumnPreferredWidth(column, 10)
        # Each map its planned size: a last page with fewer maps keeps them as large.
        size = QSizeF(plan.small, plan.small + SMALL_TITLE_H)
        slots = set(self._slots)
        for i, heatmap in enumerate(self._small):
            if i in slots:
                place = self._slots.index(i)
                heatmap.plot.setMinimumSize(size)
                heatmap.plot.setMaximumSize(size)
                self._small_grid.addItem(heatmap.plot, place // plan.cols, place % plan.cols)
            heatmap.plot.setVisible(i in slots)
        self._update_titles()

    def _update_titles(self) -> None:
        """Titles in head colours; the focused one in bold."""
        self._titled_head = self._selected_head
        for i in self._slots:
            head = None if i == 0 else i - 1
            text = SMALL_MEAN_TITLE if head is None else f"head {i}"
            colour = "k" if head is None else head_colour(head)
            selected = head == self._selected_head
            self._small[i].set_title(text, colour, f"{_SMALL_TITLE_POINTS:g}pt", selected,
                                     SMALL_TITLE_H)
        self.focused.set_title(self._focus_name(self._selected_head), "k", "10pt", True,
                               _FOCUS_TITLE_H)

    def _focus_name(self, head: int | None) -> str:
        """What the focused map (or a cell's readout) of ``head`` is called: the mean of one
        head is that head, so it is named "head 1", not "mean of heads"."""
        if head is None and self._heads != 1:
            return MEAN_TITLE
        return f"head {1 if head is None else head + 1}"

    def _update_ticks(self) -> None:
        """Token names as ticks on the focused heatmap: always the query row's and the inspected
        column's, and every k-th of the others when all would overlap."""
        side = self._plan.side if self._plan is not None else 0.0
        metrics = QFontMetricsF(self._tick_font)
        for name in ("left", "bottom"):
            self.focused.plot.getAxis(name).setStyle(tickFont=self._tick_font)
        query, col = self._query_row, self._inspected_col
        self._ticks = axis_ticks(self._rows, self._cols, side, metrics.height() + 1, query, col,
                                 self._label_chars)
        self._ticked = (query, col)
        self.focused.plot.getAxis("left").setTicks([self._ticks[0]])
        self.focused.plot.getAxis("bottom").set_labels(self._ticks[1])

    # ----------------------------------------------------------------- mouse

    def _hit(self, scene_pos: QPointF) -> tuple[int | None, int, int, bool] | None:
        """(head or None for the mean, row, col, small?) under a scene position."""
        cell = self.focused.cell_at(scene_pos)
        if cell is not None:
            return (self._selected_head, *cell, False)
        for i in self._slots:
            cell = self._small[i].cell_at(scene_pos)
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
        if small:  # only the focus moves: the query and the key stay where they were
            self.head_selected.emit(head)
        else:
            self.cell_clicked.emit(row, col)

    def _on_mouse_moved(self, scene_pos: QPointF | None) -> None:
        self._pointer = scene_pos
        hit = None if scene_pos is None else self._hit(scene_pos)
        if hit is None:
            self.hover_label.setText(HOVER_HINT)
            return
        head, row, col, _ = hit
        matrix = self._mean if head is None else self._weights[head]
        name = self._focus_name(head)
        self.hover_label.setText(
            f"{name}: {self._rows[row]} → {self._cols[col]}  {float(matrix[row, col]):.4f}")
