"""BertViz-style head view: queries on the left, keys on the right, one line per weight.

A line's strength follows its weight and its colour is its head's. By default every query row is
drawn faintly and the current query row strongly; hovering a token shows only its lines. Everything
is painted by this one widget with QPainter, so an update stores arrays and asks for a repaint:
no graphics item is created per line or per label.

Heads stay apart where their lines cross or coincide: a line's strength is drawn as its head's
colour mixed with white (opaque, never translucent: four translucent head colours laid over each
other blended into brown), the strongest lines last, on top, and each head's lines leave and
reach a token a pixel or two apart from the other heads'. Labels keep a legible size; in a long
sentence every k-th one is shown (always the query's and the hovered one), not smaller text.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from explorer.views.arrays import frozen
from explorer.views.palette import head_colour


def _elided(text: str, width: float, metrics: QFontMetricsF) -> str:
    """``text`` cut in the middle with "…" to fit ``width`` (as the heatmaps cut their names:
    "I drink water with fine (query)" keeps its start and its "(query)")."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, max(width, 0.0))


def line_colour(head: int, strength: float) -> QColor:
    """Head ``head``'s colour at ``strength`` in [0, 1], mixed with the white background
    (opaque: where lines overlap, the top one keeps its head's colour)."""
    colour, t = head_colour(head), min(max(strength, 0.0), 1.0)
    return QColor.fromRgbF(1 - t + t * colour.redF(), 1 - t + t * colour.greenF(),
                           1 - t + t * colour.blueF())

_MARGIN = 8.0
_LEGEND_H = 20.0  # the head colour legend above the columns
_GAP_MIN = 80.0  # the space between the two columns where the lines run
_MIN_ALPHA = 0.02  # lines fainter than this are invisible: not drawing them saves thousands
_BUCKETS = 16  # opacities are rounded to this many levels so one pen draws many lines
_FAINT = 0.12  # how strongly rows other than the query row are drawn
MIN_LABEL_POINTS = 7.5  # smaller text is hard to read: labels are thinned out instead
_HEAD_SPACING = 2.0  # pixels between the ends of different heads' lines at one token


