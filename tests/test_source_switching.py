"""Switching between word vectors and a trained model in the real window (offscreen): the top
bar's label says what is shown, and an input mode that needs typed vectors loses nothing."""

from __future__ import annotations

import pytest
from qt_helpers import TINY_BERT, open_tiny_model

TEXT = "The animal was not swimming in the sea because it was running"


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv, size=(1400, 900))


def pick_source(window, source: str) -> None:
    """What a person's pick in the top bar's source box does."""
    combo = window.top_bar.source_combo
    index = combo.findData(source)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_back_to_vectors_after_a_model_folder_the_label_names_the_vectors(window, qtbot):
    vectors_text = window.top_bar.vectors_label.text()
    assert "tiny test vectors" in vectors_text
    open_tiny_model(window, qtbot, TEXT)
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


def switch_mode(window, mode: str) -> None:
    """What a pick in the bottom dock's Input box does."""
    dock = window.computation.dock
    dock.mode.setCurrentIndex(dock.mode.findData(mode))
    window.controller.flush()


@pytest.mark.parametrize("back_to", ["words", "sentences"])
def test_toy_mode_with_a_trained_model_says_so_and_the_model_comes_back(window, qtbot, back_to):
    open_tiny_model(window, qtbot, TEXT)
    panel = window.computation.inputs.panel
    switch_mode(window, "toy")
    assert window.state.settings.source == "vectors"  # toy vectors are typed, not the model's
    assert window.controller.analysis.model is None
    assert "typed by hand" in panel.toy_note.text()
    assert "trained model comes back" in panel.toy_note.text()
    assert window.top_bar.source_combo.currentData() == "vectors"
    switch_mode(window, back_to)
    s = window.state.settings
    assert (s.mode, s.source, s.model.path) == (back_to, "model", TINY_BERT)
    assert window.controller.analysis.model is not None or back_to == "sentences"
    assert "tiny-bert" in window.top_bar.vectors_label.text()
    assert s.n_heads == window.state.transformer.config.n_heads


def test_toy_mode_from_word_vectors_stays_with_word_vectors(window, qtbot):
    open_tiny_model(window, qtbot, TEXT)
    window.models.choose_source("vectors")
    switch_mode(window, "toy")
    assert "comes back" not in window.computation.inputs.panel.toy_note.text()
    switch_mode(window, "words")
    assert window.state.settings.source == "vectors"


def test_sentence_mode_with_a_trained_model_says_each_sentence_is_its_embedding(window, qtbot):
    open_tiny_model(window, qtbot, TEXT)
    panel = window.computation.inputs.panel
    switch_mode(window, "sentences")
    assert "model's sentence embedding" in panel.context_hint.text()
    assert panel.use_toy.isHidden()  # the model embeds the sentences: no toy words
    window.models.choose_source("vectors")
    assert "mean of its words" in panel.context_hint.text()
    assert not panel.use_toy.isHidden()
