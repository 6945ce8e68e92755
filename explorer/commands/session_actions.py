"""File > Open session… (Ctrl+Shift+O), Save session (Ctrl+S), Save session as… (Ctrl+Shift+S).

A session (:mod:`core.files.session`, versioned JSON, written atomically) holds everything a person
set: the settings (vectors file, sentence, query, every control, the selected head, the
projection) plus the view state kept here: the current tab of each tab widget (named by its
tab titles), the splitter sizes, which docks are shown and the inspected key column.

Opening checks the whole file first: a malformed file, or one from a newer version, is reported
with :func:`explorer.commands.dialogs.show_error` and changes nothing. A session naming other
vectors than the loaded ones loads them through the window's normal background loader, and the
settings are applied when they arrive (not at all if the load fails or is cancelled). A session
showing a trained model other than the open one opens that model first, in the background, the
same way: a model folder that is missing or broken leaves the settings and the model on screen
as they were, and the message names the folder and what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QSplitter, QTabWidget, QWidget

from core.files.atomic import ExportError
from core.files.session import (
    SESSION_SUFFIX,
    SessionError,
    load_session,
    referenced_file_problem,
    save_session,
)
from core.settings import Settings
from explorer.commands import dialogs, export_dialogs
from explorer.commands.actions import window_action

if TYPE_CHECKING:
    from explorer.commands.model_actions import ModelActions
    from explorer.loader import LoadedVectors, VectorLoader
    from explorer.state import ExplorerState, LastFolder
    from explorer.views.status_bar import StatusBar

APP_TITLE = "Attention Explorer"


class SessionActions(QObject):
    """Saving and opening sessions for one window.

    Parameters
    ----------
    owner : the main window: the actions' owner, the dialogs' parent, whose title names the
        session and whose tabs and docks are part of it.
    state : the settings and the inspected key saved and restored.
    loader, load_vectors : the background vector loader and how to start it (a session's
        vectors load like any others); ``load_vectors(path, fmt)`` returns False when nothing
        was started.
    status : where an opened or saved session is reported.
    folder : where the file dialogs start, shared with the export actions.
    splitters : the splitters whose sizes a session keeps, by the name saved for each.
    models : opens a session's trained model before its settings are applied (None: sessions
        are applied without opening one).
    """

    def __init__(self, owner: QWidget, state: ExplorerState, loader: VectorLoader,
                 load_vectors: Callable[[str | None, str], bool], status: StatusBar,
                 folder: LastFolder, splitters: Mapping[str, QSplitter],
                 models: ModelActions | None = None) -> None:
        super().__init__(owner)
        self._owner, self._state, self._status = owner, state, status
        self._load_vectors = load_vectors
        self._models = models
        self.folder = folder
        self._splitters = dict(splitters)
        self.path: str | None = None  # the session file last opened or saved
        # A session waiting for its vectors, then (``_model_wait``) for its model to open.
        self._pending: tuple[str, Settings, dict[str, Any]] | None = None
        self._model_wait = False
        if models is not None:
            models.opened.connect(self._on_model_opened)
            models.open_failed.connect(self._on_model_not_opened)
        self.open_action = window_action(owner, "&Open session…", self.open_dialog,
                                         "Ctrl+Shift+O")
        self.save_action = window_action(owner, "&Save session", self.save, "Ctrl+S")
        self.save_as_action = window_action(owner, "Save session &as…", self.save_as,
                                            "Ctrl+Shift+S")
        # Connected after the window's own slots, so the vectors are in the state when we run.
        loader.loaded.connect(self._on_vectors_loaded)
        loader.failed.connect(self._on_vectors_not_loaded)
        loader.cancelled.connect(self._on_vectors_not_loaded)

    def actions(self) -> list[QAction]:
        return [self.open_action, self.save_action, self.save_as_action]

    @property
    def waiting(self) -> bool:
        """True while an opened session waits for its vectors to load (or its model to open)."""
        return self._pending is not None

    # ------------------------------------------------------------------ saving
    @Slot()
    def save(self) -> bool:
        """Save to the current session file, or ask for one (Save as) if there is none yet."""
        return self.save_to(self.path) if self.path else self.save_as()

    @Slot()
    def save_as(self) -> bool:
        path = export_dialogs.choose_session_to_save(self._owner, self._start("session"))
        return self.save_to(path) if path else False

    def save_to(self, path: str) -> bool:
        """Write the session to ``path`` (atomically); errors are shown, True when saved."""
        view = view_state(self._owner, self._splitters, self._state.inspected_col)
        try:
            save_session(path, self._state.settings, view)
        except (ExportError, SessionError) as error:
            dialogs.show_error(self._owner, "Could not save the session", str(error))
            return False
        self.set_path(path)
        self._status.show_message(f"Saved the session to {path}")
        return True

    # ------------------------------------------------------------------ opening
    @Slot()
    def open_dialog(self) -> bool:
        path = export_dialogs.choose_session_to_open(self._owner, self._start(""))
        return self.open(path) if path else False

    def open(self, path: str) -> bool:
        """Open the session at ``path``; False (and nothing changed) when it cannot be used.

        Returns True when the settings were applied or are waiting for their vectors to load.
        """
        try:
            settings, view = load_session(path)
        except SessionError as error:
            dialogs.show_error(self._owner, "Could not open the session", str(error))
            return False
        state = self._state
        loaded = state.kv is not None and settings.vectors_path == state.settings.vectors_path
        problem = referenced_file_problem(settings, Path(path).name, vectors_loaded=loaded)
        if problem is not None:
            dialogs.show_error(self._owner, "Could not open the session", problem)
            return False
        self._pending, self._model_wait = (path, settings, view), False
        if loaded:
            self._open_model_or_apply()
            return True
        if not self._load_vectors(settings.vectors_path, settings.vectors_format):
            self._pending = None  # a pickled file the person did not trust
            return False
        return True

    def _open_model_or_apply(self) -> None:
        """Apply the pending session, once the trained model it shows is the one open."""
        assert self._pending is not None
        model = self._pending[1].model
        needs_model = self._pending[1].source == "model" and self._models is not None and (
            self._state.transformer is None or self._state.transformer_path != model.path)
        if needs_model and self._models is not None:
            self._model_wait = True
            self._models.open(model.path)
            return
        pending, self._pending = self._pending, None
        self._apply(*pending)

    @Slot(object)
    def _on_vectors_loaded(self, result: LoadedVectors) -> None:
        if self._pending is None or self._model_wait:
            return
        if result.path == self._pending[1].vectors_path:
            self._open_model_or_apply()
        else:
            self._pending = None  # other vectors were opened meanwhile: they win

    @Slot()
    def _on_vectors_not_loaded(self, *_: Any) -> None:
        if self._pending is not None and not self._model_wait:
            self._not_opened("its word vectors did not load")

    @Slot(object)
    def _on_model_opened(self, folder: str | None) -> None:
        if self._pending is not None and self._model_wait:
            if folder == self._pending[1].model.path:
                self._model_wait = False
                self._open_model_or_apply()
            else:
                self._pending = None  # another model was opened meanwhile: it wins

    @Slot(object, str)
    def _on_model_not_opened(self, folder: str | None, why: str) -> None:
        if self._pending is not None and self._model_wait:
            self._not_opened(f"its model {folder or 'the bundled model'} did not open: {why}")

    def _not_opened(self, why: str) -> None:
        """Say the pending session was left unopened (its settings were not applied)."""
        assert self._pending is not None
        name = Path(self._pending[0]).name
        self._pending, self._model_wait = None, False
        self._status.show_message(f"Session {name} not opened: {why}", error=True)

    def _apply(self, path: str, settings: Settings, view: dict[str, Any]) -> None:
        self._state.set_settings(settings)
        col = apply_view_state(self._owner, self._splitters, view)
        if col is not None:
            self._state.set_inspected_col(col)
        self.set_path(path)
        self._status.show_message(f"Opened the session {path}")

    # ------------------------------------------------------------------ helpers
    def set_path(self, path: str) -> None:
        self.path = path
        self._owner.setWindowTitle(f"{Path(path).name} – {APP_TITLE}")
        self.folder.remember(path)

    def _start(self, stem: str) -> str:
        if self.path:
            return self.path
        folder = self.folder.path
        return str(Path(folder) / f"{stem}{SESSION_SUFFIX}") if stem else folder


# ---------------------------------------------------------------------- view state


def _tab_widgets(root: QWidget) -> dict[str, QTabWidget]:
    """Every tab widget in ``root`` (docks added later too), named by its tab titles."""
    return {"|".join(tabs.tabText(i) for i in range(tabs.count())): tabs
            for tabs in root.findChildren(QTabWidget) if tabs.count()}


def _tab_widget_named(widgets: dict[str, QTabWidget], name: str) -> QTabWidget | None:
    """The tab widget a saved name means: the same titles, or (a session saved before tabs
    were added) the same first title."""
    if name in widgets:
        return widgets[name]
    first = name.split("|")[0]
    return next((tabs for key, tabs in widgets.items() if key.split("|")[0] == first), None)


def _docks(root: QWidget) -> dict[str, QDockWidget]:
    return {dock.objectName(): dock for dock in root.findChildren(QDockWidget)
            if dock.objectName()}


def view_state(root: QWidget, splitters: Mapping[str, QSplitter],
               inspected_col: int | None) -> dict[str, Any]:
    """What the window ``root`` shows beyond the settings, as JSON-ready data."""
    return {
        "tabs": {name: tabs.tabText(tabs.currentIndex())
                 for name, tabs in _tab_widgets(root).items()},
        "splitters": {name: [int(s) for s in splitter.sizes()]
                      for name, splitter in splitters.items()},
        "docks": {name: not dock.isHidden() for name, dock in _docks(root).items()},
        "inspected_col": inspected_col,
    }


def apply_view_state(root: QWidget, splitters: Mapping[str, QSplitter],
                     view: dict[str, Any]) -> int | None:
    """Restore :func:`view_state` in ``root``; unknown names and values that no longer fit are
    skipped. Returns the saved inspected key column (None when there is none that fits)."""
    tab_widgets = _tab_widgets(root)
    for name, text in _dict(view.get("tabs")).items():
        tabs = _tab_widget_named(tab_widgets, str(name))
        titles = [] if tabs is None else [tabs.tabText(i) for i in range(tabs.count())]
        if tabs is not None and text in titles and tabs.isTabVisible(titles.index(text)):
            tabs.setCurrentIndex(titles.index(text))
    for name, sizes in _dict(view.get("splitters")).items():
        splitter = splitters.get(name)
        ok = isinstance(sizes, list) and all(isinstance(s, int) and s >= 0 for s in sizes)
        if splitter is not None and ok and len(sizes) == splitter.count() and sum(sizes) > 0:
            splitter.setSizes(sizes)
    docks = _docks(root)
    for name, shown in _dict(view.get("docks")).items():
        if name in docks and isinstance(shown, bool):
            docks[name].setVisible(shown)
    col = view.get("inspected_col")
    ok = isinstance(col, int) and not isinstance(col, bool) and col >= 0
    return col if ok else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
