"""The top bar's "**GloVe 6B 50d** · 400,000 words · 50 dims": a rich-text label that ends in
"…" when its row is too narrow (QLabel cuts rich text mid-letter, and cannot elide it)."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["SourceLabel"]


class SourceLabel(QLabel):
    """A bold name and a plain rest; in a narrow row the rest is cut with "…" (then the name),
    and the tooltip holds the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name, self._rest = "", text
        self._fit()

    def set_parts(self, name: str, rest: str = "") -> None:
        """Show ``name`` in bold, then ``rest`` (e.g. " · 400,000 words · 50 dims")."""
        if (name, rest) != (self._name, self._rest):
            self._name, self._rest = name, rest
            self._fit()

    def text(self) -> str:  # noqa: D102 (the whole text, as set: "<b>name</b> rest")
        return _markup(self._name, self._rest)

    def whole_text(self) -> str:
        """The text as plain characters, uncut."""
        return self._name + self._rest

    def shown_text(self) -> str:
        """What is drawn, as plain characters ("…" where it was cut)."""
        return html.unescape(super().text().replace("<b>", "").replace("</b>", ""))

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override): the whole text's width
        bold, plain = self._metrics()
        margins = self.contentsMargins()
        width = bold.horizontalAdvance(self._name) + plain.horizontalAdvance(self._rest) + \
            margins.left() + margins.right() + 2
        return QSize(width, super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def _metrics(self) -> tuple[QFontMetrics, QFontMetrics]:
        bold = QFont(self.font())
        bold.setBold(True)
        return QFontMetrics(bold), self.fontMetrics()

    def _fit(self) -> None:
        width = self.contentsRect().width() - 2
        bold, plain = self._metrics()
        name, rest = self._name, self._rest
        if width > 0 and bold.horizontalAdvance(name) + plain.horizontalAdvance(rest) > width:
            room = width - bold.horizontalAdvance(name)
            if room >= plain.horizontalAdvance("…"):  # the name whole, the rest cut
                rest = plain.elidedText(rest, Qt.TextElideMode.ElideRight, room)
            else:  # not even the name fits: cut it, drop the rest
                name, rest = bold.elidedText(name, Qt.TextElideMode.ElideRight, width), ""
        self.setText(_markup(name, rest))
        self.setToolTip(self.whole_text())


def _markup(name: str, rest: str) -> str:
    return (f"<b>{html.escape(name)}</b>" if name else "") + html.escape(rest)
