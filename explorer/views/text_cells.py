"""Text widths remembered per text, and the item delegate that paints the dock's table cells.

Why a delegate of our own: Qt's QStyledItemDelegate asks the model for ~8 roles of a cell (each a
Python call into the model) and lays its text out three times (to size it, to elide it and to
draw it) at every paint. A temperature change repaints ~108 cells of the computation dock, which
made the tables the dearest paint of a 12-word update after the two plots. Most cells are plain
text that fits: those are drawn here with one ``drawText`` (on screen, a QStaticText laid out
once: keys and scores come back at every temperature change), exactly where Qt would draw
them (a test compares the pixels); a selected, focused, elided or multi-line cell is left to Qt.
"""

from __future__ import annotations

import math
from typing import Protocol

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QPointF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPaintEngine,
    QPainter,
    QPalette,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

__all__ = ["TextCellDelegate", "TextCells", "TextWidths"]

# Plain ints: Python enum operations cost a microsecond each, ~10 of them per cell.
_LEFT_TO_QT = (QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_HasFocus).value
_COLOUR_STATE = (QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Active).value
_TOP = Qt.AlignmentFlag.AlignTop.value
_LEFT_TOP = Qt.AlignmentFlag.AlignLeft.value | _TOP
_STATIC_LEFT = {_LEFT_TOP, Qt.AlignmentFlag.AlignRight.value | _TOP}  # drawn as static texts
_RASTER = QPaintEngine.Type.Raster
_REMEASURE = (QEvent.Type.StyleChange, QEvent.Type.FontChange, QEvent.Type.PaletteChange)


class TextWidths:
    """How wide texts are in one font (font-metric advances) and, for the screen, the texts laid
    out once (QStaticText), remembered: the same numbers come back update after update as a
    slider moves. Starts again past ``LIMIT`` texts."""

    LIMIT = 4096
    STATIC_LIMIT = 1024

    def __init__(self, font: QFont) -> None:
        self.metrics = QFontMetricsF(font)
        self.font = font
        self._static: dict[str, QStaticText] = {}
        self.line_height = math.ceil(self.metrics.height())  # as QTextLine rounds a line up
        self._known: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        width = self._known.get(text)
        if width is None:
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            width = self._known[text] = self.metrics.horizontalAdvance(text)
        return width

    def static(self, text: str) -> QStaticText:
        """``text`` laid out once in this font (a line's top-left at the point it is drawn at);
        at most ``STATIC_LIMIT`` kept (each holds its glyph positions)."""
        static = self._static.get(text)
        if static is None:
            if len(self._static) >= self.STATIC_LIMIT:
                self._static.clear()
            static = self._static[text] = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(QTransform(), self.font)
        return static


class TextCells(Protocol):
    """What the delegate reads of a cell (`table_model.TextTableModel` gives all four)."""

    def cell_text(self, row: int, col: int) -> str: ...
    def cell_background(self, row: int, col: int) -> QColor | None: ...
    def cell_font(self, row: int, col: int) -> QFont | None: ...
    def cell_alignment(self, row: int, col: int) -> Qt.AlignmentFlag: ...


