"""File > Export figure… / Export data…, Ctrl+E, and "Export this view…" on every view.

Figures are written by :func:`explorer.export.export_figure` (never by pyqtgraph's exporters,
which fail or open dialogs of their own, see :mod:`explorer.export`), always with
:func:`~explorer.figures.figure_caption` above the view so a figure states its settings.

What can be exported is a dict of *targets* (key -> label, widget): the explorer view (the
central area without the controls: tokens, heatmaps or lines, latent map), the whole window and
each view the window offers with :meth:`ExportActions.add_view`. A view that shows part of
its contents on screen (the computation dock's step table scrolls) draws all of it through its
``figure_source()`` (see :func:`figure_source`). The figure dialog is told the size each view's
file will have, measured on what will be drawn, so the size it states is the size written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPoint, QSize, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QGraphicsView,
    QMenu,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from core.files.atomic import ExportError
from core.files.export_data import export_data
from explorer.commands import dialogs, export_dialogs
from explorer.commands.actions import window_action
from explorer.commands.export_whole import whole_layout
from explorer.controller import FORWARD
from explorer.export import export_figure
from explorer.figures import figure_caption, figure_pixels

if TYPE_CHECKING:
    from core.analysis import Analysis
    from explorer.controller import Controller
    from explorer.state import LastFolder
    from explorer.views.status_bar import StatusBar

EXPLORER = "explorer"
ACROSS = "across"  # the across-layers view: its caption names the rollout or flow
EXPORT_VIEW_TEXT = "Export this view…"
COMPUTATION_LABEL = "How it is computed (the open tab: steps or matrices)"


@contextmanager
def figure_mode(controller: Controller, screen_only: Sequence[QWidget]) -> Iterator[None]:
    """Hide what only helps on screen (``screen_only``: the heatmaps' hover hint, the
    Heatmaps/Lines tab bar), and show the settled state (a figure made mid-drag gets the
    output's own nearest words)."""
    controller.settle()
    hidden = [widget for widget in screen_only if not widget.isHidden()]
    for widget in hidden:
        widget.hide()
    try:
        yield
    finally:
        for widget in hidden:
            widget.show()


@contextmanager
def revealed(widget: QWidget) -> Iterator[None]:
    """Make the tab or stacked page holding ``widget`` current for a moment (else it has no
    up-to-date geometry and cannot be drawn); the previous pages come back afterwards."""
    restore: list[Callable[[], None]] = []
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QStackedWidget) and parent.currentWidget() is not child:
            owner = parent.parentWidget()
            switch: Any = owner if isinstance(owner, QTabWidget) else parent
            previous = switch.currentWidget()
            switch.setCurrentWidget(child)
            restore.append(lambda s=switch, p=previous: s.setCurrentWidget(p))
        child, parent = parent, parent.parentWidget()
    try:
        yield
    finally:
        for undo in reversed(restore):
            undo()


@contextmanager
def figure_source(widget: QWidget) -> Iterator[QWidget]:
    """What is drawn for ``widget``: a view that shows only part of its contents on screen (a
    table that scrolls) offers a ``figure_source()`` context giving a widget with all of it; any
    other widget is drawn as it is."""
    whole = getattr(widget, "figure_source", None)
    if whole is None:
        yield widget
        return
    with whole() as source:
        yield source


