"""A 2D map of the latent space: context tokens, the query, each head's mix and the output.

Lines from the query to each token get wider and darker with the weight. The view re-ranges only
when the fixed points (tokens and query) change, so dragging the temperature moves the output
smoothly across a still map. All labels are painted by two items (PITFALLS 5), which place them
so that none overlaps another: the query, the output and the head mixes first, then the tokens
(offset to a free side of their point, or left out: their point's tooltip names them), then the
grey neighbour words in whatever room is left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import PySide6  # noqa: F401  (PITFALLS 3: PySide6 before pyqtgraph)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QTransform
from PySide6.QtWidgets import QWidget

from explorer.views.palette import BACKGROUND, head_colour, style_plot

_TOKEN_BRUSH = pg.mkBrush("#4c72b0")
_QUERY_BRUSH = pg.mkBrush("#d62728")
_OUTPUT_BRUSH = pg.mkBrush("#111111")
_NEIGHBOUR_COLOUR = QColor(150, 150, 150)
_TOKEN_SIZE, _QUERY_SIZE, _OUTPUT_SIZE, _MIX_SIZE = 10, 20, 16, 10  # marker sizes in pixels
# Where a label may go around its point, tried in order: right of it (level, a little higher,
# a little lower), left of it (the same), then above and below it, then a line further out.
_SPOTS = (("right", -0.5), ("right", -0.9), ("right", -0.1), ("left", -0.5), ("left", -0.9),
          ("left", -0.1), ("centre", "above"), ("centre", "below"), ("right", -1.6),
          ("right", 0.6), ("left", -1.6), ("left", 0.6))


def _spot(ax: float, ay: float, w: float, h: float, gap: float, side: str,
          level: float | str) -> tuple[float, float]:
    """The top-left corner of a w x h label at one of _SPOTS around the anchor (ax, ay)."""
    if side == "centre":
        return ax - w / 2, (ay - gap - h if level == "above" else ay + gap)
    return (ax + gap if side == "right" else ax - gap - w), ay + float(level) * h


MAX_OPTIONAL = 150
"""At most this many optional labels (words, neighbours) are placed on the latent map."""

Box = tuple[float, float, float, float]  # left, top, right, bottom (plain floats: fast tests)


def _box(left: float, top: float, w: float, h: float) -> Box | None:
    """A rectangle as a normalised box, None when it is empty (Qt: an empty rect meets and
    fits nothing)."""
    if w == 0 or h == 0:
        return None
    right, bottom = left + w, top + h
    return min(left, right), min(top, bottom), max(left, right), max(top, bottom)


def _inside(box: Box, outer: Box | None) -> bool:
    """QRectF.contains(QRectF) on boxes: edges may touch."""
    return outer is not None and outer[0] <= box[0] and box[2] <= outer[2] \
        and outer[1] <= box[1] and box[3] <= outer[3]


_CELL = 64.0
"""Side in pixels of the grid that :class:`_Placed` files rectangles under."""


class _Placed:
    """Boxes already placed, filed by the grid cells they cover, so that testing a new one looks
    at its neighbours only (a 512-word sentence: thousands of tests per layout, each of which
    compared against every placed label before)."""

    def __init__(self, rects: Sequence[QRectF]) -> None:
        self._cells: dict[tuple[int, int], list[Box]] = {}
        for rect in rects:
            box = _box(*rect.getRect())
            if box is not None:
                self.add(box)

    @staticmethod
    def _span(box: Box) -> tuple[range, range]:
        return (range(int(box[0] // _CELL), int(box[2] // _CELL) + 1),
                range(int(box[1] // _CELL), int(box[3] // _CELL) + 1))

    def add(self, box: Box) -> None:
        xs, ys = self._span(box)
        for cx in xs:
            for cy in ys:
                self._cells.setdefault((cx, cy), []).append(box)

    def overlaps(self, box: Box) -> bool:
        """Whether ``box`` meets a placed box (QRectF.intersects: touching edges do not)."""
        left, top, right, bottom = box
        xs, ys = self._span(box)
        cells = self._cells
        for cx in xs:
            for cy in ys:
                for l2, t2, r2, b2 in cells.get((cx, cy), ()):
                    if left < r2 and l2 < right and top < b2 and t2 < bottom:
                        return True
        return False


def place_labels(anchors: list[QPointF], sizes: list[tuple[float, float]], gaps: list[float],
                 must: list[bool], bounds: QRectF,
                 taken: Sequence[QRectF] = ()) -> list[QRectF | None]:
    """Greedy de-overlap: a rectangle for each label (in order = priority), or None to skip it.

    Label i (``sizes[i]`` = width, height) goes beside ``anchors[i]``, ``gaps[i]`` pixels from it,
    at the first of _SPOTS inside ``bounds`` that meets no earlier label and none of ``taken``. A
    label that ``must`` be shown and finds no free spot goes at its first spot inside ``bounds``.
    """
    placed, result = _Placed(taken), []
    outer = _box(*bounds.getRect())
    for anchor, (w, h), gap, needed in zip(anchors, sizes, gaps, must, strict=True):
        ax, ay = anchor.x(), anchor.y()
        choice: tuple[float, float] | None = None
        fallback: tuple[float, float] | None = None
        for side, level in _SPOTS:
            corner = _spot(ax, ay, w, h, gap, side, level)
            box = _box(*corner, w, h)
            if box is None or not _inside(box, outer):
                continue
            fallback = fallback or corner
            if not placed.overlaps(box):
                choice = corner
                break
        if choice is None and needed:
            choice = fallback or _spot(ax, ay, w, h, gap, "right", -0.5)
        if choice is not None:
            box = _box(*choice, w, h)
            if box is not None:
                placed.add(box)
            result.append(QRectF(choice[0], choice[1], w, h))
        else:
            result.append(None)
    return result


def _map_points(transform: QTransform, xy: np.ndarray) -> list[QPointF]:
    """``transform.map`` of each (x, y) row; a scale + translation (a plot's view) in one NumPy
    step, with Qt's own arithmetic (m11·x + dx), so the points are the same to the last bit."""
    if transform.type().value <= QTransform.TransformationType.TxScale.value:
        x = transform.m11() * xy[:, 0] + transform.dx()
        y = transform.m22() * xy[:, 1] + transform.dy()
        return [QPointF(px, py) for px, py in zip(x.tolist(), y.tolist(), strict=True)]
    return [transform.map(QPointF(float(px), float(py))) for px, py in xy]


def _bounds(xy: np.ndarray) -> QRectF:
    """The bounding rectangle of (m, 2) points (an empty rect for no points)."""
    if len(xy) == 0:
        return QRectF()
    lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
    return QRectF(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))


