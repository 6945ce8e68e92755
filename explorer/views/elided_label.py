"""A one-line label that ends in "…" when its text does not fit (QLabel cuts it mid-letter)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """Plain text on one line, cut at the right with "…" in a narrow window, when the whole
    text becomes the tooltip. It asks for no width of its own, so a long hint never widens its
    row (which squeezed the views beside it). The shown text stays selectable."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._full = ""
        self._own_tooltip = ""
        self.setText(text)

    def text(self) -> str:  # noqa: D102 (the whole text, as set)
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        if text == self._full:  # already shown (and elided for this width: resizes re-elide)
            return
        self._full = text
        self._elide()

    def setToolTip(self, text: str) -> None:  # noqa: N802 (Qt override)
        self._own_tooltip = text
        self._elide()

    def shown_text(self) -> str:
        """What is drawn: the text, or its start and "…" when the label is too narrow."""
        return super().text()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + \
            margins.right() + 2 * self.margin() + 2  # the whole text, not the cut one
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = (self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
                 if width > 0 else self._full)
        super().setText(shown)
        super().setToolTip(self._full if shown != self._full else self._own_tooltip)
