"""The Show box's rollout or flow and the Across layers tab are one choice, kept in step.

Picking "attention rollout" in the Show box while the heatmaps are on screen would change nothing
a person can see, and the Across layers tab under "Show: this layer's heads" would draw rollout
beside a box that says otherwise. So rollout or flow brings the tab forward and "this layer's
heads" leaves it (for the heatmaps); opening the tab sets the box to the method last used there,
and leaving it for another tab sets "this layer's heads". A session, the command line or a lesson
that says rollout or flow opens the window on the tab.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QTabWidget, QWidget

from core.settings import Settings
from explorer.commands.edits import Edits
from explorer.state import ExplorerState

__all__ = ["AcrossTab"]

LAYER = "layer"  # ModelSettings.across_layers: the chosen layer's heads, not a view across layers


class AcrossTab(QObject):
    """Keeps ``tabs`` showing ``across`` exactly when the settings ask for rollout or flow."""

    def __init__(self, tabs: QTabWidget, across: QWidget, layer_tab: QWidget,
                 state: ExplorerState, edits: Edits, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tabs, self._across, self._layer_tab = tabs, across, layer_tab
        self._state, self._edits = state, edits
        self._method = "rollout"  # what opening the tab shows: the method last used there
        # Connected after the window's own state handler, which makes the tab visible first.
        state.changed.connect(self._on_state_changed)
        tabs.currentChanged.connect(self._on_tab_changed)
        self._follow(state.settings)

    @staticmethod
    def _applies(s: Settings) -> bool:
        """Only a trained model's layers page has the box and the tab."""
        return s.source == "model" and s.mode != "sentences"

    @Slot(frozenset)
    def _on_state_changed(self, names: frozenset[str]) -> None:
        if names & {"model", "source", "mode"}:
            self._follow(self._state.settings)

    def _follow(self, s: Settings) -> None:
        """The tab the settings ask for (signals left on: the view it opens draws its data)."""
        if not self._applies(s):
            return
        across = s.model.across_layers != LAYER
        if across:
            self._method = s.model.across_layers
        on_tab = self._tabs.currentWidget() is self._across
        if across and not on_tab:
            self._tabs.setCurrentWidget(self._across)
        elif on_tab and not across:
            self._tabs.setCurrentWidget(self._layer_tab)

    @Slot(int)
    def _on_tab_changed(self, _index: int) -> None:
        s = self._state.settings
        if not self._applies(s):
            return
        on_tab = self._tabs.currentWidget() is self._across
        if on_tab and s.model.across_layers == LAYER:
            self._edits.apply(model=replace(s.model, across_layers=self._method))
        elif not on_tab and s.model.across_layers != LAYER:
            self._method = s.model.across_layers
            self._edits.apply(model=replace(s.model, across_layers=LAYER))
