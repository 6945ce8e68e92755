"""File > Open model folder… (Ctrl+Alt+O), Use the bundled model, the top bar's source choice
and a folder dropped on the window: a trained model is opened in the background (its first
extraction from the package takes a second or two, with progress), then handed to the state.

A model that fails to open leaves the window as it was: the message names the file and what
is wrong.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

from explorer.commands import dialogs
from explorer.commands.actions import window_action

if TYPE_CHECKING:
    from explorer.background import BackgroundJobs
    from explorer.state import ExplorerState
    from explorer.views.status_bar import StatusBar
    from explorer.views.top_bar import TopBar

MODEL = "model"  # the background job kind
BUNDLED = "the bundled all-MiniLM-L6-v2"


class ModelActions(QObject):
    """Opening trained models for one window.

    Parameters
    ----------
    owner : the main window: the actions' owner and the dialogs' parent.
    state : gets the model (and the source switch).
    jobs : runs the opening in the background.
    top_bar, status : show what is open and the progress.
    cache_dir : where the bundled model is extracted (None: the per-user cache folder).

    Signals
    -------
    opened(object)
        The folder (None: the bundled model) of a model now in the state.
    open_failed(object, str)
        The folder of a model that did not open, and why (already shown to the person).
    """

    opened = Signal(object)
    open_failed = Signal(object, str)

    def __init__(self, owner: QWidget, state: ExplorerState, jobs: BackgroundJobs,
                 top_bar: TopBar, status: StatusBar, cache_dir: str | None = None) -> None:
        super().__init__(owner)
        self._owner, self._state, self._jobs = owner, state, jobs
        self._top_bar, self._status, self._cache_dir = top_bar, status, cache_dir
        self._opening: tuple[str | None, float] | None = None
        self.open_action = window_action(owner, "Open &model folder…", self.open_dialog,
                                         QKeySequence("Ctrl+Alt+O"))
        self.bundled_action = window_action(owner, "Use the &bundled model (all-MiniLM-L6-v2)",
                                            lambda: self.open(None))
        self.vectors_action = window_action(owner, "Use &word vectors",
                                            lambda: self.choose_source("vectors"))
        jobs.finished.connect(self._on_finished)
        jobs.failed.connect(self._on_failed)
        jobs.progress.connect(self._on_progress)

    @property
    def opening(self) -> bool:
        """True while a model is being opened."""
        return self._jobs.busy(MODEL)

    def open(self, path: str | None) -> None:
        """Open the checkpoint folder ``path`` (None: the bundled model) in the background."""
        from core.transformer import load_model

        name = Path(path).name if path else BUNDLED
        self._opening = (path, time.perf_counter())
        self._status.start_progress(f"Opening {name}…")
        self._top_bar.set_loading(f"Opening {name}…", "model")
        cache = self._cache_dir

        def work(progress: Any) -> Any:
            model = load_model(path, cache_dir=cache,
                               progress=lambda done, total: progress(done / max(total, 1)))
            # The latent map's PCA of a model's many points uses SciPy (~0.2 s to import):
            # imported here, off the UI thread, not at the first update.
            import scipy.linalg  # noqa: F401

            return model

        self._jobs.start(MODEL, work)

    @Slot(str)
    def choose_source(self, source: str) -> None:
        """Show word vectors, or the trained model (opened first when none is)."""
        if source == "model" and self._state.transformer is None:
            if not self.opening:
                self.open(self._state.settings.model.path)
            return
        changes = self._state.source_switch(source)
        if changes:
            self._state.update(**changes)

    def ensure_open(self) -> None:
        """Open the model the settings name when they show one and it is not open (a restored
        session, the start of the window)."""
        s = self._state.settings
        model = self._state.transformer
        if s.source != "model" or self.opening:
            return
        if model is None or self._state.transformer_path != s.model.path:
            self.open(s.model.path)

    @Slot()
    def open_dialog(self) -> None:
        path = dialogs.choose_model_folder(self._owner, self._state.settings.model.path or "")
        if path:
            self.open(path)

    @Slot(str, float)
    def _on_progress(self, kind: str, fraction: float) -> None:
        if kind == MODEL:
            self._status.show_progress(fraction)

    @Slot(str, object)
    def _on_finished(self, kind: str, model: Any) -> None:
        if kind != MODEL or self._opening is None:
            return
        path, started = self._opening
        self._opening = None
        self._top_bar.set_model_info(model.config.summary)
        self._state.set_transformer(model, path)
        self._status.stop_progress(
            f"Opened {model.config.summary} in {time.perf_counter() - started:.1f} s")
        self.opened.emit(path)

    @Slot(str, object)
    def _on_failed(self, kind: str, error: Any) -> None:
        if kind != MODEL:
            return
        path = self._opening[0] if self._opening is not None else None
        self._opening = None
        message = str(error) if isinstance(error, ValueError) else \
            f"Could not open the model: {type(error).__name__}: {error}"
        self._status.stop_progress(message, error=True)
        dialogs.show_error(self._owner, "Could not open the model", message)
        if self._state.transformer is not None:
            self._top_bar.set_model_info(self._state.transformer.config.summary)
        else:
            self._top_bar.set_loading("No model opened: Open… a checkpoint folder", "model")
            if self._state.settings.source == "model":  # nothing to show: back to the vectors
                self._state.update(**self._state.source_switch("vectors"))
        self._top_bar.show_source(self._state.settings.source)  # not the model picked there
        self.open_failed.emit(path, message)
