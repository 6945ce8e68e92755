"""How attention is computed, in the real window (offscreen): lessons put their published numbers
on the step panel, the panel follows the controls, toy and sentence mode end to end, clicks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import analysis_steps, run_lesson_analysis
from qt_helpers import click_chip

from core.explain.lessons import LESSONS, lesson
from core.explain.steps import format_number
from core.pipeline import Pipeline
from core.settings import Settings
from explorer.commands import dialogs
from explorer.main_window import MainWindow, open_lesson
from explorer.persistence import ENV_VAR, Store

TOY_LESSONS = [item for item in LESSONS if item.settings is None]
SCORE, SCALED, TEMPERED, LOGIT, WEIGHT, WEIGHTED = range(1, 7)


@pytest.fixture
def window(qtbot, tmp_path, tiny_kv, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "settings.ini"))
    monkeypatch.setattr(dialogs, "show_error", lambda *_args: None)
    w = MainWindow(None, Store(str(tmp_path / "settings.ini")), str(tmp_path / "cache"))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    w.set_vectors(tiny_kv, None)
    w.controller.flush()
    yield w
    w.shutdown()


def settle(window: MainWindow) -> None:
    window.controller.flush()


def panel_of(window: MainWindow):  # noqa: ANN201
    return window.computation.dock.panel


def column(window: MainWindow, col: int) -> list[float]:
    """The numbers of one step column, one per key, as the panel shows them."""
    panel, n = panel_of(window), len(window.controller.analysis.col_labels)
    return [float(panel.cell_text(j, col)) for j in range(n)]


def shown_vector(text: str) -> list[float]:
    return [float(v) for v in text.strip("[]").split(",")]


def open_and_settle(window: MainWindow, lesson_id: str) -> None:
    open_lesson(window, window.computation, lesson_id)
    settle(window)


# ------------------------------------------------------------------------------ lessons
@pytest.mark.parametrize("item", TOY_LESSONS, ids=lambda item: item.id)
def test_each_lesson_puts_its_published_numbers_on_the_panel(window, item):
    open_and_settle(window, item.id)
    a, panel = window.controller.analysis, panel_of(window)
    steps = panel.steps()
    assert window.computation.dock.lesson_text.text() == item.explanation
    assert window.computation.dock.lesson_text.isVisible()
    assert [panel.cell_text(j, 0) for j in range(len(a.col_labels))] == list(item.tokens)
    expected = dict(item.expected)
    queries = expected.pop("queries", None)
    scores = np.asarray(expected.pop("scores"), np.float64)
    if scores.ndim == 2:  # self-attention lessons: row i holds query i's scores
        scores = scores[a.query_row]
    # The text on screen (4 significant digits) and the numbers behind it (1e-9).
    np.testing.assert_allclose(column(window, SCORE), scores, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(steps.raw_scores, scores, rtol=0, atol=1e-9)
    if "logits" in expected:
        logits = expected.pop("logits")
        np.testing.assert_allclose(column(window, SCALED), logits, rtol=1e-3)
        np.testing.assert_allclose(steps.scaled, logits, rtol=0, atol=1e-9)
    for name, value in expected.items():
        shown = {"query": steps.query, "keys": steps.keys, "values": steps.values,
                 "inputs": a.sentence.vectors, "weights": column(window, WEIGHT)}[name]
        np.testing.assert_allclose(shown, value, rtol=0, atol=1e-9, err_msg=name)
    rounded = dict(item.rounded)
    if "weights" in rounded:
        np.testing.assert_allclose(column(window, WEIGHT), rounded["weights"], rtol=1e-3,
                                   atol=item.rounded_tolerance)
        np.testing.assert_allclose(steps.weights, rounded["weights"], rtol=0,
                                   atol=item.rounded_tolerance)
    if "scores" in rounded:
        np.testing.assert_allclose(column(window, SCORE), rounded["scores"], atol=5e-5)
    if "output" in rounded:  # the head output: the Σ row
        n = len(a.col_labels)
        assert panel.cell_text(n, 0) == "Σ = head output"
        np.testing.assert_allclose(shown_vector(panel.cell_text(n, WEIGHTED)),
                                   rounded["output"], rtol=1e-3)
    if queries is not None:  # the matrix lesson: every query and score on the Matrices tab
        matrices = window.computation.dock.matrices
        assert window.computation.dock.tabs.currentIndex() == 1
        q_table, a_table = matrices.panels["Q"], matrices.panels["A"]
        shown_q = [[float(q_table.cell_text(r, c)) for r in range(3)] for c in range(3)]
        shown_a = [[float(a_table.cell_text(r, c)) for r in range(3)] for c in range(3)]
        np.testing.assert_allclose(shown_q, queries)
        np.testing.assert_allclose(shown_a, item.expected["scores"])


def test_word_vector_lesson_shows_the_same_steps_as_core(window, tiny_kv):
    item = lesson("animal_it")
    window.apply(temperature=3.0, scoring="cosine")  # the lesson resets these
    settle(window)
    open_and_settle(window, item.id)
    expected = analysis_steps(run_lesson_analysis(item.id, tiny_kv))
    a = window.controller.analysis
    assert a.settings.head_strategy == "axes" and a.settings.mode == "words"
    assert a.row_labels[a.query_row] == "it"
    steps = panel_of(window).steps()
    np.testing.assert_array_equal(steps.raw_scores, expected.raw_scores)
    np.testing.assert_array_equal(steps.weights, expected.weights)
    assert [panel_of(window).cell_text(j, WEIGHT) for j in range(3)] == \
        [format_number(w) for w in expected.weights[:3]]


def test_lessons_menu_lists_every_lesson_and_modes(window):
    wiring = window.computation
    assert [a.text() for a in wiring.lesson_actions] == [item.title for item in LESSONS]
    wiring.lesson_actions[1].trigger()  # the cat sat on the mat, Alt+2
    settle(window)
    assert window.state.settings.mode == "toy" and window.state.settings.query == "sat"
    assert wiring.lesson_actions[1].shortcut().toString() == "Alt+2"
    wiring.mode_actions["words"].trigger()
    settle(window)
    a = window.controller.analysis
    assert a.settings.mode == "words" and a.query.text == "it"  # the word query comes back
    assert window.top_bar.sentence_edit.isEnabled() and wiring.inputs.isHidden()


# ------------------------------------------------------------------------------ follows controls
@pytest.mark.parametrize("changes", [
    {"temperature": 0.5}, {"scoring": "cosine", "normalization": "sparsemax"},
    {"scoring": "general", "normalization": "relu"}, {"scoring": "additive"},
    {"causal": True, "selected_head": 2}, {"exclude_self": True, "n_heads": 2, "selected_head": 1},
])
def test_panel_numbers_equal_the_core_after_control_changes(window, changes):
    window.apply(**changes)
    settle(window)
    a = window.controller.analysis
    head = window.controller.selected_head(a) or 0
    row, n = a.query_row, len(a.col_labels)
    assert panel_of(window).steps().scoring == a.settings.scoring
    for col, values in ((SCORE, a.result.scores[head, row]), (LOGIT, a.result.logits[head, row]),
                        (WEIGHT, a.weights[head, row])):
        assert [panel_of(window).cell_text(j, col) for j in range(n)] == \
            [format_number(v) for v in values]


def test_the_combo_boxes_reach_the_panel(window):
    controls = window.controls
    controls.normalization.setCurrentIndex(controls.normalization.findData("relu"))
    settle(window)
    assert "max(l_j, 0)" in panel_of(window).formulas_text()
    controls.temperature.setValue(2.0)
    settle(window)
    assert "T = 2" in panel_of(window).title_text()


# ------------------------------------------------------------------------------ clicks
def test_heatmap_click_highlights_the_key_in_the_panel_and_back(window, qtbot):
    window.heatmaps.cell_clicked.emit(9, 1)  # the query row "it", key "animal"
    settle(window)
    panel = panel_of(window)
    assert panel.highlighted_key() == 1
    assert "key “animal”" in panel.formulas_text()
    assert panel.cell_background(1, 0) == "#ffe678"
    panel._table.setCurrentIndex(panel._table.model().index(3, 1))  # a click on "not"
    settle(window)
    assert window.state.inspected_col == 3 and panel.highlighted_key() == 3


# ------------------------------------------------------------------------------ toy mode
def test_toy_table_refuses_bad_input_and_keeps_the_views(window):
    open_and_settle(window, "three_inputs")
    editor = window.computation.inputs.panel.editor
    before_toy = window.state.settings.toy
    before_image = np.array(window.heatmaps.image_for(None).image)
    before_scores = column(window, SCORE)
    editor.set_cell_text("X", 1, 2, "abc")
    settle(window)
    assert "X row 2, column 2: 'abc' is not a number" in editor.message.text()
    assert "'abc' is not a number" in window.status.message.text()
    assert window.state.settings.toy == before_toy
    np.testing.assert_array_equal(window.heatmaps.image_for(None).image, before_image)
    assert column(window, SCORE) == before_scores
    editor.set_cell_text("X", 1, 2, "-0.5")  # x2 = [0, -0.5, 0, 2]: its key [1.5, 1.5, 0]
    settle(window)
    assert window.state.settings.toy.x[1] == (0.0, -0.5, 0.0, 2.0)
    assert column(window, SCORE) == [2.0, 1.5, 4.0]
    assert len(window.token_strip.used_chips) == 3


def test_toy_size_and_outside_query(window):
    open_and_settle(window, "cat_sat_mat")
    inputs = window.computation.inputs.panel
    inputs.n_dims.setValue(3)
    settle(window)
    assert window.controller.analysis.sentence.vectors.shape == (6, 3)
    inputs.outside_query.setText("1, 1, 0")
    inputs.outside_label.setText("q")
    inputs.outside_query.editingFinished.emit()
    settle(window)
    a = window.controller.analysis
    assert a.row_labels[-1] == "q (query)" and a.query_row == 6
    np.testing.assert_allclose(panel_of(window).steps().raw_scores[:3], [0.3, 1.2, 2.0])


def test_toy_session_round_trip(window):
    open_and_settle(window, "cosine_two_vectors")
    s = window.state.settings
    assert Settings.from_json(s.to_json()) == s and s.toy.query == (2.0, 3.0)


# ------------------------------------------------------------------------------ sentence mode
def test_sentence_mode_end_to_end(window, qtbot, tiny_kv):
    dock = window.computation.dock
    dock.mode.setCurrentIndex(dock.mode.findData("sentences"))
    window.apply(head_strategy="identity", n_heads=1, scoring="cosine", temperature=1.0)
    panel = window.computation.inputs.panel
    assert window.computation.inputs.isVisible() and panel.sentences_box.isVisible()
    panel.context.setPlainText("I eat salmon\nzzz qqq\nI drink water\n")
    panel.query_sentence.clear()
    qtbot.keyClicks(panel.query_sentence, "I drink wine")
    settle(window)
    a = window.controller.analysis
    assert a.col_labels == ["I eat salmon", "I drink water"]
    assert a.row_labels == ["I eat salmon", "I drink water", "I drink wine (query)"]
    assert [chip.token.text for chip in window.token_strip.chips] == a.col_labels
    assert np.array(window.heatmaps.image_for(None).image).shape == (3, 2)
    assert a.coords.tokens.shape == (2, 2) and np.isfinite(a.coords.output).all()
    assert "zzz qqq" in window.status.message.text()  # left out, and said so
    assert [panel_of(window).cell_text(j, 0) for j in range(2)] == a.col_labels
    direct = Pipeline(tiny_kv).run(Settings(  # a fresh pipeline, only these settings
        mode="sentences", query_sentence="I drink wine", scoring="cosine", temperature=1.0,
        context_sentences=("I eat salmon", "I drink water"), head_strategy="identity", n_heads=1))
    np.testing.assert_allclose(a.query_weights[0], direct.query_weights[0], atol=1e-6)
    np.testing.assert_allclose(column(window, WEIGHT), direct.query_weights[0], rtol=1e-3)
    window.token_strip.token_clicked.emit(1)  # a context sentence can be the query too
    settle(window)
    assert window.controller.analysis.query_row == 1
    click_chip(qtbot, window.token_strip, window.token_strip.used_chips[0])
    settle(window)
    assert window.controller.analysis.query.text == "I eat salmon"
