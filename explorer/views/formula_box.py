"""The computation dock's title and formulas: one read-only text box, as tall as they need.

Not word-wrapped QLabels: their height follows their text, so every new temperature re-laid out
and repainted the whole dock (four full passes per update). This box changes its height only in
whole lines, between ``MIN_LINES`` and ``MAX_LINES`` (beyond that it scrolls): a new text makes
it grow when it needs more lines, never shrink (stepping layers, the formulas wrap to 10 or 11
lines in turn: a box following them laid out and repainted the whole dock at every step, 6 ms),
and a new width fits it to the text exactly.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QFrame, QTextBrowser, QWidget

__all__ = ["MAX_LINES", "MIN_LINES", "FormulaBox"]

MIN_LINES = 10  # title, note, six formulas and their usual wraps at 1400 px
MAX_LINES = 16  # taller would squeeze the key-by-key table under it to a row or two


class FormulaBox(QTextBrowser):
    """A read-only rich-text box whose height is its text's, in whole lines, within bounds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setOpenLinks(False)
        # Opaque, in the panel's own colour: a transparent box made Qt repaint every widget
        # behind it (six of them, the tab widget's frame included) whenever its text changed.
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, palette.color(QPalette.ColorRole.Window))
        self.setPalette(palette)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._lines = 0
        self._fit(MIN_LINES)
        self.setHtml("No computation yet.")

    def show_html(self, markup: str) -> None:
        """Show ``markup``, growing to the lines it needs at this width (see the module doc)."""
        self.setHtml(markup)
        self._fit(max(self._lines_needed(), self._lines))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():  # the text wraps anew
            self._fit(self._lines_needed())

    def _lines_needed(self) -> int:
        """Whole lines of the text laid out at the box's width (the document's own margins,
        top and bottom, are the box's 8 extra pixels, not a line)."""
        document = self.document()
        height = document.size().height() - 2 * document.documentMargin()  # at this width
        return math.ceil(height / self.fontMetrics().lineSpacing() - 0.01)

    def _fit(self, lines: int) -> None:
        lines = min(max(lines, MIN_LINES), MAX_LINES)
        if lines != self._lines:  # the same height: no layout of the dock at all
            self._lines = lines
            self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 8)
