"""The explorer window, the composition root: builds every part and connects them.

Data flows one way: widgets -> :class:`ExplorerState` -> :class:`Controller` -> views' ``set_*``.
What the person does reaches the state through the commands (:mod:`explorer.commands`), each
handed what it needs; the window shows state changes in the input widgets (signals blocked) and
each result in the status bar and the computation dock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.explain.lessons import Lesson
from core.settings import Settings
from explorer.commands import dialogs, lessons_menu
from explorer.commands.across_tab import AcrossTab
from explorer.commands.actions import window_action
from explorer.commands.edits import Edits
from explorer.commands.export_actions import COMPUTATION_LABEL, ExportActions
from explorer.commands.model_actions import ModelActions
from explorer.commands.session_actions import SessionActions
from explorer.commands.vectors import VectorActions
from explorer.controller import Controller, Update, Views
from explorer.keyboard import ArrowKeys
from explorer.loader import VectorLoader, VocabularyIndex
from explorer.long_lived import freeze_long_lived
from explorer.persistence import Store
from explorer.state import INSPECTED_COL, TRANSFORMER, VECTORS, ExplorerState, LastFolder
from explorer.views.across_view import AcrossLayersView
from explorer.views.computation_dock import ComputationDock
from explorer.views.controls_view import ControlsView
from explorer.views.heatmaps_view import HeatmapGrid
from explorer.views.inputs_view import InputsDock
from explorer.views.latent_view import LatentMap
from explorer.views.lines_view import LinesView
from explorer.views.model_controls import ModelControls
from explorer.views.model_view import ModelView
from explorer.views.overlay import UpdatingOverlay
from explorer.views.status_bar import StatusBar
from explorer.views.tokens_view import TokenStrip
from explorer.views.top_bar import TopBar

COMPUTATION_HEIGHT, INPUTS_WIDTH = 320, 380  # the docks' first sizes, in pixels, at most
COMPUTATION_SHARE = 0.34  # of the window's height, in a window too low for COMPUTATION_HEIGHT
NARROW_WINDOW = 1200  # narrower: the controls dock starts as narrow as its controls allow
STRIP_HEIGHT = 64  # the token strip's first height: one line of tokens


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
        self.model_view = ModelView()
        self.across = AcrossLayersView()
        self.model_controls = ModelControls()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.loader = VectorLoader(self, cache_dir=cache_dir)
        views = Views(self.token_strip, self.heatmaps, self.lines, self.latent, self.model_view,
                      self.across)
        self.controller = Controller(self.state, views, self)
        self._cache_dir = cache_dir
        self._freeze_pending = False  # a load happened: freeze at the next result (long_lived)
        self.edits = Edits(self.state, self.controller, self.status, self)
        self._build_central()
        self._build_docks()
        self._build_commands()
        self._build_menus()
        self._connect()
        self._show_settings(self.state.settings, frozenset())
        # After _connect: the window's state handler shows the Across layers tab before this
        # object brings it forward.
        self.across_tab = AcrossTab(self.tabs, self.across, self.heatmaps, self.state,
                                    self.edits, self)
        self.resize(1400, 900)
        self._layout_restored = store is not None and store.restore_window(self, self.splitters)
        self.models.ensure_open()  # settings that show a trained model open it

    # ------------------------------------------------------------------ building
    def _build_central(self) -> None:
        strip_area = QScrollArea()
        strip_area.setWidget(self.token_strip)
        strip_area.setWidgetResizable(True)  # the strip wraps its tokens to the area's width
        strip_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        strip_area.setMinimumHeight(40)
        self.tabs = QTabWidget()
        for view, name in ((self.heatmaps, "Heatmaps"), (self.lines, "Lines"), (self.model_view,
                           "Model view"), (self.across, "Across layers")):  # the last two: models
            self.tabs.addTab(view, name)
        self.views_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.views_splitter.addWidget(self.tabs)
        self.views_splitter.addWidget(self.latent)
        self.views_splitter.setSizes([620, 480])

        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.addWidget(strip_area)
        self.main_splitter.addWidget(self.views_splitter)
        self.main_splitter.setStretchFactor(1, 1)
        # Remembered and saved in sessions under these names.
        self.splitters = {"main_splitter": self.main_splitter,
                          "views_splitter": self.views_splitter}
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(4, 0, 4, 0)
        column.addWidget(self.top_bar)
        column.addWidget(self.main_splitter, stretch=1)
        self.setCentralWidget(central)
        self.updating = UpdatingOverlay(self.views_splitter, central)  # while a model runs

    def _build_docks(self) -> None:
        """Controls on the left; the computation dock below them, across the bottom; the inputs
        dock (sentence and toy mode only) on the right."""
        # One page of controls per source: the head strategy, seed and d_k of made-up heads mean
        # nothing for a trained model, whose page has its layers, what-if and ablations.
        self.controls_stack = QStackedWidget()
        for panel in (self.controls, self.model_controls):
            scroll = QScrollArea()
            scroll.setWidget(panel)
            scroll.setWidgetResizable(True)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setMinimumWidth(panel.minimumSizeHint().width() + 16)
            self.controls_stack.addWidget(scroll)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls_dock")  # saveState() needs a name
        self.controls_dock.setWidget(self.controls_stack)
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
        dock_page = c.dock.widget()
        self.dock_updating = UpdatingOverlay(dock_page, dock_page)  # the steps of old numbers
        self.controller.cover_when_failing(dock_page)  # refused settings: no old steps either
        if self.state.settings.mode == "words":  # the inputs dock shows toy and sentence rows
            c.inputs.hide()

    def _build_commands(self) -> None:
        """Vector, session and export actions (the last two share one last folder), every
        exportable view, and the arrow keys on the views."""
        self.vectors = VectorActions(self, self.state, self.controller, self.loader, self.top_bar,
                                     self.controls, self.status, self.store)
        self.models = ModelActions(self, self.state, self.controller.jobs, self.top_bar,
                                   self.status, self._cache_dir)
        folder = LastFolder()
        # After the vector actions: a session's settings wait for its vectors to be in the state.
        self.sessions = SessionActions(self, self.state, self.loader, self.vectors.load,
                                       self.status, folder, self.splitters, self.models)
        self.exports = ExportActions(self, self.controller, self.status, folder,
                                     self.main_splitter,
                                     (self.heatmaps.hover_label, self.model_view.readout,
                                      self.across.readout, self.tabs.tabBar()))
        self.exports.add_view("heatmaps", "Heatmaps", self.heatmaps, lambda: self.heatmaps.canvas)
        self.exports.add_view("lines", "Lines", self.lines)
        self.exports.add_view("latent", "Latent map", self.latent)
        self.exports.add_view("tokens", "Token strip", self.token_strip)
        self.exports.add_view("model", "Model view", self.model_view)
        self.exports.add_view("across", "Across layers", self.across)
        dock = self.computation.dock
        self.exports.add_view("computation", COMPUTATION_LABEL, dock, lambda: dock.tabs)
        self.keys = ArrowKeys(self.state, self.controller, self.edits,
                              (self.token_strip, self.heatmaps, self.lines, self.latent,
                               self.model_view, self.across, self.tabs), self,
                              panels=(self.controls_dock, self.computation.dock,
                                      self.computation.inputs, self.top_bar))

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([self.vectors.open_action, self.vectors.default_action])
        file_menu.addSeparator()
        file_menu.addActions([self.models.open_action, self.models.bundled_action,
                              self.models.vectors_action])
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
        help_menu = self.menuBar().addMenu("&Help")
        window_action(self, "&About Attention Explorer", lambda: dialogs.show_about(self),
                      menu=help_menu)

    def _connect(self) -> None:
        """Widgets -> edits -> state; state and results -> the widgets the controller does not
        feed (inputs, status, computation dock)."""
        edits, c = self.edits, self.computation
        self.state.changed.connect(self._on_state_changed)
        self.top_bar.sentence_edited.connect(edits.set_sentence)
        self.top_bar.query_edited.connect(edits.set_query)
        self.top_bar.open_requested.connect(self._on_open_requested)
        self.top_bar.source_chosen.connect(self.models.choose_source)
        self.model_controls.changed.connect(edits.apply_changes)
        self.model_controls.open_model_requested.connect(self.models.open_dialog)
        self.model_controls.invalid.connect(self.status.show_error)
        self.model_view.head_clicked.connect(edits.select_layer_head)
        self.across.cell_clicked.connect(self._on_across_clicked)
        self.controller.busy.connect(self._on_busy)
        self.tabs.currentChanged.connect(lambda _index: self.controller.show_across())
        self.controls.changed.connect(edits.apply_changes)
        self.controls.heads_file_requested.connect(edits.choose_heads_file)
        self.token_strip.token_clicked.connect(edits.select_query_position)
        self.latent.point_clicked.connect(edits.select_query_position)
        self.latent.describe = self.controller.describe_point  # hover: word + nearest words
        self.lines.token_clicked.connect(edits.select_query_row)
        self.heatmaps.cell_clicked.connect(edits.select_cell)
        self.heatmaps.head_selected.connect(edits.select_head)
        c.dock.mode_requested.connect(edits.switch_mode)
        c.dock.panel.key_selected.connect(self.state.set_inspected_col)
        c.inputs.panel.changed.connect(edits.apply_changes)
        c.inputs.panel.invalid.connect(self.status.show_error)
        self.controller.updated.connect(self._on_updated)
        self.controller.updated.connect(self.vectors.prepare_completer)
        self.controller.failed.connect(self._on_failed)

    # ------------------------------------------------------------------ for scripts and tests
    def load_vectors(self, path: str | None, fmt: str = "auto", trusted: bool = False) -> bool:
        """Start loading ``path`` (None: the bundled default): :meth:`VectorActions.load`."""
        return self.vectors.load(path, fmt, trusted)

    def set_vectors(self, kv: Any, path: str | None = None,
                    index: VocabularyIndex | None = None) -> None:
        """Use ``kv`` right away: :meth:`VectorActions.set_vectors`."""
        self.vectors.set_vectors(kv, path, index)

    def apply(self, **changes: Any) -> bool:
        """Route a wanted change to the state: :meth:`Edits.apply`."""
        return self.edits.apply(**changes)

    # ------------------------------------------------------------------ events
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if _dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = _dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            if Path(path).is_dir():  # a folder is a checkpoint; a file holds word vectors
                self.models.open(path)
            else:
                self.vectors.load(path)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # Reached only when the focused widget (not a text field or spin box) ignored the key.
        if not self.keys.handle(event):
            super().keyPressEvent(event)

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._layout_restored:  # first show: a one-line strip, the rest for the views
            self._layout_restored = True
            self._fit_docks_to_window()
            total = sum(self.main_splitter.sizes())
            self.main_splitter.setSizes([STRIP_HEIGHT, max(total - STRIP_HEIGHT, 1)])

    def _fit_docks_to_window(self) -> None:
        """The docks' first sizes for this window: at 1024 x 700 a 320 px computation dock and
        a 380 px controls dock left the views 250 px high and the heatmap a thumbnail."""
        height = min(COMPUTATION_HEIGHT, round(COMPUTATION_SHARE * self.height()))
        self.resizeDocks([self.computation.dock], [height], Qt.Orientation.Vertical)
        if self.width() < NARROW_WINDOW:
            narrowest = self.controls_dock.minimumSizeHint().width()
            self.resizeDocks([self.controls_dock], [narrowest], Qt.Orientation.Horizontal)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_session()
        self.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------ state -> widgets
    @Slot(object)
    def _on_state_changed(self, names: frozenset[str]) -> None:
        if names & {VECTORS, TRANSFORMER}:  # what stays for good is loaded: see long_lived
            self._freeze_pending = True  # once its first result is shown (the old one let go)
        if TRANSFORMER in names:
            model = self.state.transformer
            self.model_controls.set_model_info(model.config if model is not None else None)
            if model is not None:
                self.top_bar.set_model_info(model.config.summary)
        if names - {VECTORS, INSPECTED_COL, TRANSFORMER}:
            self._show_settings(self.state.settings, names)
        if self.computation.dock.lesson is not None and not self.state.in_lesson:
            self.computation.dock.show_lesson(None)  # a session or a reset ended the lesson
        if names & {"source", "model"}:  # e.g. "use the bundled model", a restored session
            self.models.ensure_open()

    @Slot()
    def _on_open_requested(self) -> None:
        if self.state.settings.source == "model":
            self.models.open_dialog()
        else:
            self.vectors.open_dialog()

    @Slot(int, int)
    def _on_across_clicked(self, row: int, col: int) -> None:
        """A rollout cell: its row's token becomes the query; on flow's one row, its column's."""
        a = self.controller.analysis
        across = a.model.across if a is not None and a.model is not None else None
        if across is not None:
            self.edits.select_query_row(row if len(across) > 1 else col)

    @Slot(str)
    def _on_busy(self, message: str) -> None:
        self.updating.set_message(message and f"Updating… {message}")
        self.dock_updating.set_message(message and "Updating…")
        if message:
            self.status.show_message(message)

    def _show_settings(self, settings: Settings, names: frozenset[str]) -> None:
        self.controls.set_settings(settings)
        self.model_controls.set_settings(settings)
        model_source = settings.source == "model"
        # Sentence mode: one embedding per sentence, the layers and heads page means nothing.
        layers_page = model_source and settings.mode != "sentences"
        self.controls_stack.setCurrentIndex(1 if layers_page else 0)
        for index in (self.tabs.indexOf(self.model_view), self.tabs.indexOf(self.across)):
            if self.tabs.isTabVisible(index) != layers_page:  # (it lays out, repaints, always)
                self.tabs.setTabVisible(index, layers_page)  # only a model's layers have them
        self.top_bar.set_settings(settings)
        self.computation.dock.set_mode(settings.mode)
        self.computation.inputs.panel.set_settings(settings)
        self.computation.inputs.panel.set_model_waiting(self.state.model_before_toy)
        if "mode" in names:  # the editors appear with the mode that needs them
            self.computation.inputs.setVisible(settings.mode != "words")

    @Slot(object)
    def _on_updated(self, update: Update) -> None:
        a = update.analysis
        if self._freeze_pending:
            self._freeze_pending = False
            freeze_long_lived()
        for sheet in (self.updating, self.dock_updating):  # a head picked while a model runs
            sheet.views_changed()
        self.top_bar.mark_error("")
        self.status.show_update(a, update.compute_ms, update.views_ms, self.state.settings)
        self.computation.dock.show_analysis(a, self.controller.selected_head(a),
                                            self.state.inspected_col)

    @Slot(str, str)
    def _on_failed(self, message: str, field: str) -> None:
        self.top_bar.mark_error(field)
        self.status.show_message(message, error=True)

    # ------------------------------------------------------------------ remembering
    def save_session(self) -> None:
        """Remember the layout and the settings (called on close)."""
        if self.store is not None:
            self.store.save_window(self, self.splitters, self.state.settings)

    def shutdown(self) -> None:
        """Stop background loads and wait for their threads (close, end of a test)."""
        self.loader.shutdown()
        self.controller.shutdown()


def _dropped_file(event: QDragEnterEvent | QDropEvent) -> str | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    return urls[0].toLocalFile() if len(urls) == 1 and urls[0].isLocalFile() else None


def open_lesson(window: MainWindow, computation: ComputationParts, item: Lesson | str) -> None:
    """Open lesson ``item`` in ``window`` as its Lessons-menu entry does (scripts, tests)."""
    lessons_menu.open_lesson(window.state, computation.dock, window.status, item)
