"""The Lessons menu: each worked example of `core.explain.lessons` as a preset, and the input modes.

Opening a lesson replaces the settings with the lesson's (`core.inputs.lesson_settings`: toy mode
for the toy examples, sentence mode on the 2D eat/drink plane for the "I drink water" ones, the
word-vector sentence for "animal ... it"), so the window shows the worked example's numbers, and
shows its explanation above the computation panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu

from core.explain.lessons import LESSONS, Lesson, lesson, lesson_settings
from explorer.commands.actions import window_action
from explorer.views.inputs_view import MODE_TEXT

if TYPE_CHECKING:
    from explorer.main_window import MainWindow
    from explorer.views.computation_dock import ComputationWiring

MODE_KEYS = {"words": "Ctrl+1", "sentences": "Ctrl+2", "toy": "Ctrl+3"}


def open_lesson(window: MainWindow, wiring: ComputationWiring, item: Lesson | str) -> None:
    """Put lesson ``item``'s inputs, weights and settings on screen, with its explanation."""
    item = lesson(item) if isinstance(item, str) else item
    wiring.remember_words_query()
    with window.state.batch():
        window.state.set_inspected_col(None)
        window.state.set_settings(lesson_settings(item, window.state.settings))
    wiring.dock.show_lesson(item)
    wiring.dock.show()
    wiring.dock.raise_()
    window.status.show_message(f"Lesson: {item.title}")


def install_lessons_menu(window: MainWindow, wiring: ComputationWiring) -> QMenu:
    """Add "Lessons" (every lesson, Alt+1 ...; the input modes, Ctrl+1/2/3) to the menu bar,
    and the two docks' show/hide actions to the View menu."""
    menu = window.menuBar().addMenu("&Lessons")
    menu.setToolTipsVisible(True)
    for number, item in enumerate(LESSONS, start=1):
        action = window_action(window, item.title,
                               lambda _=False, it=item: open_lesson(window, wiring, it),
                               f"Alt+{number}" if number <= 9 else None, item.explanation, menu)
        wiring.lesson_actions.append(action)
    close = menu.addAction("Close the lesson text")
    close.triggered.connect(lambda: wiring.dock.show_lesson(None))
    menu.addSeparator()
    modes = menu.addMenu("Input &mode")
    group = QActionGroup(window)
    for name, text in MODE_TEXT.items():
        action = window_action(window, text, lambda _=False, mode=name: wiring.set_mode(mode),
                               MODE_KEYS[name], menu=modes)
        action.setCheckable(True)
        group.addAction(action)
        wiring.mode_actions[name] = action
    modes.aboutToShow.connect(
        lambda: wiring.mode_actions[window.state.settings.mode].setChecked(True))
    for bar_menu in window.menuBar().findChildren(QMenu):
        if bar_menu.title() == "&View":
            bar_menu.addAction(wiring.dock.toggleViewAction())
            bar_menu.addAction(wiring.inputs.toggleViewAction())
            break
    return menu
