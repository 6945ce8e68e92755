"""Lessons say exactly what they show (the real window, offscreen): the lesson text, the toy editor
and the status bar agree on the numbers and on W_O, a lesson's text is in sight when it opens, the
person's own settings come back when it closes, and toy mode hides the controls that mean nothing
for hand-typed vectors."""

from __future__ import annotations

import pytest
from conftest import make_tiny_vectors
from gensim.models import KeyedVectors
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from qt_helpers import settle

from core.explain.steps import format_number
from explorer.main_window import MainWindow, open_lesson


@pytest.fixture
def window(open_window, tiny_kv: KeyedVectors) -> MainWindow:
    return open_window(tiny_kv)


def recompute(window: MainWindow) -> None:
    settle()
    window.controller.flush()
    settle()


def show_lesson(window: MainWindow, lesson_id: str) -> None:
    open_lesson(window, window.computation, lesson_id)
    recompute(window)


def vector_text(values) -> str:  # noqa: ANN001 (a NumPy row)
    """A vector as the steps panel writes it: "[0.812, 1.218, 0.5317, 1.405]"."""
    return "[" + ", ".join(format_number(float(v)) for v in values) + "]"


def test_three_inputs_lesson_editor_status_and_text_agree_on_w_o(window):
    show_lesson(window, "three_inputs")
    a = window.controller.analysis
    editor_title = window.computation.inputs.panel.editor.titles["W_O"].text()
    assert "pinv(W_V)" in editor_title and "head output itself" not in editor_title
    assert "pinv(W_V)" in window.status.message.text()
    text = window.computation.dock.lesson_text.text()
    final = a.result.output[a.query_row]  # (4,) after W_O = pinv(W_V)
    assert vector_text(final) in text  # the final output on screen, said by the lesson
    assert "[1.9366, 6.6831, 1.5951]" in text  # the article's vector: the head output
    head_output = a.result.head_outputs[0, a.query_row]
    assert [round(float(v), 4) for v in head_output] == [1.9366, 6.6831, 1.5951]


def test_cat_sat_lesson_says_why_its_output_is_not_the_articles(window):
    show_lesson(window, "cat_sat_mat")
    a = window.controller.analysis
    text = window.computation.dock.lesson_text.text()
    output = a.result.output[a.query_row]
    shown = f"[{output[0]:.4f}, {output[1]:.4f}]"
    assert shown == "[0.6536, 0.5797]" and shown in text
    assert "[0.7, 0.5]" in text and "[0.7, 0.6]" in text  # the article's, and ours rounded
    title = window.computation.inputs.panel.editor.titles["W_O"].text()
    assert "concatenation" in title  # 2 x 2 W_V: no W_O at all, and the editor says so


def test_opening_a_lesson_scrolls_its_text_into_sight(open_window, tiny_kv):
    window = open_window(tiny_kv, size=(1000, 560))  # a short window: the dock scrolls
    area = window.computation.dock.widget()
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())  # the person scrolled down to the step table
    show_lesson(window, "cat_sat_mat")
    assert bar.value() == 0
    text = window.computation.dock.lesson_text
    assert text.isVisible() and text.visibleRegion().boundingRect().height() > 0


def test_closing_a_lesson_brings_the_persons_settings_back(window, qtbot):
    window.apply(n_heads=2, scoring="cosine", temperature=2.0)
    recompute(window)
    own = window.state.settings
    show_lesson(window, "three_inputs")
    show_lesson(window, "cat_sat_mat")  # from one lesson to the next
    assert window.state.settings.n_heads == 1 and window.state.settings.mode == "toy"
    qtbot.mouseClick(window.computation.dock.close_lesson, Qt.MouseButton.LeftButton)
    recompute(window)
    assert window.state.settings == own
    assert window.controller.analysis.weights.shape[0] == 2
    assert not window.computation.dock.lesson_text.isVisible()
    show_lesson(window, "animal_it")  # the menu's entry closes a lesson the same way
    close = next(a for a in window.menuBar().findChildren(QAction)
                 if a.text() == "Close the lesson")
    close.trigger()
    recompute(window)
    assert window.state.settings == own


def test_resetting_the_settings_during_a_lesson_ends_it(window):
    window.apply(n_heads=2, scoring="cosine")
    recompute(window)
    show_lesson(window, "cat_sat_mat")
    window.edits.reset_settings()  # Reset settings: the defaults are the person's own now
    recompute(window)
    reset = window.state.settings
    assert reset.n_heads == 4 and reset.mode == "words"
    assert not window.state.in_lesson
    assert not window.computation.dock.lesson_text.isVisible()  # no lesson text over them
    close = next(a for a in window.menuBar().findChildren(QAction)
                 if a.text() == "Close the lesson")
    close.trigger()  # nothing to close: the settings from before the lesson do not come back
    recompute(window)
    assert window.state.settings == reset


def test_toy_mode_hides_what_means_nothing_for_typed_vectors(window):
    c = window.controls
    word_only = (c.head_strategy, c.seed, c.oov_policy, c.projection, c.show_neighbours)
    assert c.head_strategy.isVisible() and c.projection.isVisible()
    show_lesson(window, "three_inputs")
    assert not any(w.isVisible() for w in word_only)
    assert c.n_heads.isVisible() and c.scoring.isVisible() and c.toy_map_note.isVisible()
    window.computation.dock.close_lesson.click()
    recompute(window)
    assert c.head_strategy.isVisible() and c.oov_policy.isVisible()
    assert not c.toy_map_note.isVisible()


@pytest.mark.parametrize(("strategy", "said"), [
    ("split", "each of the 4 heads uses 2 of the 10 dimensions, 2 are left unused (10 is not a "
              "multiple of 4)"),
    ("random", "each of the 4 heads mixes all 10 dimensions into d_k = 2 (10 / 4 rounded down)"),
    ("pca", "each of the 4 heads mixes all 10 dimensions into 2 principal components; the 2 "
            "with the least variance are left out (10 is not a multiple of 4)"),
])
def test_an_automatic_d_k_that_leaves_dimensions_out_is_said_in_words(open_window, strategy,
                                                                      said):
    # 4 heads x d_k 2 of 10 dimensions: only split heads see slices (2 dimensions unseen);
    # random and PCA heads each mix all 10 input dimensions.
    window = open_window(make_tiny_vectors(dim=10))
    assert window.apply(head_strategy=strategy)
    recompute(window)
    message = window.status.message.text()
    assert said in message
    assert strategy == "split" or "dimensions, 2 are left unused" not in message
