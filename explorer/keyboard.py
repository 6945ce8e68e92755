"""The arrow keys: Left/Right move the query along the sentence, Up/Down step through the heads
(mean, head 1, ..., head h), and with a trained model Page Up/Page Down step through its layers,
wherever the focus is except in a text field or a spin box.

Plots take the focus when clicked and would swallow the arrows, so :class:`ArrowKeys` sees the
key presses of every view (and its children) first; the window hands it the keys no focused
widget took (``keyPressEvent``). The control panels and docks keep their own arrows (a combo's
Up/Down picks its next entry), but a combo box or a scroll area there would take Page Up/Down
for itself: those panels hand their page keys over too, except from a field one types in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

if TYPE_CHECKING:
    from explorer.commands.edits import Edits
    from explorer.controller import Controller
    from explorer.state import ExplorerState

ARROWS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down)
PAGES = (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)


class ArrowKeys(QObject):
    """Arrow keys on ``views`` -> the query and the shown head, through ``edits``."""

    def __init__(self, state: ExplorerState, controller: Controller, edits: Edits,
                 views: Sequence[QWidget], parent: QObject | None = None,
                 panels: Sequence[QWidget] = ()) -> None:
        super().__init__(parent)
        self._state, self._controller, self._edits = state, controller, edits
        self._panel_widgets: set[QObject] = set()  # these hand over only their page keys
        for view in views:
            for widget in (view, *view.findChildren(QWidget)):
                widget.installEventFilter(self)
        for panel in panels:
            for widget in (panel, *panel.findChildren(QWidget)):
                if not _typed_into(widget):
                    self._panel_widgets.add(widget)
                    widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if watched in self._panel_widgets and (event.key() not in PAGES
                                                   or QApplication.activePopupWidget()):
                return super().eventFilter(watched, event)  # its own key (or an open list's)
            if self.handle(event):
                return True
        return super().eventFilter(watched, event)

    def handle(self, event: QKeyEvent) -> bool:
        """Act on an unmodified arrow or page key; False for any other key (left to Qt)."""
        if event.key() not in ARROWS + PAGES or \
                event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if event.key() in PAGES:
            if self._state.settings.source != "model":
                return False  # the page keys keep their usual meaning (scrolling) elsewhere
            self._edits.step_layer(1 if event.key() == Qt.Key.Key_PageDown else -1)
        elif event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.move_query(1 if event.key() == Qt.Key.Key_Right else -1)
        else:
            self.step_head(1 if event.key() == Qt.Key.Key_Down else -1)
        return True

    def move_query(self, step: int) -> None:
        """Move the query ``step`` tokens along the sentence (an outside word enters at an end)."""
        a = self._controller.analysis
        if a is None or not a.col_labels or self._controller.failing:
            return  # the tokens of older settings are not there to step through
        # From the settings, not the analysis: keys pressed within one frame must all count.
        s = self._state.settings
        position = s.query_index if s.query_index is not None else a.query.position
        n = len(a.col_labels)
        if position is None:
            target = 0 if step > 0 else n - 1
        else:
            target = min(max(position + step, 0), n - 1)
        self._edits.select_query_position(target)

    def step_head(self, step: int) -> None:
        """Step through "mean, head 1, ..., head h" (Down = next, Up = previous)."""
        choices: list[int | None] = [None, *range(self._state.settings.n_heads)]
        index = choices.index(self._state.settings.selected_head) + step
        self._edits.select_head(choices[min(max(index, 0), len(choices) - 1)])


def _typed_into(widget: QWidget) -> bool:
    """A field one types in (its page keys move its cursor or step its value)."""
    if isinstance(widget, QLineEdit | QAbstractSpinBox):
        return True
    return isinstance(widget, QPlainTextEdit | QTextEdit) and not widget.isReadOnly()
