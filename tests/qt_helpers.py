"""Small helpers the view tests share: show a widget on its own, let Qt catch up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QWidget

TINY_BERT = str(Path(__file__).parent / "data" / "transformer" / "tiny-bert")
"""A tiny random BERT checkpoint (tests/data/transformer): opens in milliseconds."""


def open_tiny_model(window: Any, qtbot: Any, text: str | None = None) -> None:
    """File > Open model folder… on the tiny BERT, waited for; then ``text`` (if given) with
    "it" as the query, computed at once."""
    with qtbot.waitSignal(window.state.changed, timeout=20000,
                          check_params_cb=lambda names: "transformer" in names):
        window.models.open(TINY_BERT)
    if text is not None:
        window.apply(sentence=text, query="it")
    window.controller.flush()


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
