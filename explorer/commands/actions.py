"""One way to make a window action: text, shortcut, tooltip, slot, and (optionally) a menu.

Every action is also added to its owner, the main window, so its shortcut works with the menu
bar hidden and while a plot has the focus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

__all__ = ["window_action"]


def window_action(owner: QWidget, text: str, slot: Callable[..., Any],
                  keys: str | QKeySequence | QKeySequence.StandardKey | None = None,
                  tip: str = "", menu: QMenu | None = None) -> QAction:
    """A QAction of ``owner`` that calls ``slot``; in ``menu`` too when one is given."""
    action = QAction(text, owner)
    if keys is not None:
        action.setShortcut(QKeySequence(keys))
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    if menu is not None:
        menu.addAction(action)
    owner.addAction(action)
    return action
