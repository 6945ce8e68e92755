"""A layout that places its widgets left to right and wraps them onto new lines, like words."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget

__all__ = ["SPACING", "FlowLayout"]

SPACING = 4
"""Pixels between neighbouring widgets, and between lines."""

# A run laid out as one (a word's pieces): its items, their size hints and their widths, and
# the run's width and height, as plain ints (a walk over 512 chips then calls no Qt method).
_Run = tuple[list[QLayoutItem], list[QSize], list[int], int, int]


class FlowLayout(QLayout):
    """Lays its widgets out left to right and wraps them onto new lines, like words in text."""

    def __init__(self, parent: QWidget | None = None, spacing: int = SPACING) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        # Qt asks heightForWidth many times per layout pass (40 times for one new sentence in
        # a scroll area), each a walk over every chip: answered once per width until a change.
        self._heights: dict[int, int] = {}
        self._minimum: QSize | None = None  # likewise (24 walks over 512 chips: ~0.1 s)
        self._adding = False  # within add_widgets (see there)
        # Each run's items and size hints, and the rect the items were last placed in: a
        # layout pass at 512 chips walked them 3 times (7 ms each), placing them twice alike.
        self._runs: list[_Run] | None = None
        self._placed: QRect | None = None
        self.setContentsMargins(4, 4, 4, 4)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt override)
        self._items.append(item)
        self._forget_sizes()

    def add_widgets(self, widgets: list[QWidget]) -> None:
        """Append ``widgets``, children of the layout's own widget already, in one step.

        QLayout.addWidget first looks for the widget among every item, through ``itemAt`` (in
        Python here), so adding n chips one by one made n^2 / 2 calls: 55 ms for 480 chips.
        A child of the layout's widget is in no other layout, so the search is skipped: the
        items are hidden from it. (Building the items ourselves would lose Qt's QWidgetItemV2,
        which caches each chip's size hint; without it a layout pass asks 512 chips in Python.)
        """
        self._adding = True
        try:
            for widget in widgets:
                self.addWidget(widget)
        finally:
            self._adding = False

    def take_widgets_from(self, index: int) -> list[QWidget]:
        """Remove the items from ``index`` on and return their widgets (still children of the
        layout's widget, to hide or reuse); what n removeWidget calls do, without their n^2.

        Each item is deleted, as removeWidget does: Qt made it (a QWidgetItemV2) and a widget
        whose old item still lives gets an uncached one when added again.
        """
        items = self._items[index:]
        del self._items[index:]
        widgets = [w for w in (item.widget() for item in items) if w is not None]
        for item in items:
            shiboken6.delete(item)
        self.invalidate()
        return widgets

    def invalidate(self) -> None:
        self._forget_sizes()
        super().invalidate()

    def _forget_sizes(self) -> None:
        self._heights.clear()
        self._minimum = None
        self._runs = None
        self._placed = None

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        if self._adding:
            return None
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        self._forget_sizes()
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        if width not in self._heights:
            self._heights[width] = self._do_layout(QRect(0, 0, width, 0), move=False)
        return self._heights[width]

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        if rect != self._placed:  # nothing changed since the last placing: they are there
            self._do_layout(rect, move=True)
            self._placed = QRect(rect)

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802
        if self._minimum is None:
            self._minimum = self._measure_minimum()
        return QSize(self._minimum)

    def _measure_minimum(self) -> QSize:
        width = height = 0
        for _, _, _, run_width, run_height in self._sized_runs():  # a word stays on one line
            width, height = max(width, run_width), max(height, run_height)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def _sized_runs(self) -> list[_Run]:
        """The items in runs that are laid out as one, a word's pieces (``joined_left``), each
        with its items' size hints (a chip's minimum is its hint)."""
        if self._runs is None:
            groups: list[tuple[list[QLayoutItem], list[QSize]]] = []
            for item in self._items:
                if groups and getattr(item.widget(), "joined_left", False):
                    groups[-1][0].append(item)
                    groups[-1][1].append(item.sizeHint())
                else:
                    groups.append(([item], [item.sizeHint()]))
            runs: list[_Run] = []
            for items, hints in groups:
                widths = [hint.width() for hint in hints]
                runs.append((items, hints, widths, sum(widths), max(h.height() for h in hints)))
            self._runs = runs
        return self._runs

    def _do_layout(self, rect: QRect, move: bool) -> int:
        """Place (or just measure, when ``move`` is False) the items; return the height used."""
        m = self.contentsMargins()
        left, right = rect.x() + m.left(), rect.right() - m.right()
        x, y, line_height = left, rect.y() + m.top(), 0
        for items, hints, widths, width, height in self._sized_runs():
            if x + width > right and line_height > 0:  # wrap before a word that overflows
                x, y, line_height = left, y + line_height + self._spacing, 0
            if move:  # a word's pieces touch
                for item, hint, w in zip(items, hints, widths, strict=True):
                    item.setGeometry(QRect(QPoint(x, y), hint))
                    x += w
            else:
                x += width
            line_height = max(line_height, height)
            x += self._spacing
        return y + line_height - rect.y() + m.bottom()
