"""The Lessons menu: each worked example of `core.explain.lessons` as a preset, and the input modes.

Opening a lesson replaces the settings with the lesson's (`core.explain.lessons.lesson_settings`:
toy mode for the toy examples, sentence mode on the 2D eat/drink plane for the "I drink water"
ones, the word-vector sentence for "animal ... it"), so the window shows the worked example's
numbers, and shows its explanation above the computation panel, scrolled into sight. Closing
the lesson brings the person's own settings back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenuBar, QScrollArea, QWidget

from core.explain.lessons import LESSONS, Lesson, lesson, lesson_settings
from explorer.commands.actions import window_action
from explorer.views.inputs_view import MODE_TEXT

if TYPE_CHECKING:
    from explorer.commands.edits import Edits
    from explorer.state import ExplorerState
    from explorer.views.computation_dock import ComputationDock
    from explorer.views.status_bar import StatusBar

MODE_KEYS = {"words": "Ctrl+1", "sentences": "Ctrl+2", "toy": "Ctrl+3"}


def open_lesson(state: ExplorerState, dock: ComputationDock, status: StatusBar,
                item: Lesson | str) -> None:
    """Put lesson ``item``'s inputs, weights and settings on screen, with its explanation."""
    item = lesson(item) if isinstance(item, str) else item
    state.enter_lesson(lesson_settings(item, state.settings))
    dock.show_lesson(item)
    dock.show()
    dock.raise_()
    area = dock.widget()
    if isinstance(area, QScrollArea):  # the lesson's text is at the top of the dock
        area.verticalScrollBar().setValue(0)
    status.show_message(f"Lesson: {item.title}")


def close_lesson(state: ExplorerState, dock: ComputationDock, status: StatusBar) -> None:
    """Hide the lesson's text and give the person their own settings back."""
    dock.show_lesson(None)
    if state.leave_lesson():
        status.show_message("Lesson closed: your own settings are back.")


def install_lessons_menu(menu_bar: QMenuBar, owner: QWidget, state: ExplorerState, edits: Edits,
                         dock: ComputationDock, status: StatusBar,
                         ) -> tuple[list[QAction], dict[str, QAction]]:
    """Add "Lessons" (every lesson, Alt+1 ...; the input modes, Ctrl+1/2/3) to ``menu_bar``,
    its actions to ``owner`` (so the keys work anywhere in it); returns the lesson actions and
    the mode actions by mode name."""
    menu = menu_bar.addMenu("&Lessons")
    menu.setToolTipsVisible(True)
    lesson_actions = []
    for number, item in enumerate(LESSONS, start=1):
        lesson_actions.append(window_action(
            owner, item.title, lambda _=False, it=item: open_lesson(state, dock, status, it),
            f"Alt+{number}" if number <= 9 else None, item.explanation, menu))
    close = menu.addAction("Close the lesson")
    close.triggered.connect(lambda: close_lesson(state, dock, status))
    dock.close_lesson.clicked.connect(lambda: close_lesson(state, dock, status))
    menu.addSeparator()
    modes = menu.addMenu("Input &mode")
    group = QActionGroup(owner)
    mode_actions: dict[str, QAction] = {}
    for name, text in MODE_TEXT.items():
        action = window_action(owner, text, lambda _=False, mode=name: edits.switch_mode(mode),
                               MODE_KEYS[name], menu=modes)
        action.setCheckable(True)
        group.addAction(action)
        mode_actions[name] = action
    modes.aboutToShow.connect(lambda: mode_actions[state.settings.mode].setChecked(True))
    return lesson_actions, mode_actions
