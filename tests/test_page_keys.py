"""Page Up / Page Down step the trained model's layers from the control panels and docks too
(a combo box there would take them for itself), but not from a field one types in."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from qt_helpers import open_tiny_model


@pytest.fixture
def window(open_window, tiny_kv, qtbot):
    window = open_window(tiny_kv, size=(1400, 900))
    open_tiny_model(window, qtbot)
    return window


def layer_and_head(window) -> tuple[int | None, int | None]:
    s = window.state.settings
    return s.model.layer, s.selected_head


def test_page_keys_on_the_head_combo_step_the_layer_not_the_head(window, qtbot):
    window.apply(selected_head=1)
    head_combo = window.model_controls.head
    head_combo.setFocus()
    qtbot.keyClick(head_combo, Qt.Key.Key_PageUp)
    window.controller.flush()
    assert layer_and_head(window) == (0, 1)  # from the last layer (of 2) to the first
    qtbot.keyClick(head_combo, Qt.Key.Key_PageDown)
    window.controller.flush()
    assert layer_and_head(window) == (1, 1)
    qtbot.keyClick(head_combo, Qt.Key.Key_Down)  # the combo's own key: its next entry
    window.controller.flush()
    assert layer_and_head(window) == (1, 2)


def test_page_keys_in_the_computation_dock_step_the_layer(window, qtbot):
    panel = window.computation.dock.panel
    qtbot.keyClick(panel, Qt.Key.Key_PageUp)
    window.controller.flush()
    assert window.state.settings.model.layer == 0


def test_a_spin_box_keeps_its_page_keys(window, qtbot):
    layer_box = window.model_controls.layer
    qtbot.keyClick(layer_box, Qt.Key.Key_PageUp)  # the box's own page step
    window.controller.flush()
    assert window.state.settings.model.layer in (None, 1)  # not stepped back to the first
