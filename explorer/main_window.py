"""The explorer window, the composition root: builds every part and connects them.

Data flows one way: widgets -> :class:`ExplorerState` -> :class:`Controller` -> views' ``set_*``.
What the person does reaches the state through the commands (:mod:`explorer.commands`), each
handed the state, the controller and the widgets it needs; the window shows state changes in
the input widgets (with their signals blocked) and each result in the status bar and the
computation dock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.explain.lessons import Lesson
from core.settings import Settings
from explorer.commands import dialogs, lessons_menu
from explorer.commands.actions import window_action
from explorer.commands.edits import Edits
from explorer.commands.export_actions import COMPUTATION_LABEL, ExportActions
from explorer.commands.session_actions import SessionActions
from explorer.controller import Controller, Update, Views
from explorer.loader import LoadedVectors, VectorLoader, VocabularyIndex, needs_trust
from explorer.persistence import Store
from explorer.state import INSPECTED_COL, VECTORS, ExplorerState, LastFolder
from explorer.views.computation_dock import ComputationDock
from explorer.views.controls_view import ControlsView
from explorer.views.heatmaps_view import HeatmapGrid
from explorer.views.inputs_view import InputsDock
from explorer.views.latent_view import LatentMap
from explorer.views.lines_view import LinesView
from explorer.views.status_bar import StatusBar
from explorer.views.tokens_view import TokenStrip
from explorer.views.top_bar import TopBar

_ARROWS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down)
_SPLITTERS = ("main_splitter", "views_splitter")
COMPUTATION_HEIGHT, INPUTS_WIDTH = 320, 380  # the docks' first sizes, in pixels


@dataclass
class ComputationParts:
    """The bottom dock (steps, matrices, lesson text), the inputs dock (sentences, toy table)
    and the Lessons menu's actions."""

    dock: ComputationDock
    inputs: InputsDock
    lesson_actions: list[QAction] = field(default_factory=list)
    mode_actions: dict[str, QAction] = field(default_factory=dict)


