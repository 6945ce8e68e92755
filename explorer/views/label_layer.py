"""Text labels for a plot, painted by one item at a fixed pixel size, never overlapping.

`place_labels` is the greedy placement (priority order; each label at the first free spot around
its point); `LabelLayer` paints a set of labels with it and caches the layout per view transform.
"""

from __future__ import annotations

from collections.abc import Sequence

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPaintEngine,
    QPainter,
    QStaticText,
    QTransform,
)

__all__ = ["MAX_OPTIONAL", "LabelLayer", "place_labels", "points_bounds"]

# Where a label may go around its point, tried in order: right of it (level, a little higher,
# a little lower), left of it (the same), then above and below it, then a line further out.
_SPOTS = (("right", -0.5), ("right", -0.9), ("right", -0.1), ("left", -0.5), ("left", -0.9),
          ("left", -0.1), ("centre", "above"), ("centre", "below"), ("right", -1.6),
          ("right", 0.6), ("left", -1.6), ("left", 0.6))


MAX_OPTIONAL = 150
"""At most this many optional labels (words, neighbours) are placed on the latent map."""

Box = tuple[float, float, float, float]  # left, top, right, bottom (plain floats: fast tests)
Cells = dict[tuple[int, int], list[Box]]

_ON_SCREEN = (QPaintEngine.Type.Raster,)
"""Paint engines that get labels as texts shaped once (QStaticText); others (SVG, PDF) get
``drawText``, so a vector file holds real text."""

_CELL = 32.0
"""Side in pixels (a power of two: exact division) of the grid that boxes are filed under, so
that testing a new box looks at its neighbours only (a 512-word sentence: thousands of tests
per layout, each of which compared against every placed label and drawn point before)."""


