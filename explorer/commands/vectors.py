"""File > Open vectors… (Ctrl+O), Use the default vectors, the top bar's Open… and a file dropped
on the window: word vectors are loaded in the background, then handed to the state.

A pickled file (.kv/.model) is opened only after the person says they trust it, since
unpickling can run any code. While the first vectors load the top bar says so; a remembered file
that is gone falls back to the bundled default set.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

from core.vectors.tokens import lookup_key
from explorer.commands import dialogs
from explorer.commands.actions import window_action
from explorer.loader import LoadedVectors, VocabularyIndex, needs_trust

if TYPE_CHECKING:
    from explorer.controller import Controller
    from explorer.loader import VectorLoader
    from explorer.persistence import Store
    from explorer.state import ExplorerState
    from explorer.views.controls_view import ControlsView
    from explorer.views.status_bar import StatusBar
    from explorer.views.top_bar import TopBar

DEFAULT_NAME = "the default vectors (GloVe 6B 50d)"
NONE_LOADED = "No vectors loaded: Open… some"


class VectorActions(QObject):
    """Loading word vectors for one window.

    Parameters
    ----------
    owner : the main window: the actions' owner and the dialogs' parent.
    state, controller : get the table (and the loader's warmed-up pipeline).
    loader : loads in the background; its signals are connected here, before anyone else's.
    top_bar, controls, status : show what is loaded, the model width, the progress.
    store : remembers the last file (None: nothing is remembered).
    """

    def __init__(self, owner: QWidget, state: ExplorerState, controller: Controller,
                 loader: VectorLoader, top_bar: TopBar, controls: ControlsView,
                 status: StatusBar, store: Store | None) -> None:
        super().__init__(owner)
        self._owner, self._state, self._controller, self._loader = owner, state, controller, loader
        self._top_bar, self._controls, self._status, self._store = top_bar, controls, status, store
        self._trusted = False
        self._unsorted_index: VocabularyIndex | None = None
        self.open_action = window_action(owner, "&Open vectors…", self.open_dialog,
                                         QKeySequence.StandardKey.Open)
        self.default_action = window_action(owner, "Use the &default vectors",
                                            lambda: self.load(None))
        loader.progress.connect(status.show_progress)
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)
        loader.cancelled.connect(self._on_cancelled)
        status.cancel_requested.connect(loader.cancel)
        # The word fields of the controls accept the loaded vocabulary's words; an error about
        # one of them marks it (the top bar marks the sentence and the query).
        controls.set_known_words(self._knows)
        controls.invalid.connect(status.show_error)
        controller.failed.connect(lambda _message, field: controls.mark_error(field))
        controller.updated.connect(lambda _update: controls.mark_error(""))

    def load(self, path: str | None, fmt: str = "auto", trusted: bool = False) -> bool:
        """Start loading ``path`` (None: the bundled default) in the background.

        A pickled file (.kv/.model) is opened only after the person says they trust it.
        Returns False when nothing was started.
        """
        if path is not None and needs_trust(path) and not trusted:
            if not dialogs.ask_trust(self._owner, path):
                self._status.show_message("Not opened: the file was not trusted.")
                return False
            trusted = True
        self._trusted = trusted
        name = Path(path).name if path else DEFAULT_NAME
        self._status.start_progress(f"Loading {name}…")
        if self._state.kv is None:
            self._top_bar.set_loading(f"Loading {name}…", "vectors")
        self._loader.load(path, fmt, trust_pickle=trusted, warm_up=self._state.settings)
        return True

    def set_vectors(self, kv: Any, path: str | None = None,
                    index: VocabularyIndex | None = None) -> None:
        """Use ``kv`` right away (the loader's result, or a table a test made)."""
        index = index if index is not None else VocabularyIndex(kv.index_to_key)
        self._unsorted_index = index  # sorted once the first result is drawn
        self._controls.set_model_width(int(kv.vector_size))
        self._top_bar.set_vectors_info(
            getattr(kv, "source_name", Path(path).name if path else "vectors"),
            len(kv.index_to_key), int(kv.vector_size))
        self._top_bar.set_vocabulary(index)
        self._state.set_vectors(kv, path)
        if self._store is not None:
            self._store.save_last_vectors(path, trusted=self._trusted)

    def _knows(self, word: str) -> bool:
        """True when the loaded vectors have ``word`` (as the pipeline looks words up)."""
        kv = self._state.kv
        return kv is None or lookup_key(kv, word) is not None

    @Slot(object)
    def prepare_completer(self, _update: Any = None) -> None:
        """Sort the completer's words in the background, after the views have their result."""
        if self._unsorted_index is not None:
            self._unsorted_index.prepare()
            self._unsorted_index = None

    @Slot()
    def open_dialog(self) -> None:
        vectors_path = self._state.settings.vectors_path
        start = str(Path(vectors_path).parent) if vectors_path else ""
        path = dialogs.choose_vectors_file(self._owner, start)
        if path:
            self.load(path)

    @Slot(object)
    def _on_loaded(self, result: LoadedVectors) -> None:
        self._controller.adopt(result.pipeline)
        self.set_vectors(result.kv, result.path, result.index)
        warnings = list(getattr(result.kv, "load_warnings", []) or [])
        text = f"Loaded {getattr(result.kv, 'source_name', 'vectors')} in {result.seconds:.1f} s"
        self._status.stop_progress(" · ".join([text, *warnings]))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._status.stop_progress(message, error=True)
        dialogs.show_error(self._owner, "Could not open the word vectors", message)
        if self._state.kv is None and self._state.settings.vectors_path is None:
            self._top_bar.set_loading(NONE_LOADED, "vectors")
        elif self._state.kv is None:  # a remembered file is gone: fall back to the default set
            self._state.update(vectors_path=None)
            self.load(None)

    @Slot()
    def _on_cancelled(self) -> None:
        kv = self._state.kv
        still = f"; still using {getattr(kv, 'source_name', 'the previous vectors')}" if kv else ""
        self._status.stop_progress(f"Loading cancelled{still}.")
        if kv is None:
            self._top_bar.set_loading(NONE_LOADED, "vectors")
