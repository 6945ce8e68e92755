"""The temperature boxes say why a typed number was not used (the range), in the real window."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

TINY_BERT = str(Path(__file__).parent / "data" / "transformer" / "tiny-bert")


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv, size=(1400, 900))


def type_into(window, qtbot, box, text: str) -> None:
    """Type ``text`` and press Enter, with the update of the keys typed in between (as a person
    types slower than a frame)."""
    edit = box.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    window.controller.flush()
    qtbot.keyClick(edit, Qt.Key.Key_Return)


@pytest.mark.parametrize("typed", ["0", "0.001", "1000"])
def test_a_temperature_out_of_range_is_said_with_the_range(window, qtbot, typed):
    box = window.controls.temperature
    type_into(window, qtbot, box, "2")
    window.controller.flush()
    assert window.state.settings.temperature == 2.0
    type_into(window, qtbot, box, typed)
    window.controller.flush()
    message = window.status.message.text()
    assert f"temperature must be between 0.01 and 100, got {typed}" in message
    assert "#b00020" in window.status.message.styleSheet()  # said as an error
    if typed != "1000":  # typing 1000 passes through 10 and 100 on the way (live updates)
        assert window.state.settings.temperature == 2.0  # the old value stays in use
        assert "it stays 2.00" in message


def test_the_what_if_temperature_says_its_range_too(window, qtbot):
    with qtbot.waitSignal(window.state.changed, timeout=20000,
                          check_params_cb=lambda names: "transformer" in names):
        window.models.open(TINY_BERT)
    window.apply(model=replace(window.state.settings.model, what_if_layer=0))
    window.controller.flush()
    type_into(window, qtbot, window.model_controls.temperature, "0")
    assert "temperature must be between 0.01 and 100, got 0" in window.status.message.text()