def _file(cells: Cells, box: Box) -> None:
    """File ``box`` under every grid cell it covers."""
    for cx in range(int(box[0] // _CELL), int(box[2] // _CELL) + 1):
        for cy in range(int(box[1] // _CELL), int(box[3] // _CELL) + 1):
            cell = cells.get((cx, cy))
            if cell is None:
                cells[cx, cy] = [box]
            else:
                cell.append(box)


def _meets(cells: Cells, left: float, top: float, right: float, bottom: float) -> bool:
    """Whether the box meets a filed box (QRectF.intersects: touching edges do not)."""
    for cx in range(int(left // _CELL), int(right // _CELL) + 1):
        for cy in range(int(top // _CELL), int(bottom // _CELL) + 1):
            for l2, t2, r2, b2 in cells.get((cx, cy), ()):
                if left < r2 and l2 < right and top < b2 and t2 < bottom:
                    return True
    return False


def _filed(boxes: np.ndarray) -> Cells:
    """The grid of (m, 4) boxes (left, top, right, bottom)."""
    cells: Cells = {}
    for left, top, right, bottom in boxes.tolist():
        _file(cells, (left, top, right, bottom))
    return cells


def _boxes(rects: Sequence[QRectF]) -> np.ndarray:
    """(m, 4) boxes of the non-empty rectangles (Qt: an empty rect meets nothing)."""
    xywh = np.array([r.getRect() for r in rects], dtype=float).reshape(-1, 4)
    return _normalised(xywh[:, 0], xywh[:, 1], xywh[:, 2], xywh[:, 3])


def _normalised(left: np.ndarray, top: np.ndarray, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Boxes (left, top, right, bottom) of the rectangles (x, y, w, h) with w and h not 0,
    edges in order whatever the signs of w and h (as plain floats compare them)."""
    keep = (w != 0) & (h != 0)
    left, top, w, h = left[keep], top[keep], w[keep], h[keep]
    right, bottom = left + w, top + h
    return np.stack([np.minimum(left, right), np.minimum(top, bottom),
                     np.maximum(left, right), np.maximum(top, bottom)], axis=1)


def _place(ax: list[float], ay: list[float], sizes: list[tuple[float, float]],
           gaps: list[float], must: list[bool], outer: Box | None, placed: Cells,
           points: Cells, keep_clear: Cells | None = None) -> list[tuple[float, float] | None]:
    """The top-left corner of each label, or None; see :func:`place_labels` (``placed`` holds
    the labels' boxes as they are placed, ``points`` the boxes to avoid, ``keep_clear`` those
    of ``points`` no label may cover unless it must be shown)."""
    clear: Cells = keep_clear or {}
    result: list[tuple[float, float] | None] = []
    o_left, o_top, o_right, o_bottom = outer if outer is not None else (0.0, 0.0, 0.0, 0.0)
    for x, y, (w, h), gap, needed in zip(ax, ay, sizes, gaps, must, strict=True):
        choice = fallback = over_points = None  # over_points: free of labels, not of points
        if w != 0 and h != 0 and outer is not None:  # an empty box fits nowhere
            for side, level in _SPOTS:  # _spot() inlined: this loop runs thousands of times
                if side == "centre":
                    left, top = x - w / 2, (y - gap - h if level == "above" else y + gap)
                else:
                    left = x + gap if side == "right" else x - gap - w
                    top = y + level * h  # type: ignore[operator]  (a number beside a side)
                corner = (left, top)
                right, bottom = left + w, top + h
                if right < left:
                    left, right = right, left
                if bottom < top:
                    top, bottom = bottom, top
                if not (o_left <= left and right <= o_right and o_top <= top
                        and bottom <= o_bottom):
                    continue
                fallback = fallback or corner
                if not _meets(placed, left, top, right, bottom):
                    if not _meets(points, left, top, right, bottom):
                        choice = corner
                        break
                    if over_points is None and not _meets(clear, left, top, right, bottom):
                        over_points = corner
        choice = choice or over_points
        if choice is None and needed:
            choice = fallback or _spot(x, y, w, h, gap, "right", -0.5)
        if choice is not None and w != 0 and h != 0:
            left, top = choice
            _file(placed, (min(left, left + w), min(top, top + h), max(left, left + w),
                           max(top, top + h)))
        result.append(choice)
    return result


def _spot(ax: float, ay: float, w: float, h: float, gap: float, side: str,
          level: float | str) -> tuple[float, float]:
    """The top-left corner of a w x h label at one of _SPOTS around the anchor (ax, ay)."""
    if side == "centre":
        return ax - w / 2, (ay - gap - h if level == "above" else ay + gap)
    return (ax + gap if side == "right" else ax - gap - w), ay + float(level) * h


def place_labels(anchors: list[QPointF], sizes: list[tuple[float, float]], gaps: list[float],
                 must: list[bool], bounds: QRectF, taken: Sequence[QRectF] = (),
                 avoid: Sequence[QRectF] = (),
                 keep_clear: Sequence[QRectF] = ()) -> list[QRectF | None]:
    """Greedy de-overlap: a rectangle for each label (in order = priority), or None to skip it.

    Label i (``sizes[i]`` = width, height) goes beside ``anchors[i]``, ``gaps[i]`` pixels from it,
    at the first of _SPOTS inside ``bounds`` that meets no earlier label, none of ``taken`` and
    none of ``avoid`` (drawn points); failing that, at the first that only covers some of
    ``avoid`` (a crowded map keeps its labels), but none of ``keep_clear`` (points that must
    stay visible: an optional label is left out rather than hide one). A label that ``must``
    be shown and finds no free spot goes at its first spot inside ``bounds``.
    """
    corners = _place([a.x() for a in anchors], [a.y() for a in anchors], sizes, gaps, must,
                     _outer(bounds), _filed(_boxes(taken)), _filed(_boxes([*avoid, *keep_clear])),
                     _filed(_boxes(keep_clear)))
    return [None if c is None else QRectF(c[0], c[1], w, h)
            for c, (w, h) in zip(corners, sizes, strict=True)]


def _outer(bounds: QRectF) -> Box | None:
    """``bounds`` as a box, None when it is empty (nothing fits in it)."""
    boxes = _boxes([bounds]).tolist()
    return (boxes[0][0], boxes[0][1], boxes[0][2], boxes[0][3]) if boxes else None


def _map_xy(transform: QTransform, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``transform.map`` of each (x, y) row as x and y arrays; a scale + translation (a plot's
    view) in one NumPy step, with Qt's own arithmetic (m11·x + dx), so the points are the same
    to the last bit."""
    if transform.type().value <= QTransform.TransformationType.TxScale.value:
        return transform.m11() * xy[:, 0] + transform.dx(), transform.m22() * xy[:, 1] + \
            transform.dy()
    points = [transform.map(QPointF(float(px), float(py))) for px, py in xy]
    return np.array([p.x() for p in points]), np.array([p.y() for p in points])


def points_bounds(xy: np.ndarray) -> QRectF:
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

    def __init__(self, font: QFont, above: LabelLayer | None = None,
                 marks_points: bool = True) -> None:
        super().__init__()
        self._font = font
        self._metrics = QFontMetricsF(font)
        self._above = above
        # Its labels name drawn markers (gap - 1 pixels around each point): no label may cover
        # one. False for labels that are the only mark of their point (neighbour words).
        self._marks_points = marks_points
        self._xy = np.zeros((0, 2))
        self._texts: list[str] = []
        self._colours: list[QColor] = []
        self._order: list[int] = []  # label indices, most important first
        self._gaps: list[float] = []
        self._must: list[bool] = []
        self._clear: list[bool] = []  # labels whose marker no optional label may cover
        self._sizes: list[tuple[float, float]] = []
        self._text_sizes: dict[str, tuple[float, float]] = {}
        self._static_texts: dict[str, QStaticText] = {}
        self._cache: tuple[tuple, list[tuple[int, QRectF]]] | None = None
        self._markers: tuple[tuple, np.ndarray] | None = None  # (transform, marker boxes)
        self._filed_cells: tuple[np.ndarray, Cells] | None = None  # (marker boxes, their grid)
        self.painted: list[tuple[str, QRectF]] = []
        """(text, rectangle in device pixels) of each label drawn by the last paint (tests)."""

    def set_labels(self, xy: np.ndarray, texts: Sequence[str], colours: Sequence[QColor],
                   priority: Sequence[float] | None = None, gaps: Sequence[float] | None = None,
                   must: Sequence[bool] | None = None,
                   keep_clear: Sequence[bool] | None = None) -> None:
        """Replace the labels: ``texts[i]`` beside ``xy[i]`` in ``colours[i]``.

        Lower ``priority`` is placed first; ``gaps[i]`` is the pixel distance from the point (its
        marker's half size); labels with ``must[i]`` are drawn even when no free spot is left.
        Point i's marker is never covered by an optional label (of this layer or one below)
        where ``keep_clear[i]``: on a crowded map such a label is left out instead.
        """
        self.prepareGeometryChange()
        self._xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self._texts, self._colours = list(texts), list(colours)
        n = len(self._texts)
        ranks = list(priority) if priority is not None else [0] * n
        self._order = sorted(range(n), key=lambda i: ranks[i])
        self._gaps = list(gaps) if gaps is not None else [4.0] * n
        self._must = list(must) if must is not None else [False] * n
        self._clear = list(keep_clear) if keep_clear is not None else [False] * n
        self._sizes = [self._size(t) for t in self._texts]
        self._cache = self._markers = None
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
        ok = np.isfinite(self._xy).all(axis=1)
        finite = [i for i in self._order if ok[i]]
        above = self._above
        taken = _boxes([r for _, r in above.layout(transform, bounds)] if above else [])
        points = self._points_cells(transform)
        # A crowded map cannot show hundreds of labels anyway: try the first MAX_OPTIONAL optional
        # ones (in priority order) and leave the rest to their points' tooltips: placing the
        # hundreds of a long sentence on every paint would slow it down.
        optional = [i for i in finite if not self._must[i]]
        if len(optional) > MAX_OPTIONAL:
            dropped = set(optional[MAX_OPTIONAL:])
            finite = [i for i in finite if i not in dropped]
        x, y = _map_xy(transform, self._xy[finite])
        sizes = [self._sizes[i] for i in finite]
        corners = _place(x.tolist(), y.tolist(), sizes, [self._gaps[i] for i in finite],
                         [self._must[i] for i in finite], _outer(bounds), _filed(taken),
                         points, _filed(self._clear_boxes(transform)))
        shown = [(i, QRectF(c[0], c[1], w, h))
                 for i, c, (w, h) in zip(finite, corners, sizes, strict=True) if c is not None]
        self._cache = (key, shown)
        return shown

    def _points_cells(self, transform: QTransform) -> Cells:
        """The grid of the marker boxes labels keep off: this layer's and the layers above."""
        own = self.marker_boxes(transform)
        if self._above is None:
            return self._filed_markers(transform)
        if not len(own):  # the usual case (neighbour words): the grid the layer above filed
            return self._above._points_cells(transform)
        return _filed(np.vstack([own, self._above.marker_boxes(transform)]))

    def _filed_markers(self, transform: QTransform) -> Cells:
        """This layer's marker boxes filed in a grid, remembered with them."""
        boxes = self.marker_boxes(transform)
        if self._filed_cells is None or self._filed_cells[0] is not boxes:
            self._filed_cells = (boxes, _filed(boxes))
        return self._filed_cells[1]

    def _clear_boxes(self, transform: QTransform) -> np.ndarray:
        """(m, 4) device boxes of the markers to keep clear: this layer's and the layers
        above's (a handful: the query's and the output's)."""
        own = np.zeros((0, 4))
        if self._marks_points and any(self._clear):
            own = self._boxes_of(np.isfinite(self._xy).all(axis=1) & np.array(self._clear),
                                 transform)
        return own if self._above is None else np.vstack(
            [own, self._above._clear_boxes(transform)])

    def _boxes_of(self, rows: np.ndarray, transform: QTransform) -> np.ndarray:
        """(m, 4) device boxes of the markers of the points where ``rows`` (n,) is True."""
        x, y = _map_xy(transform, self._xy[rows])
        halves = np.asarray(self._gaps, dtype=float)[rows] - 1.0
        return _normalised(x - halves, y - halves, 2 * halves, 2 * halves)

    def marker_boxes(self, transform: QTransform) -> np.ndarray:
        """(m, 4) device boxes (left, top, right, bottom) of the markers this layer's points
        are drawn with (see __init__); remembered for the transform until new labels."""
        key = (transform.m11(), transform.m22(), transform.dx(), transform.dy())
        if self._markers is not None and self._markers[0] == key:
            return self._markers[1]
        if not self._marks_points:
            boxes = np.zeros((0, 4))
        else:
            boxes = self._boxes_of(np.isfinite(self._xy).all(axis=1), transform)
        self._markers = (key, boxes)
        return boxes

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802, ANN001, ANN201
        """Bounds of the labelled points along axis ``ax`` (for the ViewBox's auto-range)."""
        if len(self._xy) == 0:
            return None
        return float(np.nanmin(self._xy[:, ax])), float(np.nanmax(self._xy[:, ax]))

    def boundingRect(self) -> QRectF:  # noqa: N802
        # Labels stick out of the points by a fixed number of pixels: claim the visible area.
        view = self.viewRect()
        return view if view is not None else points_bounds(self._xy)

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
        engine = painter.paintEngine()
        on_screen = engine is not None and engine.type() in _ON_SCREEN
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        for i, rect in self.layout(transform, bounds):
            painter.setPen(self._colours[i])
            if on_screen:  # the text shaped once, not at every paint: half the time per label
                painter.drawStaticText(rect.topLeft(), self._static(self._texts[i]))
            else:  # a vector file gets real text (a static text is drawn as glyph runs)
                painter.drawText(rect, align, self._texts[i])
            self.painted.append((self._texts[i], QRectF(rect)))

    def _static(self, text: str) -> QStaticText:
        """``text`` laid out once in this layer's font (the labels a rect is made for are
        exactly one line high, so its top-left is where the text's top-left goes)."""
        static = self._static_texts.get(text)
        if static is None:
            if len(self._static_texts) > 4096:  # another sentence, another vocabulary part
                self._static_texts.clear()
            static = self._static_texts[text] = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(QTransform(), self._font)
        return static