class LinesView(QWidget):
    """Attention as lines from each query token (left) to each key token (right).

    Signals
    -------
    token_clicked(int)
        The row index of a query token clicked in the left column.
    """

    token_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[str] = []
        self._cols: list[str] = []
        self._weights = np.zeros((0, 0, 0))
        self._query_row = 0
        self._requested_head: int | None = None  # as set; may not exist in the data yet
        self._hover: tuple[str, int] | None = None  # ("q", row) or ("k", col) under the mouse
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), QColor("white"))
        self.setPalette(palette)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 360)

    # ----------------------------------------------------------------- public interface

    @property
    def _selected_head(self) -> int | None:
        """The head shown, or None (all heads / the mean) when the requested one does not exist."""
        head, heads = self._requested_head, self._weights.shape[0]
        return head if head is not None and 0 <= head < heads else None

    def set_data(self, row_labels: list[str], col_labels: list[str], weights: np.ndarray,
                 query_row: int) -> None:
        """Show ``weights`` (h, r, n): r query rows against n key columns, for h heads."""
        weights = frozen(weights, ndmin=3)  # the caller may reuse its array: not this one
        self._rows, self._cols = list(row_labels), list(col_labels)
        self._weights = weights
        self._query_row = query_row
        self.update()

    def set_selected_head(self, head: int | None) -> None:
        """Show one head (its colour) or, with None, all heads each in its colour."""
        self._requested_head = head
        self.update()

    def line_alphas(self) -> np.ndarray:
        """Opacity in [0, 1] of every line, shape (h, r, n), as it would be painted now.

        Heads not shown have opacity 0. Used by paintEvent, and by tests and exporters.
        """
        h, r, n = self._weights.shape
        row_strength, col_strength = np.full(r, _FAINT), np.ones(n)
        if self._hover is None:
            if 0 <= self._query_row < r:
                row_strength[self._query_row] = 1.0
        elif self._hover[0] == "q":  # a query: only its lines, to every key
            row_strength[:] = 0.0
            row_strength[self._hover[1]] = 1.0
        else:  # a key: every line into it, at full strength
            row_strength[:] = 1.0
            col_strength[:] = 0.0
            col_strength[self._hover[1]] = 1.0
        alphas = self._weights * row_strength[None, :, None] * col_strength[None, None, :]
        if self._selected_head is not None:
            shown = np.zeros(h)
            shown[self._selected_head] = 1.0
            alphas = alphas * shown[:, None, None]
        return np.clip(alphas, 0.0, 1.0)

    # ----------------------------------------------------------------- geometry

    def _geometry(self) -> tuple[float, float, float, float, QFont]:
        """Row height, top of the first row, right edge of the left column, left of the right."""
        font = QFont(self.font())
        count = max(len(self._rows), len(self._cols), 1)
        row_h = (self.height() - 2 * _MARGIN - _LEGEND_H) / count
        # Shrink the font for long sentences, down to a legible size (then labels are thinned).
        font.setPointSizeF(max(MIN_LABEL_POINTS, min(font.pointSizeF(), row_h * 0.6)))
        metrics = QFontMetricsF(font)
        left_w = max((metrics.horizontalAdvance(t) for t in self._rows), default=0.0)
        right_w = max((metrics.horizontalAdvance(t) for t in self._cols), default=0.0)
        usable = self.width() - 2 * _MARGIN
        if left_w + right_w + _GAP_MIN > usable:  # squeeze the labels, keep room for the lines
            scale = max(usable - _GAP_MIN, 0.0) / max(left_w + right_w, 1.0)
            left_w, right_w = left_w * scale, right_w * scale
        x_left = _MARGIN + left_w + 4
        x_right = self.width() - _MARGIN - right_w - 4
        return row_h, _MARGIN + _LEGEND_H, x_left, x_right, font

    def _hit(self, pos: QPointF) -> tuple[str, int] | None:
        """Which token label (if any) is under ``pos``: ("q", row) or ("k", col)."""
        row_h, top, x_left, x_right, _ = self._geometry()
        if row_h <= 0:
            return None
        index = int((pos.y() - top) // row_h)
        if pos.x() <= x_left and 0 <= index < len(self._rows):
            return ("q", index)
        if pos.x() >= x_right and 0 <= index < len(self._cols):
            return ("k", index)
        return None

    # ----------------------------------------------------------------- painting

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        row_h, top, x_left, x_right, font = self._geometry()
        if self._weights.size and row_h > 0:
            self._paint_lines(painter, row_h, top, x_left, x_right)
        painter.setFont(font)
        self._paint_labels(painter, row_h, top, x_left, x_right)
        self._paint_legend(painter)
        painter.end()

    def _paint_lines(self, painter: QPainter, row_h: float, top: float, x_left: float,
                     x_right: float) -> None:
        """Draw the lines grouped by (strength level, head): one pen per group, weak levels
        first so strong lines lie on top; each head's ends shifted a little from the others'."""
        levels = self._weights_to_buckets(self.line_alphas())  # (h, r, n)
        heads = self._weights.shape[0]
        spacing = min(_HEAD_SPACING, 0.5 * row_h / max(heads, 1))
        ys_left = top + (np.arange(self._weights.shape[1]) + 0.5) * row_h
        ys_right = top + (np.arange(self._weights.shape[2]) + 0.5) * row_h
        for level in np.unique(levels):
            if level == 0:
                continue
            strength = float(level) / _BUCKETS
            for head in range(heads):
                rows, cols = np.nonzero(levels[head] == level)
                if not len(rows):
                    continue
                shift = (head - (heads - 1) / 2) * spacing
                # Antialiased 2 px lines cost much more to raster than 1 px: thin faint ones.
                painter.setPen(QPen(line_colour(head, strength),
                                    2.0 if strength > _FAINT else 1.0))
                painter.drawLines([QLineF(x_left + 2, ys_left[r] + shift, x_right - 2,
                                          ys_right[c] + shift)
                                   for r, c in zip(rows.tolist(), cols.tolist(), strict=True)])

    @staticmethod
    def _weights_to_buckets(alphas: np.ndarray) -> np.ndarray:
        """Opacities as integer levels 0.._BUCKETS; anything under _MIN_ALPHA becomes 0."""
        levels = np.ceil(alphas * _BUCKETS).astype(int)
        levels[alphas < _MIN_ALPHA] = 0
        return levels

    def labelled(self, side: str) -> list[int]:
        """The rows ("q") or columns ("k") whose names are drawn: all when they fit, else every
        k-th, evenly, and always the query's and the hovered one."""
        row_h, *_, font = self._geometry()
        labels = self._rows if side == "q" else self._cols
        step = max(1, math.ceil(QFontMetricsF(font).height() / max(row_h, 1e-9)))
        hover_kind, hover_index = self._hover if self._hover else ("", -1)
        keep = {hover_index} if hover_kind == side else set()
        if side == "q" or self._rows[self._query_row: self._query_row + 1] == \
                self._cols[self._query_row: self._query_row + 1]:
            keep.add(self._query_row)  # in self-attention the query is a key too
        kept = sorted(k for k in keep if 0 <= k < len(labels))
        regular = [i for i in range(0, len(labels), step) if all(abs(i - k) >= step for k in kept)]
        return sorted(set(regular) | set(kept))

    def _paint_labels(self, painter: QPainter, row_h: float, top: float, x_left: float,
                      x_right: float) -> None:
        """Query labels right-aligned on the left, key labels left-aligned on the right."""
        hover_kind, hover_index = self._hover if self._hover else ("", -1)
        metrics = QFontMetricsF(painter.font())
        height = metrics.height()
        for side, labels in (("q", self._rows), ("k", self._cols)):
            for i in self.labelled(side):
                text = labels[i]
                y = top + (i + 0.5) * row_h - max(row_h, height) / 2  # centred, a line high
                if side == "q":
                    rect = QRectF(_MARGIN, y, x_left - _MARGIN - 2, max(row_h, height))
                    align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                else:
                    rect = QRectF(x_right + 2, y, self.width() - _MARGIN - x_right,
                                  max(row_h, height))
                    align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                strong = (side == "q" and i == self._query_row) or (
                    side == hover_kind and i == hover_index)
                if strong:
                    painter.fillRect(rect, QColor("#e8e8e8"))
                painter.setPen(QColor("black") if strong else QColor("#444444"))
                painter.drawText(rect, align, _elided(text, rect.width(), metrics))

    def shown_label(self, side: str, index: int) -> str:
        """The text drawn for label ``index`` of side "q" or "k": the whole name, or its start
        and end around "…" when the column is too narrow (cut, it lost its start or end)."""
        *_, font = self._geometry()
        labels = self._rows if side == "q" else self._cols
        return _elided(labels[index], self._label_width(side), QFontMetricsF(font))

    def _label_width(self, side: str) -> float:
        """The width a label of side "q" or "k" is drawn in (as `_paint_labels` draws it)."""
        _, _, x_left, x_right, _ = self._geometry()
        return x_left - _MARGIN - 2 if side == "q" else self.width() - _MARGIN - x_right

    def label_tooltip(self, pos: QPointF) -> str:
        """The whole name of the label at ``pos`` when it is drawn cut, else ""."""
        hit = self._hit(pos)
        if hit is None:
            return ""
        side, index = hit
        full = (self._rows if side == "q" else self._cols)[index]
        return full if self.shown_label(side, index) != full else ""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:  # a cut label's whole name
            help_event = cast(QHelpEvent, event)
            text = self.label_tooltip(QPointF(help_event.pos()))
            if text:
                QToolTip.showText(help_event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def _paint_legend(self, painter: QPainter) -> None:
        """A coloured square per head above the columns; the selected head alone if one is."""
        heads = self._weights.shape[0]
        shown = range(heads) if self._selected_head is None else [self._selected_head]
        x = _MARGIN
        font = QFont(self.font())
        font.setPointSizeF(8.0)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        labels = [f"head {head + 1}" for head in shown]
        room = self.width() - 2 * _MARGIN
        if sum(23 + metrics.horizontalAdvance(t) for t in labels) > room:  # many heads: "h3"
            labels = [f"h{head + 1}" for head in shown]
        for head, label in zip(shown, labels, strict=True):
            painter.fillRect(QRectF(x, _MARGIN, 10, 10), head_colour(head))
            painter.setPen(QColor("black"))
            painter.drawText(QPointF(x + 13, _MARGIN + 9), label)
            x += 13 + metrics.horizontalAdvance(label) + 10

    # ----------------------------------------------------------------- mouse

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._on_hover_changed(self._hit(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802, ANN001
        self._on_hover_changed(None)
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self._hit(event.position())
        if event.button() == Qt.MouseButton.LeftButton and hit is not None and hit[0] == "q":
            self.token_clicked.emit(hit[1])
        super().mouseReleaseEvent(event)

    def _on_hover_changed(self, hover: tuple[str, int] | None) -> None:
        if hover != self._hover:
            self._hover = hover
            self.update()

    def label_rect(self, side: str, index: int) -> QRectF:
        """Where the label ``index`` of side "q" (left) or "k" (right) is drawn, in pixels."""
        row_h, top, x_left, x_right, _ = self._geometry()
        if side == "q":
            return QRectF(_MARGIN, top + index * row_h, x_left - _MARGIN, row_h)
        return QRectF(x_right, top + index * row_h, self.width() - _MARGIN - x_right, row_h)
