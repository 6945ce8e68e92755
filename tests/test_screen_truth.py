"""What the screen shows is always true (the real window, offscreen): refused settings never leave
older numbers looking current, an error marks the field at fault, the arrow keys work after any
click, and the toy editor and the status bar tell one story."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY_WORDS
from gensim.models import KeyedVectors
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from qt_helpers import settle

from explorer.main_window import MainWindow


@pytest.fixture
def window(open_window, tiny_kv: KeyedVectors) -> MainWindow:
    return open_window(tiny_kv)


def recompute(window: MainWindow) -> None:
    settle()
    window.controller.flush()
    settle()


def sheet_text(view) -> str:  # noqa: ANN001 (any view widget)
    """The "No result" sheet over ``view``: its text when shown, "" when the view is current."""
    from explorer.views.overlay import NoResultOverlay

    sheets = [s for s in view.findChildren(NoResultOverlay) if not s.isHidden()]  # (tab unseen)
    return sheets[0].text() if sheets else ""


def choose(combo, name: str) -> None:  # noqa: ANN001
    combo.setCurrentIndex(combo.findData(name))


# ------------------------------------------------------------------ refused settings: no result


def test_vectors_that_know_no_word_of_the_sentence_hide_the_old_result(window, qtbot, tmp_path):
    path = tmp_path / "four.txt"
    four = KeyedVectors(3)
    four.add_vectors(["alpha", "beta", "gamma", "delta"], np.eye(4, 3, dtype=np.float32) + 0.1)
    four.save_word2vec_format(str(path))
    old = window.controller.analysis
    assert window.load_vectors(str(path))
    qtbot.waitUntil(lambda: window.state.kv is not None and len(window.state.kv) == 4,
                    timeout=20_000)
    recompute(window)
    assert window.controls.n_heads.value() == 3  # the header's 3 dims allow 3 heads
    assert window.controller.analysis is old  # nothing newer could be computed...
    steps = window.computation.dock.widget()  # the step panel's old arithmetic too
    for view in (window.heatmaps, window.latent, window.token_strip, steps):  # none is shown
        assert "No result" in sheet_text(view) and "the sentence's words is in these" in \
            sheet_text(view), view
    assert window.top_bar.sentence_edit.styleSheet()  # the sentence is the field at fault

    window.apply(sentence="alpha beta gamma", query="beta")
    recompute(window)
    assert window.controller.analysis.col_labels == ["alpha", "beta", "gamma"]
    assert all(sheet_text(v) == "" for v in (window.heatmaps, window.latent, window.token_strip,
                                              steps))


def test_file_strategy_without_a_file_shows_no_result(window):
    choose(window.controls.head_strategy, "axes")
    recompute(window)
    assert sheet_text(window.heatmaps) == ""
    choose(window.controls.head_strategy, "file")
    recompute(window)
    for view in (window.heatmaps, window.latent, window.lines):
        assert "No result" in sheet_text(view) and ".npz" in sheet_text(view)
    assert "npz" in window.status.message.text().lower()
    # The field at fault is the matrices' file button, not the sentence.
    assert not window.top_bar.sentence_edit.styleSheet()
    assert "d62728" in window.controls.heads_file_button.styleSheet()
    choose(window.controls.head_strategy, "random")
    recompute(window)
    assert sheet_text(window.heatmaps) == "" and not window.controls.heads_file_button.styleSheet()


# ------------------------------------------------------------------ errors mark the field at fault


def test_an_unknown_word_in_the_word_pairs_marks_that_field(window, qtbot):
    choose(window.controls.head_strategy, "axes")
    recompute(window)
    good = window.state.settings.head_axes
    window.controls.head_axes.clear()
    qtbot.keyClicks(window.controls.head_axes, "zzzqqq-food")
    qtbot.keyClick(window.controls.head_axes, Qt.Key.Key_Return)
    recompute(window)
    assert window.state.settings.head_axes == good  # the last good pairs stay in use
    assert "d62728" in window.controls.head_axes.styleSheet()
    assert not window.top_bar.sentence_edit.styleSheet()
    assert "zzzqqq" in window.status.message.text()
    assert "zzzqqq" in window.controls.head_axes.toolTip()
    window.controls.head_axes.clear()
    qtbot.keyClicks(window.controls.head_axes, "wine-food")
    recompute(window)
    assert window.state.settings.head_axes == (("wine", "food"),)
    assert not window.controls.head_axes.styleSheet()


def test_pairs_unknown_to_newly_loaded_vectors_mark_the_pairs_not_the_sentence(window, tiny_kv):
    choose(window.controls.head_strategy, "axes")
    recompute(window)
    fewer = KeyedVectors(8)
    keep = [w for w in TINY_WORDS if w not in ("wine", "food")]
    fewer.add_vectors(keep, np.stack([tiny_kv[w] for w in keep]))
    window.set_vectors(fewer, None)
    recompute(window)
    assert "wine" in window.status.message.text()
    assert "d62728" in window.controls.head_axes.styleSheet()
    assert not window.top_bar.sentence_edit.styleSheet()
    assert "No result" in sheet_text(window.heatmaps)


def test_latent_axes_change_on_a_finished_known_word_only(window, qtbot):
    choose(window.controls.projection, "axes")
    recompute(window)
    good = window.state.settings.projection_axes
    labels = window.controller.analysis.coords.axis_labels
    edit = window.controls.axis_words[1]
    edit.setFocus()
    edit.clear()
    qtbot.keyClicks(edit, "sea")  # "s", "se" on the way: never an axis
    assert window.state.settings.projection_axes == good
    qtbot.keyClicks(edit, "qq")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    recompute(window)
    assert window.state.settings.projection_axes == good  # "seaqq" is no word: kept
    assert window.controller.analysis.coords.axis_labels == labels
    assert "d62728" in edit.styleSheet() and "seaqq" in window.status.message.text()
    assert not window.top_bar.sentence_edit.styleSheet()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    recompute(window)
    assert window.state.settings.projection_axes[1] == "sea"
    assert not edit.styleSheet() and "seaqq" not in window.status.message.text()


def test_typing_the_axis_word_in_use_again_clears_the_error(window, qtbot):
    choose(window.controls.projection, "axes")
    recompute(window)
    edit = window.controls.axis_words[0]
    word = edit.text()
    edit.setFocus()
    qtbot.keyClicks(edit, "qq")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert "qq" in window.status.message.text()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # the word in use: nothing to recompute
    recompute(window)
    assert edit.text() == word and not edit.styleSheet()
    assert "not in the vocabulary" not in window.status.message.text()
    assert "tokens x" in window.status.message.text()


# ------------------------------------------------------------------ keyboard after clicks


def test_arrow_keys_work_after_clicking_a_token_chip(window, qtbot):
    window.top_bar.query_edit.setFocus()  # as after typing the query
    chip = window.token_strip.used_chips[2]
    qtbot.mouseClick(window.token_strip, Qt.MouseButton.LeftButton,
                     pos=chip.rect.topLeft() + QPoint(3, 3))
    recompute(window)
    assert window.state.settings.query_index == 2
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Right)
    recompute(window)
    assert window.state.settings.query_index == 3
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Down)
    recompute(window)
    assert window.state.settings.selected_head == 0


# ------------------------------------------------------------------ one story about the toy inputs


def open_lesson_in(window: MainWindow, lesson_id: str) -> None:
    from explorer.main_window import open_lesson

    open_lesson(window, window.computation, lesson_id)
    recompute(window)


def test_fixing_a_bad_toy_cell_clears_the_status_bar_error(window):
    open_lesson_in(window, "three_inputs")
    editor = window.computation.inputs.panel.editor
    summary = window.status.message.text()
    editor.set_cell_text("X", 1, 2, "abc")
    recompute(window)
    assert "'abc' is not a number" in window.status.message.text()
    editor.set_cell_text("X", 1, 2, "2")  # back to the value in use: nothing to recompute
    recompute(window)
    assert editor.message.text() == "Inputs are valid."
    assert "not a number" not in window.status.message.text()
    assert window.status.message.text() == summary


def test_a_wrong_length_outside_query_is_said_by_the_editor_too(window):
    open_lesson_in(window, "cat_sat_mat")
    panel = window.computation.inputs.panel
    panel.outside_query.setText("1, 2, 3")  # the tokens have 2 dimensions
    panel.outside_query.editingFinished.emit()
    recompute(window)
    assert "3 numbers" in window.status.message.text()
    assert "3 numbers" in panel.editor.message.text()
    assert "Inputs are valid" not in panel.editor.message.text()
    assert "d62728" in panel.outside_query.styleSheet()
    panel.outside_query.setText("1, 1")
    panel.outside_query.editingFinished.emit()
    recompute(window)
    assert panel.editor.message.text() == "Inputs are valid."
    assert "3 numbers" not in window.status.message.text()
    assert not panel.outside_query.styleSheet()


def test_the_heatmap_readout_does_not_survive_into_other_tokens(window):
    grid = window.heatmaps
    centre = grid.focused.image.mapToScene(QPointF(1.5, 2.5))
    grid.canvas.scene().sigMouseMoved.emit(centre)  # the pointer over a cell
    assert "→" in grid.hover_label.text()
    open_lesson_in(window, "cat_sat_mat")
    assert "→" not in grid.hover_label.text()
    assert "animal" not in grid.hover_label.text()


def test_the_heatmap_readout_follows_new_weights_under_a_still_pointer(window):
    """The pointer rests on a cell and a key press sharpens the softmax: the readout gives the
    new weight of that cell, not the one it had before."""
    grid = window.heatmaps  # the large map is the mean of the heads
    centre = grid.focused.image.mapToScene(QPointF(1.5, 2.5))  # row 2, column 1
    grid.canvas.scene().sigMouseMoved.emit(centre)
    before = grid.hover_label.text()
    assert window.state.settings.temperature != 3.0
    window.controls.temperature.setValue(3.0)
    recompute(window)
    weight = float(window.controller.analysis.mean_weights[2, 1])
    assert grid.hover_label.text() != before
    assert grid.hover_label.text().endswith(f"{weight:.4f}")
    assert grid.hover_label.text().startswith("mean of heads:")


def test_a_token_of_the_old_sentence_cannot_be_clicked_under_no_result(window, qtbot):
    choose(window.controls.head_strategy, "file")
    recompute(window)
    query = window.state.settings.query
    chip = window.token_strip.used_chips[1]
    # Through the window, as a real click: Qt gives it to the topmost widget at that point.
    where = window.token_strip.mapTo(window, chip.rect.topLeft() + QPoint(3, 3))
    QTest.mouseClick(window.windowHandle(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0),
                     where)
    recompute(window)
    assert window.state.settings.query == query  # the sheet took the click
    choose(window.controls.head_strategy, "random")
    recompute(window)
    QTest.mouseClick(window.windowHandle(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0),
                     where)
    recompute(window)
    assert window.state.settings.query == "animal"  # a current chip takes it


def test_left_right_do_not_step_through_the_old_sentence_under_no_result(window, qtbot):
    window.apply(sentence="zzz qqq", query="it")  # no known word: no result
    recompute(window)
    assert "No result" in sheet_text(window.heatmaps)
    qtbot.keyClick(window.heatmaps, Qt.Key.Key_Right)
    recompute(window)
    assert window.state.settings.query == "it" and window.state.settings.query_index is None
