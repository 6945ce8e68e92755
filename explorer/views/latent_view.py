"""A 2D map of the latent space: context tokens, the query, each head's mix and the output.

Lines from the query to each token get wider and darker with the weight. The view re-ranges only
when the fixed points (tokens and query) change, so dragging the temperature moves the output
smoothly across a still map. All labels are painted by two items (PITFALLS 5).
"""

from __future__ import annotations

from collections.abc import Sequence

import PySide6  # noqa: F401  (PITFALLS 3: PySide6 before pyqtgraph)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from explorer.views.palette import BACKGROUND, head_colour, style_plot

_TOKEN_BRUSH = pg.mkBrush("#4c72b0")
_QUERY_BRUSH = pg.mkBrush("#d62728")
_OUTPUT_BRUSH = pg.mkBrush("#111111")
_NEIGHBOUR_COLOUR = QColor(150, 150, 150)


def _bounds(xy: np.ndarray) -> QRectF:
    """The bounding rectangle of (m, 2) points (an empty rect for no points)."""
    if len(xy) == 0:
        return QRectF()
    lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
    return QRectF(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))


class LabelLayer(pg.GraphicsObject):
    """Paints many text labels at data positions, each at a fixed pixel size and offset."""

    def __init__(self, font: QFont, offset: tuple[float, float] = (6.0, -4.0)) -> None:
        super().__init__()
        self._font = font
        self._offset = QPointF(*offset)
        self._xy = np.zeros((0, 2))
        self._texts: list[str] = []
        self._colours: list[QColor] = []

    def set_labels(self, xy: np.ndarray, texts: Sequence[str], colours: Sequence[QColor]) -> None:
        """Replace the labels: ``texts[i]`` at ``xy[i]`` in ``colours[i]``."""
        self.prepareGeometryChange()
        self._xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self._texts, self._colours = list(texts), list(colours)
        self.informViewBoundsChanged()
        self.update()

    @property
    def texts(self) -> list[str]:
        """The label texts, in order (for tests)."""
        return list(self._texts)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802, ANN001, ANN201
        """Bounds of the labelled points along axis ``ax`` (for the ViewBox's auto-range)."""
        if len(self._xy) == 0:
            return None
        return float(np.nanmin(self._xy[:, ax])), float(np.nanmax(self._xy[:, ax]))

    def boundingRect(self) -> QRectF:  # noqa: N802
        # Labels stick out of the points by a fixed number of pixels: claim the visible area.
        view = self.viewRect()
        return view if view is not None else _bounds(self._xy)

    def viewRangeChanged(self) -> None:  # noqa: N802
        self.prepareGeometryChange()

    def paint(self, painter: QPainter, *args) -> None:  # noqa: ANN002
        if not self._texts:
            return
        # Map the points to device pixels, then draw unscaled text there.
        transform = painter.transform()
        painter.resetTransform()
        painter.setFont(self._font)
        for (x, y), text, colour in zip(self._xy, self._texts, self._colours, strict=True):
            painter.setPen(colour)
            painter.drawText(transform.map(QPointF(x, y)) + self._offset, text)


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
        return _bounds(np.vstack([self._origin[None], self._targets]))

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
        super().__init__(parent, background=BACKGROUND)
        self.setAntialiasing(True)
        plot = self.getPlotItem()
        style_plot(plot)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.vb.disableAutoRange()  # ranged by hand: only when the fixed points change
        self.lines = WeightLines()
        self.tokens = pg.ScatterPlotItem(size=10, brush=_TOKEN_BRUSH, pen=pg.mkPen("w"),
                                         hoverable=True, hoverSize=14, antialias=True,
                                         tip=lambda x, y, data: str(data))
        self.query = pg.ScatterPlotItem(size=20, symbol="star", brush=_QUERY_BRUSH,
                                        pen=pg.mkPen("k"), antialias=True, hoverable=True,
                                        tip=lambda x, y, data: f"query: {data}")
        self.head_mixes = pg.ScatterPlotItem(symbol="t", pen=pg.mkPen("k", width=0.5),
                                             antialias=True, hoverable=True,
                                             tip=lambda x, y, data: str(data))
        self.output = pg.ScatterPlotItem(size=16, symbol="d", brush=_OUTPUT_BRUSH,
                                         pen=pg.mkPen("w"), antialias=True, hoverable=True,
                                         tip=lambda x, y, data: "output")
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() - 2, 6.0))
        self.neighbour_labels = LabelLayer(small, offset=(-8.0, 4.0))
        self.labels = LabelLayer(QFont(self.font()))
        for item in (self.neighbour_labels, self.lines, self.tokens, self.head_mixes,
                     self.output, self.query, self.labels):
            plot.addItem(item)
        self.tokens.sigClicked.connect(self._on_token_clicked)
        self._fixed: tuple[list[str], str, np.ndarray, np.ndarray] | None = None
        self._axis_labels: tuple[str, str] = ("", "")

    def set_data(self, token_xy: np.ndarray, token_labels: list[str], query_xy: np.ndarray,
                 query_label: str, query_weights: np.ndarray, head_mix_xy: np.ndarray,
                 output_xy: np.ndarray, neighbours: Sequence[tuple[str, float, float, str]],
                 axis_labels: tuple[str, str], selected_head: int | None) -> None:
        """Show one state of the map; see the module docstring for what is drawn."""
        token_xy = np.array(token_xy, dtype=float).reshape(-1, 2)
        query_xy = np.array(query_xy, dtype=float).reshape(2)
        head_mix_xy = np.array(head_mix_xy, dtype=float).reshape(-1, 2)
        output_xy = np.array(output_xy, dtype=float).reshape(2)
        fixed_changed = self._fixed_points_changed(token_labels, query_label, token_xy, query_xy)
        if fixed_changed:  # the scatter items are re-filled only when the sentence/space changes
            self.tokens.setData(pos=token_xy, data=list(token_labels))
            self.query.setData(pos=query_xy[None], data=[query_label])
        colour = QColor("#333333") if selected_head is None else head_colour(selected_head)
        self.lines.set_lines(query_xy, token_xy, np.asarray(query_weights), colour)
        self._set_head_mixes(head_mix_xy, selected_head)
        self.output.setData(pos=output_xy[None])
        self._set_labels(token_xy, token_labels, query_xy, query_label, head_mix_xy, output_xy)
        self.neighbour_labels.set_labels(
            np.array([(x, y) for _, x, y, _ in neighbours], dtype=float).reshape(-1, 2),
            [word for word, *_ in neighbours], [_NEIGHBOUR_COLOUR] * len(neighbours))
        if tuple(axis_labels) != self._axis_labels:
            self._axis_labels = (axis_labels[0], axis_labels[1])
            self.setLabel("bottom", axis_labels[0], color="k")
            self.setLabel("left", axis_labels[1], color="k")
        moving = np.vstack([head_mix_xy, output_xy[None]])
        if fixed_changed or not self._inside_view(moving):
            self.getPlotItem().vb.autoRange(padding=0.12)

    def _fixed_points_changed(self, labels: list[str], query_label: str, token_xy: np.ndarray,
                              query_xy: np.ndarray) -> bool:
        """True (and remembered) when tokens or query changed in name or position."""
        old = self._fixed
        same = (old is not None and old[0] == list(labels) and old[1] == query_label
                and old[2].shape == token_xy.shape and np.allclose(old[2], token_xy)
                and np.allclose(old[3], query_xy))
        if not same:
            self._fixed = (list(labels), query_label, token_xy.copy(), query_xy.copy())
        return not same

    def _set_head_mixes(self, head_mix_xy: np.ndarray, selected_head: int | None) -> None:
        """One small triangle per head in its colour; the selected head's larger."""
        heads = len(head_mix_xy)
        brushes = [pg.mkBrush(head_colour(i)) for i in range(heads)]
        sizes = [15 if i == selected_head else 10 for i in range(heads)]
        self.head_mixes.setData(pos=head_mix_xy, brush=brushes, size=sizes,
                                data=[f"head {i + 1} mix" for i in range(heads)])

    def _set_labels(self, token_xy: np.ndarray, token_labels: list[str], query_xy: np.ndarray,
                    query_label: str, head_mix_xy: np.ndarray, output_xy: np.ndarray) -> None:
        """All point labels in one item: tokens, the query, h1..hN and "output"."""
        heads = len(head_mix_xy)
        # In self-attention the query is also a token: label that spot once, as the query.
        keep = [i for i, label in enumerate(token_labels)
                if not (label == query_label and np.allclose(token_xy[i], query_xy))]
        xy = np.vstack([token_xy[keep], query_xy[None], head_mix_xy, output_xy[None]])
        texts = [*(token_labels[i] for i in keep), query_label,
                 *(f"h{i + 1}" for i in range(heads)), "output"]
        colours = ([QColor("#1a1a1a")] * len(keep) + [QColor("#d62728")]
                   + [head_colour(i) for i in range(heads)] + [QColor("black")])
        self.labels.set_labels(xy, texts, colours)

    def _inside_view(self, xy: np.ndarray) -> bool:
        """True when every (finite) point is inside the visible range."""
        rect = self.getPlotItem().vb.viewRect()
        finite = xy[np.isfinite(xy).all(axis=1)]
        return all(rect.contains(QPointF(float(x), float(y))) for x, y in finite)

    def _on_token_clicked(self, item: pg.ScatterPlotItem, points, event) -> None:  # noqa: ANN001
        if len(points):
            self.point_clicked.emit(int(points[0].index()))
