"""A label whose lines end in "…" when they do not fit (QLabel cuts them mid-letter)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """Plain text, each line cut at the right with "…" in a narrow window, when the whole
    text (and the label's own tooltip under it) becomes the tooltip. It asks for no width of
    its own, so a long hint never widens its row (which squeezed the views beside it). The
    shown text stays selectable."""

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
        widest = max(self.fontMetrics().horizontalAdvance(line) for line in
                     self._full.split("\n"))
        width = widest + margins.left() + \
            margins.right() + 2 * self.margin() + 2  # the whole text, not the cut one
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width, metrics = self.contentsRect().width(), self.fontMetrics()
        shown = "\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
                          for line in self._full.split("\n")) if width > 0 else self._full
        super().setText(shown)
        if shown == self._full:
            super().setToolTip(self._own_tooltip)
        else:  # the whole text first: it is what the person could not read
            own = self._own_tooltip if self._own_tooltip != self._full else ""
            super().setToolTip("\n\n".join(t for t in (self._full, own) if t))
