"""Switching between word vectors and a trained model in the real window (offscreen): the top
bar's label says what is shown, and an input mode that needs typed vectors loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_BERT = str(Path(__file__).parent / "data" / "transformer" / "tiny-bert")
TEXT = "The animal was not swimming in the sea because it was running"


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv, size=(1400, 900))


def open_tiny(window, qtbot) -> None:
    with qtbot.waitSignal(window.state.changed, timeout=20000,
                          check_params_cb=lambda names: "transformer" in names):
        window.models.open(TINY_BERT)
    window.apply(sentence=TEXT, query="it")
    window.controller.flush()


def pick_source(window, source: str) -> None:
    """What a person's pick in the top bar's source box does."""
    combo = window.top_bar.source_combo
    index = combo.findData(source)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_back_to_vectors_after_a_model_folder_the_label_names_the_vectors(window, qtbot):
    vectors_text = window.top_bar.vectors_label.text()
    assert "tiny test vectors" in vectors_text
    open_tiny(window, qtbot)
    assert "tiny-bert" in window.top_bar.vectors_label.text()
    pick_source(window, "vectors")
    window.controller.flush()
    assert window.state.settings.source == "vectors"
    assert window.top_bar.vectors_label.text() == vectors_text  # not "Opening tiny-bert…"


def test_a_model_that_fails_to_open_leaves_the_vectors_label_and_box(window, qtbot, tmp_path,
                                                                    errors):
    vectors_text = window.top_bar.vectors_label.text()
    window.models.open(str(tmp_path / "no such model"))
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    assert window.state.settings.source == "vectors"
    assert window.top_bar.vectors_label.text() == vectors_text
    assert window.top_bar.source_combo.currentData() == "vectors"
