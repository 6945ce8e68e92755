"""What the person asks for, as state changes: the one way widgets, menus and keys change the state.

Every gesture that changes a setting (typing, a control, a click on a token or a heatmap cell, a
small map picked, an input mode chosen) arrives here and becomes one :meth:`ExplorerState.update`.
A value the settings reject is said in the status bar, never raised: the person sees why nothing
changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QWidget

from core.files.exported_heads import exported_head_count
from core.settings import Settings, SettingsError
from explorer.commands import dialogs

if TYPE_CHECKING:
    from explorer.controller import Controller
    from explorer.state import ExplorerState
    from explorer.views.status_bar import StatusBar


class Edits(QObject):
    """Routes wanted changes to ``state``; ``controller`` says which tokens the views show.

    ``parent`` is the widget dialogs (the head-projection file chooser) are shown over.
    """

    def __init__(self, state: ExplorerState, controller: Controller, status: StatusBar,
                 parent: QWidget) -> None:
        super().__init__(parent)
        self._state, self._controller, self._status = state, controller, status
        self._parent = parent

    def apply(self, **changes: Any) -> bool:
        """Route a wanted change to the state; a rejected value is reported, not raised."""
        try:
            self._state.update(**changes)
        except SettingsError as error:
            self._status.show_message(str(error), error=True)
            return False
        return True

    @Slot(dict)
    def apply_changes(self, changes: dict) -> None:
        """:meth:`apply` for widgets that say what they want as one dict."""
        self.apply(**changes)

    @Slot(str)
    def set_sentence(self, text: str) -> None:
        self.apply(sentence=text)

    @Slot(str)
    def set_query(self, text: str) -> None:
        self.apply(query=text)

    @Slot(int)
    def select_query_position(self, position: int) -> None:
        """Make used token ``position`` the query (its text and index, so repeats work)."""
        a = self._controller.analysis
        if a is not None and 0 <= position < len(a.col_labels):
            self.apply(query=a.col_labels[position], query_index=position)

    @Slot(int)
    def select_query_row(self, row: int) -> None:
        """A heatmap/lines row: a sentence token, or the outside query row (already the query)."""
        self.select_query_position(row)

    @Slot(int, int)
    def select_cell(self, row: int, col: int) -> None:
        """A heatmap cell: its row's token becomes the query, its column the inspected key."""
        with self._state.batch():
            self.select_query_row(row)
            self._state.set_inspected_col(col)

    @Slot(object)
    def select_head(self, head: int | None) -> None:
        self.apply(selected_head=head)

    @Slot(int, object)
    def select_layer_head(self, layer: int, head: int | None) -> None:
        """A trained model's layer (from 0) and head (None: the layer's mean), e.g. a small map
        of the model view."""
        s = self._state.settings
        self.apply(model=replace(s.model, layer=layer), selected_head=head)

    def step_layer(self, step: int) -> None:
        """The next (``step`` 1) or previous (-1) layer of the trained model, within its range."""
        model, s = self._state.transformer, self._state.settings
        if model is None or s.source != "model":
            return
        last = model.config.n_layers - 1
        layer = last if s.model.layer is None else s.model.layer
        self.apply(model=replace(s.model, layer=min(max(layer + step, 0), last)))

    @Slot()
    def choose_heads_file(self) -> None:
        """Ask for an .npz of head projections and use it (the 'file' strategy). A data
        export says how many heads it holds: it is read as those (another count would glue
        or split its heads, as the command line refuses to)."""
        path = dialogs.choose_heads_file(self._parent)
        if path:
            count = exported_head_count(path)
            self.apply(heads_file=path, head_strategy="file",
                       **({"n_heads": count} if count is not None else {}))

    @Slot(str)
    def switch_mode(self, mode: str) -> None:
        """Switch the input mode (with a toy table and a query that exist in it)."""
        self.apply(**self._state.mode_switch(mode))

    def reset_settings(self) -> None:
        """Back to the defaults, keeping the loaded vectors."""
        self._state.set_settings(Settings().updated(vectors_path=self._state.settings.vectors_path))
