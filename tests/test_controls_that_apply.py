"""The controls dock shows what is computed: a trained model's sentence mode hides the made-up
heads' and the vocabulary's controls, and a toy table that cannot be cut into the asked number
of heads says so beside the box (real window, offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_BERT = str(Path(__file__).parent / "data" / "transformer" / "tiny-bert")


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv, size=(1400, 900))


def shown_rows(form) -> set[str]:
    """The labels of a form's visible rows."""
    rows = set()
    for row in range(form.rowCount()):
        label = form.itemAt(row, form.ItemRole.LabelRole)
        if label is not None and form.isRowVisible(row):
            rows.add(label.widget().text())
    return rows


def test_sentence_mode_with_a_trained_model_shows_only_what_applies(window, qtbot):
    with qtbot.waitSignal(window.state.changed, timeout=20000,
                          check_params_cb=lambda names: "transformer" in names):
        window.models.open(TINY_BERT)
    window.edits.switch_mode("sentences")
    window.controller.flush()
    controls = window.controls
    assert window.controls_stack.currentWidget().widget() is controls
    assert controls.heads_box.isHidden()  # one identity head on the model's embeddings
    assert "Unknown words" not in shown_rows(controls.oov_form)
    assert {"Scoring", "Normalisation", "Temperature"} <= shown_rows(controls.oov_form)
    assert shown_rows(controls.map_form) == set()  # no projection choice, no nearest words
    assert "sentence embeddings" in controls.toy_map_note.text()
    assert not controls.toy_map_note.isHidden()
    tabs = window.tabs
    assert not tabs.isTabVisible(tabs.indexOf(window.model_view))  # no layers to show
    assert not tabs.isTabVisible(tabs.indexOf(window.across))
    assert window.top_bar.sentence_field.isHidden()  # the sentences are typed in the dock
    assert window.top_bar.query_field.isHidden()
    status = window.status.message.text()  # no made-up heads' note: none were asked for
    assert "d_k" not in status and "raw vectors" not in status, status
    window.edits.switch_mode("words")
    window.controller.flush()
    assert window.controls_stack.currentWidget().widget() is window.model_controls
    assert tabs.isTabVisible(tabs.indexOf(window.model_view))
    assert not window.top_bar.sentence_field.isHidden()
    assert not window.top_bar.query_field.isHidden()


def test_toy_heads_that_do_not_divide_the_matrices_say_one_head_is_computed(window):
    window.edits.switch_mode("toy")  # the three-input table: W_Q and W_V have 3 columns
    window.apply(n_heads=4)
    window.controller.flush()
    assert window.top_bar.sentence_field.isHidden()  # the rows are the toy table's
    assert not window.top_bar.query_field.isHidden()  # the query is one of its tokens
    a = window.controller.analysis
    assert a.weights.shape[0] == 1
    controls = window.controls
    note = controls.heads_note.text()
    assert "4 heads do not divide W_Q's 3 / W_V's 3 columns" in note and "one head" in note
    assert not controls.heads_note.isHidden()
    choices = [controls.selected_head.itemText(i) for i in range(controls.selected_head.count())]
    assert choices == ["head 1"]  # the head computed, not four (and its mean is itself)
    assert controls.selected_head.currentText() == "head 1"
    assert window.state.settings.selected_head is None
    window.apply(n_heads=3)
    window.controller.flush()
    assert window.controller.analysis.weights.shape[0] == 3
    assert controls.heads_note.isHidden()
    assert controls.selected_head.count() == 4