class TextCellDelegate(QStyledItemDelegate):
    """Paints a cell of ``cells`` shown in ``view`` with one ``drawText`` when its text fits on
    one line and the cell is neither selected nor focused; any other cell the way Qt does.

    Everything a cell's paint needs besides its own text is measured once and kept until the
    view's style, font or palette changes: a paint runs ~100 times per update, and each Qt call
    or enum operation from Python costs about a microsecond.
    """

    def __init__(self, view: QAbstractItemView, cells: TextCells) -> None:
        super().__init__(view)
        self._cells = cells
        self._view = view
        self._fonts: dict[int, tuple[QFont, TextWidths]] = {}  # id of a cell's own font
        self._top_aligned: dict[Qt.AlignmentFlag, int | None] = {}  # see _drawn_alignment
        self._colours: dict[int, QColor] = {}  # enabled and active state bits -> text colour
        self._look: tuple[int, QFont, TextWidths] | None = None  # margin, view font, its widths
        view.installEventFilter(self)  # a new style, font or palette: measure again

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        cells, row, col = self._cells, index.row(), index.column()
        text = cells.cell_text(row, col)
        margin, font, widths = self._look if self._look is not None else self._measure()
        own_font = cells.cell_font(row, col)
        if own_font is not None:
            font, widths = self._own_font(own_font)
        alignment = self._drawn_alignment(cells.cell_alignment(row, col))
        state, rect = option.state.value, option.rect
        x, y, width, height = rect.x(), rect.y(), rect.width(), rect.height()
        if state & _LEFT_TO_QT or alignment is None or "\n" in text or \
                widths(text) > width - 2 * margin:
            super().paint(painter, option, index)
            return
        background = cells.cell_background(row, col)
        if background is not None:
            painter.fillRect(rect, background)
        if not text:
            return
        colour = self._colours.get(state & _COLOUR_STATE)
        if colour is None:
            colour = self._colours[state & _COLOUR_STATE] = _text_colour(option)
        painter.setPen(colour)
        painter.setFont(font)
        # Qt centres the line's whole pixels in the cell with integer arithmetic (QStyle's
        # alignedRect), which can sit a pixel above drawText's own centring.
        line = widths.line_height
        top = y + (height - line) // 2
        if alignment in _STATIC_LEFT and painter.paintEngine().type() == _RASTER:
            # On screen a text shaped once and kept: the keys and the scores come back at
            # every temperature change (a vector file gets real text from drawText).
            left = x + margin if alignment == _LEFT_TOP else x + width - margin - widths(text)
            painter.drawStaticText(QPointF(left, top), widths.static(text))
            return
        painter.drawText(x + margin, top, width - 2 * margin, line, alignment, text)

    def _measure(self) -> tuple[int, QFont, TextWidths]:
        """The style's text margin left and right (its focus-frame margin + 1, as Qt's item
        drawing leaves), the view's font and the widths of texts in it."""
        view = self._view
        margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view)
        font = QFont(view.font())
        self._look = (margin + 1, font, TextWidths(font))
        return self._look

    def widths(self, font: QFont | None = None) -> TextWidths:
        """The widths of texts in ``font`` (a cell's own font, kept by the model), or in the
        view's font: one measurement per text for painting and for fitting the columns."""
        if font is not None:
            return self._own_font(font)[1]
        return (self._look if self._look is not None else self._measure())[2]

    def _own_font(self, font: QFont) -> tuple[QFont, TextWidths]:
        """A cell's own font (the model keeps it: the same object every time) and its widths."""
        known = self._fonts.get(id(font))
        if known is None or known[0] is not font:
            known = self._fonts[id(font)] = (font, TextWidths(font))
        return known

    def _drawn_alignment(self, alignment: Qt.AlignmentFlag) -> int | None:
        """The flags to draw a vertically centred cell's text at the top of its line's box,
        or None for any other vertical alignment (Qt draws those)."""
        drawn = self._top_aligned.get(alignment, -1)
        if drawn == -1:
            centred = bool(alignment & Qt.AlignmentFlag.AlignVCenter)
            drawn = self._top_aligned[alignment] = ((
                alignment & ~Qt.AlignmentFlag.AlignVCenter).value | _TOP) if centred else None
        return drawn

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in _REMEASURE:
            self._fonts.clear()
            self._colours.clear()
            self._look = None
        return False


def _text_colour(option: QStyleOptionViewItem) -> QColor:
    """The colour Qt's style gives an unselected item's text: of the disabled, inactive or
    normal colour group."""
    state = option.state
    group = (QPalette.ColorGroup.Disabled if not state & QStyle.StateFlag.State_Enabled else
             QPalette.ColorGroup.Normal if state & QStyle.StateFlag.State_Active else
             QPalette.ColorGroup.Inactive)
    return QColor(option.palette.color(group, QPalette.ColorRole.Text))
