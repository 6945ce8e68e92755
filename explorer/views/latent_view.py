"""A 2D map of the latent space: context tokens, the query, each head's mix and the output.

Lines from the query to each token get wider and darker with the weight. The view is fitted to
the points when the fixed points (tokens and query) change (unless the new points lie well inside
the view and fill most of it: typing does not make the axes jump), when a point leaves it, and
when the points come to fill much less of it than when it was fitted (other heads: an .npz's
heads spread the mixes over +-25, random ones keep them near the words); dragging the
temperature moves the output smoothly across a still map. A person who zooms or pans keeps their
view until the sentence or the query changes or they press the "A" button that appears. A
trained model's all-layers PCA gives one frame for every layer: stepping layers moves the points
across a still map (and keeps a person's zoom) instead of fitting each layer anew. All labels are
painted by two items (one pyqtgraph TextItem per label would make every update slow), which
place them so that none overlaps another: the query, the output and the focused head's mix
first, then the other mixes and the tokens (offset to a free side of their point, or left out:
their point's tooltip names them), then the grey neighbour words in whatever room is left
(explorer/views/label_layer.py). Long names (sentence mode) are cut in the middle on the map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QResizeEvent
from PySide6.QtWidgets import QGraphicsItem, QWidget

from core.analysis import Frame
from explorer.views.axis_cache import cache_axes
from explorer.views.heatmap_layout import short_label
from explorer.views.label_layer import LabelLayer, points_bounds
from explorer.views.palette import BACKGROUND, head_colour, style_plot

_TOKEN_BRUSH = pg.mkBrush("#4c72b0")
_QUERY_BRUSH = pg.mkBrush("#d62728")
_OUTPUT_BRUSH = pg.mkBrush("#111111")
_NEIGHBOUR_COLOUR = QColor(150, 150, 150)
_TOKEN_SIZE, _QUERY_SIZE, _OUTPUT_SIZE, _MIX_SIZE = 10, 20, 16, 10  # marker sizes in pixels
_HEAD_BRUSHES: dict[int, QBrush] = {}
_LABEL_CHARS = 22  # longer names (sentences) are cut in the middle; the tooltip has them whole
_SHRINK = 0.5  # refit when the points span less than this share of the fitted span
_KEEP = 0.6  # a new map whose points lie inside the view and span this share of it keeps it
_PADDING = 0.12


def _legend(plot: pg.PlotItem, entries: Sequence[tuple[pg.ScatterPlotItem, str]]) -> pg.LegendItem:
    """What the dots, the star, the triangles and the diamond are: one row under the x axis,
    where it can never hide a point."""
    legend = pg.LegendItem(labelTextSize="8pt", labelTextColor="k", colCount=2, horSpacing=14,
                           verSpacing=-8)
    for item, name in entries:
        legend.addItem(item, name)
    plot.layout.addItem(legend, 5, 1)  # the row below the bottom axis and its label
    return legend


def _finite(xy: np.ndarray) -> np.ndarray:
    """The rows of (m, 2) points with both coordinates finite."""
    return xy[np.isfinite(xy).all(axis=1)]


def _head_brush(head: int) -> QBrush:
    """Head ``head``'s brush, one object per head: pyqtgraph caches a rendered marker per brush
    object, so a new brush on every update drew (and stored) every marker again."""
    brush = _HEAD_BRUSHES.get(head)
    if brush is None:
        brush = _HEAD_BRUSHES[head] = pg.mkBrush(head_colour(head))
    return brush


class WeightLines(pg.GraphicsObject):
    """Lines from one origin to many targets, each as wide and opaque as its weight."""

    def __init__(self) -> None:
        super().__init__()
        self._origin = np.zeros(2)
        self._targets = np.zeros((0, 2))
        self._weights = np.zeros(0)
        self._colour = QColor("#444444")

    def set_lines(self, origin: np.ndarray, targets: np.ndarray, weights: np.ndarray,
                  colour: QColor) -> None:
        """Draw a line from ``origin`` to each ``targets[i]`` weighted by ``weights[i]``."""
        self.prepareGeometryChange()
        self._origin = np.asarray(origin, dtype=float).reshape(2)
        self._targets = np.asarray(targets, dtype=float).reshape(-1, 2)
        self._weights = np.clip(np.nan_to_num(np.asarray(weights, dtype=float)), 0.0, 1.0)
        self._colour = QColor(colour)
        self.update()

    def pen_for(self, i: int) -> QPen:
        """The pen of line ``i``: width 0.5..5 px and opacity 0.1..1 following the weight."""
        w = float(self._weights[i])
        colour = QColor(self._colour)
        colour.setAlphaF(0.1 + 0.9 * w)
        pen = QPen(colour, 0.5 + 4.5 * w)
        pen.setCosmetic(True)  # width in pixels, whatever the zoom
        return pen

    def boundingRect(self) -> QRectF:  # noqa: N802
        return points_bounds(np.vstack([self._origin[None], self._targets]))

    def paint(self, painter: QPainter, *args) -> None:  # noqa: ANN002
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        origin = QPointF(*self._origin)
        # Lightest first, so strong lines are drawn on top of weak ones.
        for i in np.argsort(self._weights, kind="stable"):
            if self._weights[i] < 0.005:
                continue
            painter.setPen(self.pen_for(int(i)))
            painter.drawLine(origin, QPointF(*self._targets[i]))


class LatentMap(pg.PlotWidget):
    """The 2D latent map: tokens, query, per-head mixes, output and neighbour words.

    Signals
    -------
    point_clicked(int)
        The index of a clicked context-token point.
    """

    point_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        # No pyqtgraph menu (ours offers export), and none to build at start-up.
        super().__init__(parent, background=BACKGROUND, enableMenu=False)
        self.setAntialiasing(True)
        plot = self.getPlotItem()
        style_plot(plot)
        cache_axes(plot)  # the lines and labels change beside them at every update
        plot.hideButtons()  # shown once the person zooms: "A" fits the points again
        plot.vb.disableAutoRange()  # ranged by hand: see the module docstring
        self.lines = WeightLines()
        self.tokens = pg.ScatterPlotItem(size=_TOKEN_SIZE, brush=_TOKEN_BRUSH, pen=pg.mkPen("w"),
                                         hoverable=True, hoverSize=14, antialias=True,
                                         tip=lambda x, y, data: self.describe(str(data)))
        # The context tokens stay put while a setting changes: a pixmap of them, drawn again
        # when they move, the view's range changes or a point is hovered (~0.3 ms an update).
        self.tokens.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.query = pg.ScatterPlotItem(size=_QUERY_SIZE, symbol="star", brush=_QUERY_BRUSH,
                                        pen=pg.mkPen("k"), antialias=True, hoverable=True,
                                        tip=lambda x, y, data: "query: " + self.describe(str(data)))
        self.head_mixes = pg.ScatterPlotItem(symbol="t", pen=pg.mkPen("k", width=0.5),
                                             antialias=True, hoverable=True,
                                             tip=lambda x, y, data: str(data))
        self.output = pg.ScatterPlotItem(size=_OUTPUT_SIZE, symbol="d", brush=_OUTPUT_BRUSH,
                                         pen=pg.mkPen("w"), antialias=True, hoverable=True,
                                         tip=lambda x, y, data: "output")
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() - 2, 6.0))
        self.labels = LabelLayer(QFont(self.font()))
        self.neighbour_labels = LabelLayer(small, above=self.labels, marks_points=False)
        for item in (self.neighbour_labels, self.lines, self.tokens, self.head_mixes,
                     self.output, self.query, self.labels):
            plot.addItem(item)
        self.legend = _legend(plot, ((self.tokens, "context token"), (self.query, "query"),
                                     (self.head_mixes, "a head's mix"),
                                     (self.output, "attention output")))
        # Two legend columns need ~300 px: a narrower map (beside the inputs dock) gets one, or
        # the legend widened the plot past the widget and its right side was cut off.
        self._two_column_width = self.legend.layout.effectiveSizeHint(
            Qt.SizeHint.MinimumSize).width() + 2 * plot.getAxis("left").width()
        # Never narrower than the plot with a one-column legend: a splitter squeezing it further
        # cut off the map's right side.
        self.setMinimumWidth(int(0.55 * self._two_column_width + plot.getAxis("left").width()))
        self.tokens.sigClicked.connect(self._on_token_clicked)
        self._fixed: tuple[list[str], str, np.ndarray, np.ndarray] | None = None
        self._fitted: QRectF | None = None  # the points' bounds when the view was last fitted
        self._extent = QRectF()  # the points' bounds now (with the frame's)
        self._frame: QRectF | None = None  # bounds shared by every state of this map
        self.zoomed_by_person = False
        """True once the person zoomed or panned: their view is kept (see the module doc)."""
        plot.vb.sigRangeChangedManually.connect(self._on_range_changed_by_person)
        plot.autoBtn.clicked.connect(self._on_fit_requested)
        self._axis_labels: tuple[str, str] = ("", "")
        # Hover text of a word's point; the window sets one that adds its nearest words.
        self.describe: Callable[[str], str] = str

    def set_data(self, token_xy: np.ndarray, token_labels: list[str], query_xy: np.ndarray,
                 query_label: str, query_weights: np.ndarray, head_mix_xy: np.ndarray,
                 output_xy: np.ndarray, neighbours: Sequence[tuple[str, float, float, str]],
                 axis_labels: tuple[str, str], selected_head: int | None,
                 frame: Frame | None = None) -> None:
        """Show one state of the map; see the module docstring for what is drawn.

        ``frame`` (x0, y0, x1, y1): bounds shared by every state of one map (a trained model's
        layers in one all-layers PCA). Points moving inside it are steps on one map: the view
        keeps its range (and the person's zoom) instead of fitting each state.
        """
        token_xy = np.array(token_xy, dtype=float).reshape(-1, 2)
        query_xy = np.array(query_xy, dtype=float).reshape(2)
        head_mix_xy = np.array(head_mix_xy, dtype=float).reshape(-1, 2)
        output_xy = np.array(output_xy, dtype=float).reshape(2)
        named, moved = self._fixed_points_changed(token_labels, query_label, token_xy, query_xy)
        shared = None if frame is None else QRectF(QPointF(frame[0], frame[1]),
                                                   QPointF(frame[2], frame[3]))
        new_map = named or shared != self._frame or (shared is None and moved)
        self._frame = shared
        if named or moved:  # the scatter items are re-filled only when the tokens move
            self.tokens.setData(pos=token_xy, data=list(token_labels))
            self.query.setData(pos=query_xy[None], data=[query_label])
        colour = QColor("#333333") if selected_head is None else head_colour(selected_head)
        self.lines.set_lines(query_xy, token_xy, np.asarray(query_weights), colour)
        self._set_head_mixes(head_mix_xy, selected_head)
        self.output.setData(pos=output_xy[None])
        self._set_labels(token_xy, token_labels, query_xy, query_label, head_mix_xy, output_xy,
                         np.asarray(query_weights, dtype=float).reshape(-1), selected_head)
        # Only real words: a vocabulary also holds numbers and codes such as "(212)".
        words = [(w, x, y) for w, x, y, _ in neighbours if any(c.isalpha() for c in w)]
        self.neighbour_labels.set_labels(
            np.array([(x, y) for _, x, y in words], dtype=float).reshape(-1, 2),
            [w for w, *_ in words], [_NEIGHBOUR_COLOUR] * len(words), gaps=[2.0] * len(words))
        if tuple(axis_labels) != self._axis_labels:
            self._axis_labels = (axis_labels[0], axis_labels[1])
            self.setLabel("bottom", axis_labels[0], color="#000")  # "#000": a PDF needs RGB
            self.setLabel("left", axis_labels[1], color="#000")
        moving = np.vstack([head_mix_xy, output_xy[None]])
        extent = points_bounds(_finite(np.vstack([token_xy, query_xy[None], moving])))
        self._extent = extent = extent if shared is None else extent.united(shared)
        if new_map:  # another sentence, query, space or frame
            self.zoomed_by_person = False
        if not self.zoomed_by_person and (new_map or not self._inside_view(moving)
                                          or self._shrunk(extent)):
            self._fit(extent, keep_if_filled=new_map)

    def _fit(self, extent: QRectF, keep_if_filled: bool = False) -> None:
        """Range the view on every point, or on the frame and every point (and remember their
        bounds at this fit). An unchanged frame gives the same range: nothing is redrawn.

        ``keep_if_filled``: a new map (each key typed into the sentence makes one) whose points
        already lie well inside the view and fill most of it keeps the view: the axes hold still
        while the person types, and are not drawn again (a third of the map's paint at 32
        tokens)."""
        vb = self.getPlotItem().vb
        if keep_if_filled and self._fills_view(extent):
            self._fitted = extent
            return
        if self._frame is None:
            vb.autoRange(padding=_PADDING)
        else:
            vb.setRange(extent, padding=_PADDING)
        self._fitted = extent

    def _fills_view(self, extent: QRectF) -> bool:
        """Whether ``extent``, with half the fitting padding around it, lies inside the view and
        spans at least ``_KEEP`` of it both ways (never before the first fit)."""
        if self._fitted is None or not (extent.width() > 0 and extent.height() > 0):
            return False
        view = self.getPlotItem().vb.viewRect()
        dx, dy = 0.5 * _PADDING * extent.width(), 0.5 * _PADDING * extent.height()
        return view.contains(extent.adjusted(-dx, -dy, dx, dy)) and \
            extent.width() >= _KEEP * view.width() and extent.height() >= _KEEP * view.height()

    def _shrunk(self, extent: QRectF) -> bool:
        """Whether the points now span much less than when the view was fitted."""
        fitted = self._fitted
        if fitted is None:
            return True
        return any(now < _SHRINK * before for now, before in
                   ((extent.width(), fitted.width()), (extent.height(), fitted.height()))
                   if before > 0)

    def _on_range_changed_by_person(self, _mask: object) -> None:
        self.zoomed_by_person = True
        self.getPlotItem().showButtons()

    def _on_fit_requested(self) -> None:
        """pyqtgraph's "A" button: it turned auto-range on; fit once and keep it by hand."""
        plot = self.getPlotItem()
        plot.vb.disableAutoRange()
        self.zoomed_by_person = False
        plot.hideButtons()
        if self._fixed is not None:
            self._fit(self._extent)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802
        # pyqtgraph calls this itself, with None, while the widget is being built.
        if event is not None and hasattr(self, "_two_column_width"):
            columns = 2 if event.size().width() >= self._two_column_width else 1
            if columns != self.legend.columnCount:
                self.legend.setColumnCount(columns)
        super().resizeEvent(event)

    def _fixed_points_changed(self, labels: list[str], query_label: str, token_xy: np.ndarray,
                              query_xy: np.ndarray) -> tuple[bool, bool]:
        """Whether tokens or query changed in name, and in position (both remembered)."""
        old = self._fixed
        named = old is None or old[0] != list(labels) or old[1] != query_label
        moved = named or not (old[2].shape == token_xy.shape and _near(old[2], token_xy)
                              and _near(old[3], query_xy))
        if moved:
            self._fixed = (list(labels), query_label, token_xy.copy(), query_xy.copy())
        return named, moved

    def _set_head_mixes(self, head_mix_xy: np.ndarray, selected_head: int | None) -> None:
        """One small triangle per head in its colour, the selected head's larger; none for a
        head without a mix (NaN: its query row gave no token any weight)."""
        heads = [i for i in range(len(head_mix_xy)) if np.isfinite(head_mix_xy[i]).all()]
        brushes = [_head_brush(i) for i in heads]
        sizes = [15 if i == selected_head else 10 for i in heads]
        self.head_mixes.setData(pos=head_mix_xy[heads].reshape(-1, 2), brush=brushes,
                                size=sizes, data=[f"head {i + 1} mix" for i in heads])

    def _set_labels(self, token_xy: np.ndarray, token_labels: list[str], query_xy: np.ndarray,
                    query_label: str, head_mix_xy: np.ndarray, output_xy: np.ndarray,
                    token_weights: np.ndarray | None = None,
                    selected_head: int | None = None) -> None:
        """All point labels in one item: tokens, the query, h1..hN and "output"."""
        heads = len(head_mix_xy)
        # In self-attention the query is also a token: label that spot once, as the query.
        # A word used twice sits on one spot: label that spot once too.
        # "The same spot" allows float32 rounding: one word's points differed in the last digit
        # (the projection sums in blocks), and a rounded key then labelled "was" twice.
        keep = [i for i in _first_at_each_spot(token_labels, token_xy)
                if not (token_labels[i] == query_label and _near(token_xy[i], query_xy))]
        xy = np.vstack([token_xy[keep], query_xy[None], head_mix_xy, output_xy[None]])
        texts = [*(short_label(token_labels[i], _LABEL_CHARS) for i in keep),
                 short_label(query_label, _LABEL_CHARS),
                 *(f"h{i + 1}" for i in range(heads)), "output"]
        colours = ([QColor("#1a1a1a")] * len(keep) + [QColor("#d62728")]
                   + [head_colour(i) for i in range(heads)] + [QColor("black")])
        # Placed first: the query, the output, the focused head's mix; then the other mixes
        # and the tokens, the most attended first (when points crowd the map, the ones that
        # matter keep their labels). Only the first three must be shown: twelve head labels
        # that had to be drawn piled onto "output" where the mixes crowd around it.
        weights = np.nan_to_num(token_weights) if token_weights is not None and len(
            token_weights) == len(token_labels) else np.zeros(len(token_labels))
        token_rank = (4.0 - weights[keep]).tolist()
        focused = [i == selected_head for i in range(heads)]
        priority = token_rank + [0.0] + [1.5 if f else 2.0 for f in focused] + [1.0]
        gaps = ([_TOKEN_SIZE / 2 + 1] * len(keep) + [_QUERY_SIZE / 2 + 1]
                + [_MIX_SIZE / 2 + 1] * heads + [_OUTPUT_SIZE / 2 + 1])
        must = [False] * len(keep) + [True] + focused + [True]
        # The star and the diamond stay visible: on a crowded map a word's or a head's label
        # that would cover one is left out (its point's tooltip names it).
        clear = [False] * len(keep) + [True] + [False] * heads + [True]
        self.labels.set_labels(xy, texts, colours, priority, gaps, must, clear)

    def _inside_view(self, xy: np.ndarray) -> bool:
        """True when every (finite) point is inside the visible range."""
        rect = self.getPlotItem().vb.viewRect()
        finite = xy[np.isfinite(xy).all(axis=1)]
        return all(rect.contains(QPointF(float(x), float(y))) for x, y in finite)

    def _on_token_clicked(self, item: pg.ScatterPlotItem, points, event) -> None:  # noqa: ANN001
        if len(points):
            self.point_clicked.emit(int(points[0].index()))


def _near(a: np.ndarray, b: np.ndarray) -> bool:
    """``np.allclose(a, b)`` for finite points of one shape (NaN is near nothing), in one
    NumPy expression: allclose's checks for infinities and broadcasting cost ~25 us a call,
    and the map makes three per update."""
    return bool((np.abs(a - b) <= 1e-8 + 1e-5 * np.abs(b)).all())


def _first_at_each_spot(labels: list[str], xy: np.ndarray) -> list[int]:
    """The points to label, in order: each label's first point at each of its spots, a spot
    being ``np.allclose(point, spot, rtol=1e-5, atol=1e-6)`` to an earlier labelled point.

    Per label, all its points are compared at once: a trained model's repeated word has one
    spot per occurrence (its hidden states differ), and one comparison per point took 18 ms
    at 512 tokens; only a label with points on one spot is then walked point by point.
    """
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    keep: list[int] = []
    for rows in groups.values():
        if len(rows) == 1:
            keep.extend(rows)
            continue
        pts = xy[rows]  # (k, 2)
        near = np.all(np.abs(pts[:, None] - pts[None]) <= 1e-6 + 1e-5 * np.abs(pts[None]),
                      axis=2)  # (k, k): point a lies on the spot of point b
        earlier = np.tril(near, -1)  # b before a
        if not earlier.any():
            keep.extend(rows)
            continue
        kept: list[int] = []
        for a in range(len(rows)):
            if not earlier[a, kept].any():
                kept.append(a)
        keep.extend(rows[a] for a in kept)
    return sorted(keep)