class MainWindow(QMainWindow):
    """Attention Explorer's main window.

    Parameters
    ----------
    settings : the settings to start from (default: :class:`Settings` defaults).
    store : where layout and settings are remembered; None remembers nothing (tests, screenshots).
    cache_dir : where parsed vector files are cached (None: the per-user cache folder).
    """

    def __init__(self, settings: Settings | None = None, store: Store | None = None,
                 cache_dir: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Attention Explorer")
        self.setAcceptDrops(True)
        self.store = store
        self.state = ExplorerState(settings, self)
        self.top_bar = TopBar()
        self.token_strip = TokenStrip()
        self.heatmaps = HeatmapGrid()
        self.lines = LinesView()
        self.latent = LatentMap()
        self.controls = ControlsView()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.loader = VectorLoader(self, cache_dir=cache_dir)
        views = Views(self.token_strip, self.heatmaps, self.lines, self.latent)
        self.controller = Controller(self.state, views, self)
        self.edits = Edits(self.state, self.controller, self.status, self)
        self._vectors_trusted = False
        self._unsorted_index: VocabularyIndex | None = None
        self._build_central()
        self._build_docks()
        self._build_commands()
        self._build_menus()
        self._connect()
        self._watch_arrow_keys()
        self._show_settings(self.state.settings, frozenset())
        self.resize(1400, 900)
        self._restore_layout()

    # ------------------------------------------------------------------ building
    def _build_central(self) -> None:
        strip_area = QScrollArea()
        strip_area.setWidget(self.token_strip)
        strip_area.setWidgetResizable(True)  # the strip wraps its tokens to the area's width
        strip_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        strip_area.setMinimumHeight(40)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.heatmaps, "Heatmaps")
        self.tabs.addTab(self.lines, "Lines")
        self.views_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.views_splitter.addWidget(self.tabs)
        self.views_splitter.addWidget(self.latent)
        self.views_splitter.setSizes([620, 480])
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.addWidget(strip_area)
        self.main_splitter.addWidget(self.views_splitter)
        self.main_splitter.setStretchFactor(1, 1)
        self._layout_restored = False
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(4, 0, 4, 0)
        column.addWidget(self.top_bar)
        column.addWidget(self.main_splitter, stretch=1)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        """Controls on the left; the computation dock below them, across the bottom; the inputs
        dock (sentence and toy mode only) on the right."""
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.controls.minimumSizeHint().width() + 16)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls_dock")  # saveState() needs a name
        self.controls_dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.controls_dock)
        c = self.computation = ComputationParts(ComputationDock(self), InputsDock(self))
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, c.dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, c.inputs)
        # The controls need less than the window's height: the computation dock takes the
        # bottom-left corner below them (its formulas and tables want width); the inputs dock
        # keeps its height.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([c.dock], [COMPUTATION_HEIGHT], Qt.Orientation.Vertical)
        self.resizeDocks([c.inputs], [INPUTS_WIDTH], Qt.Orientation.Horizontal)
        if self.state.settings.mode == "words":  # the inputs dock shows toy and sentence rows
            c.inputs.hide()

    def _build_commands(self) -> None:
        """The session and export actions, sharing one last folder, and every exportable view."""
        folder = LastFolder()
        self.sessions = SessionActions(
            self, self.state, self.loader, self.load_vectors, self.status, folder,
            {name: getattr(self, name) for name in _SPLITTERS})
        self.exports = ExportActions(self, self.controller, self.status, folder,
                                     self.main_splitter,
                                     (self.heatmaps.hover_label, self.tabs.tabBar()))
        self.exports.add_view("heatmaps", "Heatmaps", self.heatmaps, lambda: self.heatmaps.canvas)
        self.exports.add_view("lines", "Lines", self.lines)
        self.exports.add_view("latent", "Latent map", self.latent)
        self.exports.add_view("tokens", "Token strip", self.token_strip)
        dock = self.computation.dock
        self.exports.add_view("computation", COMPUTATION_LABEL, dock, lambda: dock.tabs)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = window_action(self, "&Open vectors…", self.open_vectors_dialog,
                                         QKeySequence.StandardKey.Open, menu=file_menu)
        window_action(self, "Use the &default vectors", lambda: self.load_vectors(None),
                      menu=file_menu)
        window_action(self, "&Reset settings", self.edits.reset_settings, menu=file_menu)
        for group in (self.sessions.actions(), self.exports.actions()):
            file_menu.addSeparator()
            file_menu.addActions(group)
        file_menu.addSeparator()
        window_action(self, "&Quit", self.close, "Ctrl+Q", menu=file_menu)
        view_menu = self.menuBar().addMenu("&View")
        c = self.computation
        for dock in (self.controls_dock, c.dock, c.inputs):
            view_menu.addAction(dock.toggleViewAction())
        c.lesson_actions, c.mode_actions = lessons_menu.install_lessons_menu(
            self.menuBar(), self, self.state, self.edits, c.dock, self.status)

    def _connect(self) -> None:
        self.state.changed.connect(self._on_state_changed)
        self.top_bar.sentence_edited.connect(self.edits.set_sentence)
        self.top_bar.query_edited.connect(self.edits.set_query)
        self.top_bar.open_requested.connect(self.open_vectors_dialog)
        self.controls.changed.connect(self.edits.apply_changes)
        self.controls.heads_file_requested.connect(self.edits.choose_heads_file)
        self.token_strip.token_clicked.connect(self.edits.select_query_position)
        self.latent.point_clicked.connect(self.edits.select_query_position)
        self.latent.describe = self.controller.describe_point  # hover: word + nearest words
        self.lines.token_clicked.connect(self.edits.select_query_row)
        self.heatmaps.cell_clicked.connect(self.edits.select_cell)
        self.heatmaps.head_selected.connect(self.edits.select_head)
        c = self.computation
        c.dock.mode_requested.connect(self.edits.switch_mode)
        c.dock.panel.key_selected.connect(self.state.set_inspected_col)
        c.inputs.panel.changed.connect(self.edits.apply_changes)
        c.inputs.panel.invalid.connect(self.status.show_error)
        self.controller.updated.connect(self._on_updated)
        self.controller.updated.connect(self._prepare_completer)
        self.controller.failed.connect(self._on_failed)
        self.loader.progress.connect(self.status.show_progress)
        self.loader.loaded.connect(self._on_vectors_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.cancelled.connect(self._on_load_cancelled)
        self.status.cancel_requested.connect(self.loader.cancel)

    # ------------------------------------------------------------------ vectors
    def load_vectors(self, path: str | None, fmt: str = "auto", trusted: bool = False) -> bool:
        """Start loading ``path`` (None: the bundled default) in the background.

        A pickled file (.kv/.model) is opened only after the person says they trust it.
        Returns False when nothing was started.
        """
        if path is not None and needs_trust(path) and not trusted:
            if not dialogs.ask_trust(self, path):
                self.status.show_message("Not opened: the file was not trusted.")
                return False
            trusted = True
        self._vectors_trusted = trusted
        name = Path(path).name if path else "the default vectors (GloVe 6B 50d)"
        self.status.start_progress(f"Loading {name}…")
        if self.state.kv is None:
            self.top_bar.set_loading(f"Loading {name}…")
        self.loader.load(path, fmt, trust_pickle=trusted, warm_up=self.state.settings)
        return True

    def set_vectors(self, kv: Any, path: str | None = None,
                    index: VocabularyIndex | None = None) -> None:
        """Use ``kv`` right away (the loader's result, or a table a test made)."""
        index = index if index is not None else VocabularyIndex(kv.index_to_key)
        self._unsorted_index = index  # sorted once the first result is drawn
        self.controls.set_model_width(int(kv.vector_size))
        self.top_bar.set_vectors_info(
            getattr(kv, "source_name", Path(path).name if path else "vectors"),
            len(kv.index_to_key), int(kv.vector_size))
        self.top_bar.set_vocabulary(index)
        self.state.set_vectors(kv, path)
        if self.store is not None:
            self.store.save_last_vectors(path, trusted=self._vectors_trusted)

    @Slot(object)
    def _prepare_completer(self, _update: Any = None) -> None:
        """Sort the completer's words in the background, after the views have their result."""
        if self._unsorted_index is not None:
            self._unsorted_index.prepare()
            self._unsorted_index = None

    @Slot()
    def open_vectors_dialog(self) -> None:
        start = str(Path(self.state.settings.vectors_path).parent) \
            if self.state.settings.vectors_path else ""
        path = dialogs.choose_vectors_file(self, start)
        if path:
            self.load_vectors(path)

    @Slot(object)
    def _on_vectors_loaded(self, result: LoadedVectors) -> None:
        self.controller.adopt(result.pipeline)
        self.set_vectors(result.kv, result.path, result.index)
        warnings = list(getattr(result.kv, "load_warnings", []) or [])
        text = f"Loaded {getattr(result.kv, 'source_name', 'vectors')} in {result.seconds:.1f} s"
        self.status.stop_progress(" · ".join([text, *warnings]))

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.status.stop_progress(message, error=True)
        dialogs.show_error(self, "Could not open the word vectors", message)
        if self.state.kv is None and self.state.settings.vectors_path is None:
            self.top_bar.set_loading("No vectors loaded: Open… some")
        elif self.state.kv is None:  # a remembered file is gone: fall back to the default set
            self.state.update(vectors_path=None)
            self.load_vectors(None)

    @Slot()
    def _on_load_cancelled(self) -> None:
        kv = self.state.kv
        still = f"; still using {getattr(kv, 'source_name', 'the previous vectors')}" if kv else ""
        self.status.stop_progress(f"Loading cancelled{still}.")
        if kv is None:
            self.top_bar.set_loading("No vectors loaded: Open… some")

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if _dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = _dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.load_vectors(path)

    # ------------------------------------------------------------------ what the person did
    def apply(self, **changes: Any) -> bool:
        """Route a wanted change to the state (scripts, tests): :meth:`Edits.apply`."""
        return self.edits.apply(**changes)

    # ------------------------------------------------------------------ keyboard
    def _watch_arrow_keys(self) -> None:
        # Plots take focus when clicked and would swallow the arrows; the filter sees them first.
        for view in (self.token_strip, self.heatmaps, self.lines, self.latent, self.tabs):
            for widget in (view, *view.findChildren(QWidget)):
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if self._arrow(event):
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # Reached only when the focused widget (not a text field or spin box) ignored the key.
        if not self._arrow(event):
            super().keyPressEvent(event)

    def _arrow(self, event: QKeyEvent) -> bool:
        if event.key() not in _ARROWS or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.move_query(1 if event.key() == Qt.Key.Key_Right else -1)
        else:
            self.step_head(1 if event.key() == Qt.Key.Key_Down else -1)
        return True

    def move_query(self, step: int) -> None:
        """Move the query ``step`` tokens along the sentence (an outside word enters at an end)."""
        a = self.controller.analysis
        if a is None or not a.col_labels:
            return
        # From the settings, not the analysis: keys pressed within one frame must all count.
        s = self.state.settings
        position = s.query_index if s.query_index is not None else a.query.position
        n = len(a.col_labels)
        if position is None:
            target = 0 if step > 0 else n - 1
        else:
            target = min(max(position + step, 0), n - 1)
        self.edits.select_query_position(target)

    def step_head(self, step: int) -> None:
        """Step through "mean, head 1, ..., head h" (Down = next, Up = previous)."""
        choices: list[int | None] = [None, *range(self.state.settings.n_heads)]
        index = choices.index(self.state.settings.selected_head) + step
        self.edits.apply(selected_head=choices[min(max(index, 0), len(choices) - 1)])

    # ------------------------------------------------------------------ state -> widgets
    @Slot(object)
    def _on_state_changed(self, names: frozenset[str]) -> None:
        if names - {VECTORS, INSPECTED_COL}:
            self._show_settings(self.state.settings, names)

    def _show_settings(self, settings: Settings, names: frozenset[str]) -> None:
        self.controls.set_settings(settings)
        self.top_bar.set_settings(settings)
        self.computation.dock.set_mode(settings.mode)
        self.computation.inputs.panel.set_settings(settings)
        if "mode" in names:  # the editors appear with the mode that needs them
            self.computation.inputs.setVisible(settings.mode != "words")

    @Slot(object)
    def _on_updated(self, update: Update) -> None:
        a = update.analysis
        self.top_bar.mark_error("")
        self.status.show_update(a, update.compute_ms, update.views_ms, self.state.settings)
        self.computation.dock.show_analysis(a, self.controller.selected_head(a),
                                            self.state.inspected_col)

    @Slot(str, str)
    def _on_failed(self, message: str, field: str) -> None:
        self.top_bar.mark_error(field)
        self.status.show_message(message, error=True)

    # ------------------------------------------------------------------ remembering
    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._layout_restored:  # first show: a one-line strip, the rest for the views
            self._layout_restored = True
            total = sum(self.main_splitter.sizes())
            self.main_splitter.setSizes([64, max(total - 64, 1)])

    def _restore_layout(self) -> None:
        if self.store is None:
            return
        geometry = self.store.layout("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        dock_state = self.store.layout("state")
        if dock_state is not None:
            self.restoreState(dock_state)
        for name in _SPLITTERS:
            blob = self.store.layout(name)
            if blob is not None:
                getattr(self, name).restoreState(blob)
                self._layout_restored = True

    def save_session(self) -> None:
        """Remember the layout and the settings (called on close)."""
        if self.store is None:
            return
        self.store.save_layout("geometry", self.saveGeometry())
        self.store.save_layout("state", self.saveState())
        for name in _SPLITTERS:
            self.store.save_layout(name, getattr(self, name).saveState())
        self.store.save_settings(self.state.settings)
        self.store.sync()

    def shutdown(self) -> None:
        """Stop background loads and wait for their threads (close, end of a test)."""
        self.loader.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_session()
        self.shutdown()
        super().closeEvent(event)


def _dropped_file(event: QDragEnterEvent | QDropEvent) -> str | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    if len(urls) == 1 and urls[0].isLocalFile():
        return urls[0].toLocalFile()
    return None


def open_lesson(window: MainWindow, computation: ComputationParts, item: Lesson | str) -> None:
    """Open lesson ``item`` in ``window`` as its Lessons-menu entry does (scripts, tests)."""
    lessons_menu.open_lesson(window.state, window.edits, computation.dock, window.status, item)
