"""Small helpers the view tests share: show a widget on its own, let Qt catch up."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QWidget


def show_view(qtbot: Any, widget: QWidget, size: tuple[int, int]) -> Any:
    """``widget`` shown offscreen at ``size``, exposed, closed after the test by qtbot."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def settle() -> None:
    """Let the queued layout and paint events run."""
    for _ in range(3):
        QApplication.processEvents()


def click_chip(qtbot: Any, strip: Any, chip: Any,
               button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    """A real mouse click on the middle of one token chip of a token strip."""
    qtbot.mouseClick(strip, button, pos=chip.rect.center())


class PaintCounter(QObject):
    """Counts the paint events ``widget`` receives (``count``)."""

    def __init__(self, widget: QObject) -> None:
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False
