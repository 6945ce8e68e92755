"""A translucent sheet over a group of views with one line of text: "updating…" while a long
forward pass runs in the background, or "No result: …" while the settings cannot be computed,
so the numbers under it are never taken as current."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt
from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["NoResultOverlay", "NoResultSheets", "UpdatingOverlay"]


class UpdatingOverlay(QLabel):
    """Covers ``target`` (following its size and place) while it has a message; hidden
    otherwise. It is a child of ``host``, an ancestor of ``target``: a splitter would take a
    child of its own for one more pane."""

    STYLE = ("QLabel { background: rgba(245, 245, 245, 170); color: #333;"
             " font-size: 15px; font-weight: bold; }")

    def __init__(self, target: QWidget, host: QWidget) -> None:
        super().__init__(host)
        self._target = target
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet(self.STYLE)
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


class NoResultOverlay(UpdatingOverlay):
    """An almost opaque grey sheet: the settings were refused, so what is under it belongs to
    older settings and must not be read, nor clicked (a token of the old sentence, a cell of
    the old weights) or pointed at (the heatmaps' readout of old numbers)."""

    STYLE = ("QLabel { background: rgba(225, 225, 225, 235); color: #8a0015;"
             " font-size: 14px; font-weight: bold; padding: 8px; }")

    def __init__(self, target: QWidget) -> None:
        super().__init__(target, target)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        # A QLabel passes the mouse on to its parent, the covered view itself (the token strip
        # would take a click on an old token): the sheet keeps it.
        self.setAttribute(Qt.WidgetAttribute.WA_NoMousePropagation, True)


class NoResultSheets:
    """One :class:`NoResultOverlay` over each of some views, shown and hidden together."""

    def __init__(self, views: list[object]) -> None:
        self._sheets = [NoResultOverlay(v) for v in views if isinstance(v, QWidget)]

    def cover(self, widget: QWidget) -> None:
        """Cover ``widget`` too."""
        self._sheets.append(NoResultOverlay(widget))

    def set_message(self, message: str | None) -> None:
        """"No result: ``message``" over every view; None takes the sheets away."""
        for sheet in self._sheets:
            sheet.set_message(message and f"No result: {message}")