class LabelLayer(pg.GraphicsObject):
    """Paints many text labels at data positions, at a fixed pixel size, never overlapping.

    Labels are placed in priority order (see :func:`place_labels`); a layer given ``above``
    keeps out of the places that layer's labels take.
    """

    def __init__(self, font: QFont, above: LabelLayer | None = None) -> None:
        super().__init__()
        self._font = font
        self._metrics = QFontMetricsF(font)
        self._above = above
        self._xy = np.zeros((0, 2))
        self._texts: list[str] = []
        self._colours: list[QColor] = []
        self._order: list[int] = []  # label indices, most important first
        self._gaps: list[float] = []
        self._must: list[bool] = []
        self._sizes: list[tuple[float, float]] = []
        self._text_sizes: dict[str, tuple[float, float]] = {}
        self._cache: tuple[tuple, list[tuple[int, QRectF]]] | None = None
        self.painted: list[tuple[str, QRectF]] = []
        """(text, rectangle in device pixels) of each label drawn by the last paint (tests)."""

    def set_labels(self, xy: np.ndarray, texts: Sequence[str], colours: Sequence[QColor],
                   priority: Sequence[float] | None = None, gaps: Sequence[float] | None = None,
                   must: Sequence[bool] | None = None) -> None:
        """Replace the labels: ``texts[i]`` beside ``xy[i]`` in ``colours[i]``.

        Lower ``priority`` is placed first; ``gaps[i]`` is the pixel distance from the point (its
        marker's half size); labels with ``must[i]`` are drawn even when no free spot is left.
        """
        self.prepareGeometryChange()
        self._xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self._texts, self._colours = list(texts), list(colours)
        n = len(self._texts)
        ranks = list(priority) if priority is not None else [0] * n
        self._order = sorted(range(n), key=lambda i: ranks[i])
        self._gaps = list(gaps) if gaps is not None else [4.0] * n
        self._must = list(must) if must is not None else [False] * n
        self._sizes = [self._size(t) for t in self._texts]
        self._cache = None
        self.informViewBoundsChanged()
        self.update()

    def _size(self, text: str) -> tuple[float, float]:
        """A label's width and height; remembered, as most labels stay from update to update
        (measuring shapes the text, which costs as much as drawing it)."""
        size = self._text_sizes.get(text)
        if size is None:
            if len(self._text_sizes) > 4096:  # another sentence, another vocabulary part
                self._text_sizes.clear()
            size = self._text_sizes[text] = (self._metrics.horizontalAdvance(text) + 2,
                                             self._metrics.height())
        return size

    @property
    def texts(self) -> list[str]:
        """The label texts, in order (for tests)."""
        return list(self._texts)

    def layout(self, transform: QTransform, bounds: QRectF) -> list[tuple[int, QRectF]]:
        """(label index, device rectangle) of every label shown for this view transform."""
        key = (transform.m11(), transform.m22(), transform.dx(), transform.dy(), bounds.x(),
               bounds.y(), bounds.width(), bounds.height())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        taken = [r for _, r in self._above.layout(transform, bounds)] if self._above else []
        ok = np.isfinite(self._xy).all(axis=1)
        finite = [i for i in self._order if ok[i]]
        # A crowded map cannot show hundreds of labels anyway: try the first MAX_OPTIONAL optional
        # ones (in priority order) and leave the rest to their points' tooltips. Placing all 512
        # of a long sentence took ~12 ms per paint.
        optional = [i for i in finite if not self._must[i]]
        if len(optional) > MAX_OPTIONAL:
            dropped = set(optional[MAX_OPTIONAL:])
            finite = [i for i in finite if i not in dropped]
        anchors = _map_points(transform, self._xy[finite])
        rects = place_labels(anchors, [self._sizes[i] for i in finite],
                             [self._gaps[i] for i in finite], [self._must[i] for i in finite],
                             bounds, taken)
        shown = [(i, r) for i, r in zip(finite, rects, strict=True) if r is not None]
        self._cache = (key, shown)
        return shown

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
        self.painted = []
        view = self.viewRect()
        if not self._texts or view is None:
            return
        # Map the points to device pixels, then draw unscaled text there.
        transform = painter.transform()
        bounds = transform.mapRect(view)
        painter.resetTransform()
        painter.setFont(self._font)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        for i, rect in self.layout(transform, bounds):
            painter.setPen(self._colours[i])
            painter.drawText(rect, align, self._texts[i])
            self.painted.append((self._texts[i], QRectF(rect)))


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
        self.tokens = pg.ScatterPlotItem(size=_TOKEN_SIZE, brush=_TOKEN_BRUSH, pen=pg.mkPen("w"),
                                         hoverable=True, hoverSize=14, antialias=True,
                                         tip=lambda x, y, data: self.describe(str(data)))
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
        self.neighbour_labels = LabelLayer(small, above=self.labels)
        for item in (self.neighbour_labels, self.lines, self.tokens, self.head_mixes,
                     self.output, self.query, self.labels):
            plot.addItem(item)
        self.tokens.sigClicked.connect(self._on_token_clicked)
        self._fixed: tuple[list[str], str, np.ndarray, np.ndarray] | None = None
        self._axis_labels: tuple[str, str] = ("", "")
        # Hover text of a word's point; the window sets one that adds its nearest words.
        self.describe: Callable[[str], str] = str

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
        self._set_labels(token_xy, token_labels, query_xy, query_label, head_mix_xy, output_xy,
                         np.asarray(query_weights, dtype=float).reshape(-1))
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
                    query_label: str, head_mix_xy: np.ndarray, output_xy: np.ndarray,
                    token_weights: np.ndarray | None = None) -> None:
        """All point labels in one item: tokens, the query, h1..hN and "output"."""
        heads = len(head_mix_xy)
        # In self-attention the query is also a token: label that spot once, as the query.
        # A word used twice sits on one spot: label that spot once too.
        keep, seen = [], set()
        spots = np.round(token_xy, 9).tolist()  # one rounding for all tokens, not one per token
        for i, label in enumerate(token_labels):
            spot = (label, *spots[i])
            if spot not in seen and not (label == query_label
                                         and np.allclose(token_xy[i], query_xy)):
                keep.append(i)
            seen.add(spot)
        xy = np.vstack([token_xy[keep], query_xy[None], head_mix_xy, output_xy[None]])
        texts = [*(token_labels[i] for i in keep), query_label,
                 *(f"h{i + 1}" for i in range(heads)), "output"]
        colours = ([QColor("#1a1a1a")] * len(keep) + [QColor("#d62728")]
                   + [head_colour(i) for i in range(heads)] + [QColor("black")])
        # Placed first: the query, the output, the head mixes; then the tokens, the most
        # attended first (when words crowd the map, the ones that matter keep their labels).
        weights = np.nan_to_num(token_weights) if token_weights is not None and len(
            token_weights) == len(token_labels) else np.zeros(len(token_labels))
        token_rank = (4.0 - weights[keep]).tolist()
        priority = token_rank + [0.0] + [2.0] * heads + [1.0]
        gaps = ([_TOKEN_SIZE / 2 + 1] * len(keep) + [_QUERY_SIZE / 2 + 1]
                + [_MIX_SIZE / 2 + 1] * heads + [_OUTPUT_SIZE / 2 + 1])
        must = [False] * len(keep) + [True] * (heads + 2)
        self.labels.set_labels(xy, texts, colours, priority, gaps, must)

    def _inside_view(self, xy: np.ndarray) -> bool:
        """True when every (finite) point is inside the visible range."""
        rect = self.getPlotItem().vb.viewRect()
        finite = xy[np.isfinite(xy).all(axis=1)]
        return all(rect.contains(QPointF(float(x), float(y))) for x, y in finite)

    def _on_token_clicked(self, item: pg.ScatterPlotItem, points, event) -> None:  # noqa: ANN001
        if len(points):
            self.point_clicked.emit(int(points[0].index()))
