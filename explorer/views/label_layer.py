"""Text labels for a plot, painted by one item at a fixed pixel size, never overlapping.

`place_labels` is the greedy placement (priority order; each label at the first free spot around
its point); `LabelLayer` paints a set of labels with it and caches the layout per view transform.
"""

from __future__ import annotations

from collections.abc import Sequence

import PySide6  # noqa: F401  (PITFALLS 3: PySide6 before pyqtgraph)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QTransform

__all__ = ["MAX_OPTIONAL", "LabelLayer", "place_labels", "points_bounds"]

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
                 must: list[bool], bounds: QRectF, taken: Sequence[QRectF] = (),
                 avoid: Sequence[QRectF] = ()) -> list[QRectF | None]:
    """Greedy de-overlap: a rectangle for each label (in order = priority), or None to skip it.

    Label i (``sizes[i]`` = width, height) goes beside ``anchors[i]``, ``gaps[i]`` pixels from it,
    at the first of _SPOTS inside ``bounds`` that meets no earlier label, none of ``taken`` and
    none of ``avoid`` (drawn points); failing that, at the first that only covers some of
    ``avoid`` (a crowded map keeps its labels). A label that ``must`` be shown and finds no free
    spot goes at its first spot inside ``bounds``.
    """
    placed, points, result = _Placed(taken), _Placed(avoid), []
    outer = _box(*bounds.getRect())
    for anchor, (w, h), gap, needed in zip(anchors, sizes, gaps, must, strict=True):
        ax, ay = anchor.x(), anchor.y()
        choice: tuple[float, float] | None = None
        fallback: tuple[float, float] | None = None
        over_points: tuple[float, float] | None = None  # free of labels, not of points
        for side, level in _SPOTS:
            corner = _spot(ax, ay, w, h, gap, side, level)
            box = _box(*corner, w, h)
            if box is None or not _inside(box, outer):
                continue
            fallback = fallback or corner
            if not placed.overlaps(box):
                if not points.overlaps(box):
                    choice = corner
                    break
                over_points = over_points or corner
        choice = choice or over_points
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
        ok = np.isfinite(self._xy).all(axis=1)
        finite = [i for i in self._order if ok[i]]
        taken = [r for _, r in self._above.layout(transform, bounds)] if self._above else []
        markers = self.markers(transform) + (self._above.markers(transform) if self._above else [])
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
                             bounds, taken, markers)
        shown = [(i, r) for i, r in zip(finite, rects, strict=True) if r is not None]
        self._cache = (key, shown)
        return shown

    def markers(self, transform: QTransform) -> list[QRectF]:
        """Device rectangles of the markers this layer's points are drawn with (see __init__)."""
        if not self._marks_points:
            return []
        ok = np.isfinite(self._xy).all(axis=1)
        rows = np.flatnonzero(ok)
        centres = _map_points(transform, self._xy[rows])
        halves = [self._gaps[i] - 1.0 for i in rows.tolist()]
        return [QRectF(c.x() - h, c.y() - h, 2 * h, 2 * h) for c, h in zip(centres, halves,
                                                                          strict=True)]

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
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        for i, rect in self.layout(transform, bounds):
            painter.setPen(self._colours[i])
            painter.drawText(rect, align, self._texts[i])
            self.painted.append((self._texts[i], QRectF(rect)))