class ExportActions(QObject):
    """The export actions of one window, its figure targets and the views' context menus.

    Parameters
    ----------
    owner : the main window: the actions' owner, the dialogs' parent, the "whole window" target.
    controller : whose analysis is exported (settled first).
    status : where a saved file is reported.
    folder : where the file dialogs start, shared with the session actions.
    explorer_view : the explorer view target (tokens, heatmaps or lines, latent map).
    screen_only : widgets hidden while a figure is drawn.
    """

    def __init__(self, owner: QWidget, controller: Controller, status: StatusBar,
                 folder: LastFolder, explorer_view: QWidget,
                 screen_only: Sequence[QWidget] = ()) -> None:
        super().__init__(owner)
        self._owner, self._controller, self._status = owner, controller, status
        self.folder = folder
        self._screen_only = tuple(screen_only)
        self.targets: dict[str, tuple[str, Callable[[], QWidget]]] = {
            EXPLORER: ("Explorer view: tokens, heatmaps, latent map", lambda: explorer_view),
            "window": ("Whole window, with the controls", lambda: owner),
        }
        self.last_suffix = ".png"
        self.last_menu: QMenu | None = None  # the last context menu shown (for tests)
        self.export_figure_action = window_action(
            owner, "Export &figure…", lambda: self.export_figure_dialog(EXPLORER), "Ctrl+E",
            "Save the explorer view (or any view, or the whole window) as PNG, SVG or PDF.")
        self.export_data_action = window_action(
            owner, "Export &data…", self.export_data_dialog, "Ctrl+Shift+E",
            "Save tokens, weights, outputs and the 2D map as JSON, CSV or NPZ.")

    def actions(self) -> list[QAction]:
        return [self.export_figure_action, self.export_data_action]

    # ------------------------------------------------------------------ views
    def add_view(self, key: str, label: str, widget: QWidget,
                 target: Callable[[], QWidget] | None = None) -> None:
        """Offer ``widget`` for export: in the figure dialog and by right-clicking it.

        ``target`` gives the widget actually drawn (default: ``widget`` itself), e.g. a plot
        canvas without the hint line below it.
        """
        self.targets[key] = (label, target or (lambda: widget))
        for receiver in (widget, *widget.findChildren(QGraphicsView)):
            receiver.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            receiver.customContextMenuRequested.connect(
                lambda pos, k=key, r=receiver: self._on_context_menu_requested(k, r, pos))
            scene = receiver.scene() if isinstance(receiver, QGraphicsView) else None
            if scene is not None and isinstance(getattr(scene, "contextMenu", None), list):
                # pyqtgraph's own menu (where a plot enables it): its "Export..." entry would open
                # pyqtgraph's export dialog, whose SVG and PDF export fail; ours replaces it.
                action = QAction(EXPORT_VIEW_TEXT, scene)
                action.triggered.connect(lambda _=False, k=key: self.export_figure_dialog(k))
                scene.contextMenu[:1] = [action]

    def target_widget(self, key: str) -> QWidget:
        return self.targets[key][1]()

    def _on_context_menu_requested(self, key: str, receiver: QWidget, pos: QPoint) -> None:
        if _pyqtgraph_menu_at(receiver, pos):
            return  # pyqtgraph shows its own menu there, with our entry in it
        self.last_menu = menu = QMenu(receiver)
        this = menu.addAction(EXPORT_VIEW_TEXT)
        this.triggered.connect(lambda: self.export_figure_dialog(key))
        whole = menu.addAction("Export the explorer view…")
        whole.triggered.connect(lambda: self.export_figure_dialog(EXPLORER))
        menu.addAction(self.export_data_action)
        origin = receiver.viewport() if isinstance(receiver, QAbstractScrollArea) else receiver
        menu.popup(origin.mapToGlobal(pos))

    # ------------------------------------------------------------------ figures
    @Slot()
    def export_figure_dialog(self, key: str = EXPLORER) -> bool:
        """Ask where to save the view ``key`` (or another one) and save it; True when saved."""
        if not self._can_export():
            return False
        self._controller.settle()  # the caption and sizes of the analysis that will be drawn
        labels = {k: label for k, (label, _) in self.targets.items()}
        start = str(Path(self.folder.path) / f"attention-{key}{self.last_suffix}")
        request = export_dialogs.choose_figure(self._owner, labels, key, start, self.figure_size)
        if request is None:
            return False
        return self.export_target(request.target, request.path, size=request.size,
                                  scale=request.scale)

    def figure_size(self, key: str, scale: float | None = 1.0,
                    size: tuple[int, int] | None = None) -> QSize:
        """The size of the file :meth:`write_figure` makes of view ``key`` (``scale`` None: a
        vector file), measured on what it draws, the caption band included."""
        caption = self._caption(key)
        widget = self.target_widget(key)
        with ExitStack() as stack:
            if key != EXPLORER:
                stack.enter_context(revealed(widget))  # as drawn: its page shown, laid out
            elif size is None:  # laid out as write_figure lays it out: larger, nothing cut off
                stack.enter_context(figure_mode(self._controller, self._screen_only))
                size = stack.enter_context(whole_layout(widget, caption))
                return QSize(*size) if scale is None else QSize(*size) * scale
            source = stack.enter_context(figure_source(widget))
            return figure_pixels(source, caption, size, scale or 1.0, vector=scale is None)

    def export_target(self, key: str, path: str, *, size: tuple[int, int] | None = None,
                      scale: float = 1.0) -> bool:
        """Save the view ``key`` at ``path`` (the suffix picks the format); errors are shown."""
        try:
            self.write_figure(key, path, size=size, scale=scale)
        except ExportError as error:
            dialogs.show_error(self._owner, "Could not export the figure", str(error))
            return False
        self.folder.remember(path)
        self.last_suffix = Path(path).suffix.lower() or self.last_suffix
        self._status.show_message(f"Saved the figure to {path}")
        return True

    def write_figure(self, key: str, path: str, *, size: tuple[int, int] | None = None,
                     scale: float = 1.0) -> None:
        """Save the view ``key`` with the analysis's caption at ``path``.

        Raises
        ------
        ExportError
            Bad suffix, size or scale, a hidden view, or a failed write (the old file is kept).
        """
        widget, title = self.target_widget(key), "Attention Explorer"
        with ExitStack() as stack:
            stack.enter_context(figure_mode(self._controller, self._screen_only))
            if key != EXPLORER:
                stack.enter_context(revealed(widget))
                label = self.targets[key][0]
                if not widget.isVisibleTo(widget.window()) and widget is not widget.window():
                    raise ExportError(f"The view “{label}” is hidden: show it, then export.")
                title = f"Attention Explorer: {label}"
            problem = self._not_current()  # after figure_mode, which computes what is pending
            if problem is not None:
                raise ExportError(problem)
            source = stack.enter_context(figure_source(widget))  # a table: all its rows
            caption = self._caption(key)
            if key == EXPLORER and size is None:  # every head and token: no pager, no scrolling
                width, height = stack.enter_context(whole_layout(source, caption))
                vector = Path(path).suffix.lower() in (".svg", ".pdf")
                size = (width, height) if vector else (round(width * scale),
                                                       round(height * scale))
            export_figure(source, path, caption=caption, title=title, size=size, scale=scale)

    # ------------------------------------------------------------------ data
    @Slot()
    def export_data_dialog(self) -> bool:
        """Ask for a .json/.csv/.npz file and write the current analysis to it."""
        if not self._can_export():
            return False
        start = str(Path(self.folder.path) / "attention.json")
        path = export_dialogs.choose_data_file(self._owner, start)
        return self.export_data_to(path) if path else False

    def export_data_to(self, path: str) -> bool:
        self._controller.settle()  # the output's own nearest words, not the live ones
        analysis = self._shown_analysis()
        if analysis is None or self._not_current() is not None:
            return self._can_export()
        try:
            export_data(analysis, path)
        except ExportError as error:
            dialogs.show_error(self._owner, "Could not export the data", str(error))
            return False
        self.folder.remember(path)
        self._status.show_message(f"Saved the data to {path}")
        return True

    # ------------------------------------------------------------------ helpers
    def _can_export(self) -> bool:
        if self._controller.analysis is None:
            dialogs.show_error(self._owner, "Nothing to export yet",
                               "There is no result to export yet: wait for the vectors to load.")
            return False
        problem = self._not_current()
        if problem is not None:
            dialogs.show_error(self._owner, "Nothing current to export", problem)
            return False
        return True

    def _not_current(self) -> str | None:
        """Why the analysis is not what the settings ask for (None: it is): exporting it then
        would write the previous text's or settings' result as if it were the current one."""
        if self._controller.jobs.busy(FORWARD):
            return ("Still computing: the model is running the new text, and the views show "
                    "the previous one until it is done (see the status bar). Export again then.")
        if self._controller.failing:
            return ("The current settings have no result (the views say why): change them, "
                    "then export.")
        return None

    def _shown_analysis(self) -> Analysis | None:
        """The analysis with the head the views show: focusing a head recomputes nothing, so
        the analysis can be of an earlier focus (a caption said "mean of heads" under the map
        of head 12)."""
        analysis = self._controller.analysis
        if analysis is None:
            return None
        head = self._controller.selected_head(analysis)
        if head == analysis.settings.selected_head:
            return analysis
        return replace(analysis, settings=analysis.settings.updated(selected_head=head))

    def _caption(self, key: str) -> str | None:
        analysis = self._shown_analysis()
        return figure_caption(analysis, key == ACROSS) if analysis is not None else None


def _pyqtgraph_menu_at(receiver: QWidget, pos: QPoint) -> bool:
    """True if a pyqtgraph ViewBox with its menu enabled is under ``pos`` (viewport coords)."""
    if not isinstance(receiver, QGraphicsView):
        return False
    return any(isinstance(item, pg.ViewBox) and item.menuEnabled() for item in receiver.items(pos))
