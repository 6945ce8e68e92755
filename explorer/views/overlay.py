"""A translucent sheet over a group of views with one line of text: "updating…" while a long
forward pass runs in the background, so the numbers under it are never taken as current."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt
from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["UpdatingOverlay"]


class UpdatingOverlay(QLabel):
    """Covers ``target`` (following its size and place) while it has a message; hidden
    otherwise. It is a child of ``host``, an ancestor of ``target``: a splitter would take a
    child of its own for one more pane."""

    def __init__(self, target: QWidget, host: QWidget) -> None:
        super().__init__(host)
        self._target = target
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { background: rgba(245, 245, 245, 170); color: #333;"
                           " font-size: 15px; font-weight: bold; }")
        # Clicks go through: the person may pick a head or a token while it computes.
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        target.installEventFilter(self)
        self.hide()

    def set_message(self, message: str | None) -> None:
        """Show ``message`` over the views; None or "" takes the sheet away."""
        if message:
            self.setText(message)
            self._cover()
            self.raise_()
            self.show()
        else:
            self.hide()

    def _cover(self) -> None:
        host = self.parentWidget()
        self.setGeometry(QRect(self._target.mapTo(host, QPoint(0, 0)), self._target.size()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move) and self.isVisible():
            self._cover()
        return super().eventFilter(watched, event)
