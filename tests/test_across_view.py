"""The across-layers view (pytest-qt, a real widget offscreen): rollout or flow in, clicks out."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor
from qt_helpers import settle, show_view

from core.maths.rollout import CAVEAT, attention_rollout, flow_note
from core.transformer import load_model
from explorer.views.across_view import AcrossLayersView, label_indices
from explorer.views.palette import WEIGHT_COLORMAP

LABELS = ["[CLS]", "the", "animal", "was", "tired", "it", "[SEP]"]
TITLE = "Attention rollout, layers 1-6 (Abnar & Zuidema 2020)"
SENTENCE = "The animal was not swimming in the sea because it was running on the street."


def rows_summing_to_1(r: int, n: int, seed: int = 0) -> np.ndarray:
    weights = np.random.default_rng(seed).random((r, n)) ** 4
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def shown(qtbot, size=(640, 560)) -> AcrossLayersView:  # noqa: ANN001
    return show_view(qtbot, AcrossLayersView(), size)


def click(qtbot, view: AcrossLayersView, scene_point: QPointF) -> None:  # noqa: ANN001
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.canvas.mapFromScene(scene_point))


def pixel(view: AcrossLayersView, scene_point: QPointF) -> QColor:
    """The colour the canvas draws at a scene point."""
    image = view.canvas.grab().toImage()
    return image.pixelColor(view.canvas.mapFromScene(scene_point))


def test_the_map_is_the_matrix_row_major_with_names_and_lines(qtbot):
    view = shown(qtbot)
    n, q = len(LABELS), 5
    matrix = rows_summing_to_1(n, n)
    view.set_data(matrix, LABELS, LABELS, q, TITLE, "a note")
    settle()
    np.testing.assert_array_equal(view.image.image, matrix)
    assert view.image.axisOrder == "row-major" and list(view.image.levels) == [0, 1]
    assert view.tick_labels() == (LABELS, LABELS)  # few tokens: every one named
    assert view.title.text() == TITLE
    assert view.caveat.text() == CAVEAT and view.caveat.isVisible()
    assert view.note.text() == "a note" and view.note.isVisible()
    assert view.map.row_box.isVisible()
    assert view.map.row_box.rect() == QRectF(0, q, n, 1)  # the query row outlined
    np.testing.assert_allclose(view.bar_heights(), matrix[q])  # the query row's bars
    rect = view.image.sceneBoundingRect()
    assert rect.width() == pytest.approx(rect.height(), abs=1)  # square cells
    assert rect.width() > 250  # as large as the canvas allows
    assert view.canvas.sceneRect().contains(view.strip.sceneBoundingRect())


def test_row_major_on_screen_too(qtbot):
    view = shown(qtbot)
    matrix = np.zeros((3, 4), np.float32)
    matrix[0, 3] = 1.0  # top right: the brightest colour, everything else the darkest
    view.set_data(matrix, ["a", "b", "c"], ["w", "x", "y", "z"], None, TITLE)
    settle()
    bright, dark = (WEIGHT_COLORMAP.map(v, mode="qcolor") for v in (1.0, 0.0))
    for (row, col), colour in (((0, 3), bright), ((2, 0), dark), ((0, 0), dark),
                               ((2, 3), dark)):
        seen = pixel(view, view.cell_scene_pos(row, col))
        assert abs(seen.red() - colour.red()) + abs(seen.green() - colour.green()) < 12, (row, col)
    assert not view.map.row_box.isVisible()  # no query row: no outline, no bars
    assert view.bar_heights().size == 0


def test_one_row_of_flow(qtbot):
    view = shown(qtbot)
    row = rows_summing_to_1(1, len(LABELS))
    view.set_data(row, ["it"], LABELS, 0, "Attention flow, layers 1-6", flow_note())
    settle()
    np.testing.assert_array_equal(view.image.image, row)
    assert view.map.row_box.rect() == QRectF(0, 0, len(LABELS), 1)
    assert view.tick_labels() == (["it"], LABELS)
    assert view.note.text() == flow_note()


def test_many_tokens_are_thinned_but_the_query_is_named(qtbot):
    view = shown(qtbot, (420, 420))
    labels = [f"t{i}" for i in range(120)]
    view.set_data(rows_summing_to_1(120, 120), labels, labels, 57, TITLE)
    settle()
    rows, cols = view.tick_labels()
    assert "t57" in rows and "t57" in cols and "t0" in rows
    assert 5 < len(rows) < 60
    view.set_data(rows_summing_to_1(120, 120, seed=1), labels, labels, 58, TITLE)
    assert "t58" in view.tick_labels()[0]  # a new query row is named at once


def test_label_indices_keep_the_query_and_thin_evenly():
    assert label_indices(5, 1, 3) == [0, 1, 2, 3, 4]
    assert label_indices(10, 3) == [0, 3, 6, 9]
    assert label_indices(10, 3, 4) == [0, 4, 9]  # 3 and 6 are too close to the query
    assert label_indices(10, 3, 9) == [0, 3, 6, 9]
    assert label_indices(0, 3, 0) == []


def test_clicking_a_cell_or_a_bar_says_which(qtbot):
    view = shown(qtbot)
    n = len(LABELS)
    view.set_data(rows_summing_to_1(n, n), LABELS, LABELS, 2, TITLE)
    settle()
    clicked: list[tuple[int, int]] = []
    view.cell_clicked.connect(lambda r, c: clicked.append((r, c)))
    click(qtbot, view, view.cell_scene_pos(4, 1))
    click(qtbot, view, view.cell_scene_pos(0, 6))
    bars = view.strip.vb.sceneBoundingRect()
    click(qtbot, view, QPointF(bars.left() + bars.width() * 5.5 / n, bars.center().y()))
    assert clicked == [(4, 1), (0, 6), (2, 5)]  # a bar is the query row's cell


def test_none_clears_and_shows_the_note(qtbot):
    view = shown(qtbot)
    n = len(LABELS)
    view.set_data(rows_summing_to_1(n, n), LABELS, LABELS, 1, TITLE, "note")
    assert view.message_text() is None
    view.set_data(None, [], [], None, "Attention flow", "Type a sentence to see the flow.")
    settle()
    assert view.message_text() == "Type a sentence to see the flow."
    assert view.message.geometry() == view.canvas.rect()
    assert not view.map.plot.isVisible() and not view.strip.isVisible()
    assert not view.note.isVisible() and view.caveat.isVisible()
    assert view.bar_heights().size == 0 and view.tick_labels() == ([], [])
    clicked: list[tuple[int, int]] = []
    view.cell_clicked.connect(lambda r, c: clicked.append((r, c)))
    click(qtbot, view, QPointF(view.canvas.width() / 2, view.canvas.height() / 2))
    assert clicked == []
    view.set_data(rows_summing_to_1(n, n), LABELS, LABELS, 1, TITLE, "back")
    settle()
    assert view.message_text() is None and view.map.plot.isVisible()
    assert view.tick_labels() == (LABELS, LABELS)


def test_stale_overlay(qtbot):
    view = shown(qtbot)
    view.set_data(rows_summing_to_1(3, 3), LABELS[:3], LABELS[:3], 0, TITLE)
    assert view.stale_message() is None
    view.set_stale("updating…")
    assert view.stale_message() == "updating…"
    assert view.overlay.geometry() == view.canvas.rect()
    view.resize(500, 400)
    settle()
    assert view.overlay.geometry() == view.canvas.rect()  # follows the canvas
    view.set_stale(None)
    assert view.stale_message() is None


def test_bad_input_is_refused(qtbot):
    view = shown(qtbot)
    with pytest.raises(ValueError, match="rows, columns"):
        view.set_data(np.zeros((2, 2, 2)), [], [], None, TITLE)
    view.set_data(np.zeros((0, 0)), [], [], None, TITLE, "no tokens")  # empty: nothing drawn
    assert view.message_text() == "no tokens"
    view.set_data(rows_summing_to_1(2, 3), ["a"], [], 7, TITLE)  # short labels, query outside
    assert view.tick_labels() == (["a", "#1"], ["#0", "#1", "#2"])
    assert not view.map.row_box.isVisible()


def test_a_real_rollout(qtbot, tmp_path):
    run = load_model().run(SENTENCE)
    rollout = attention_rollout(run.attentions)[-1]  # (n, n) after all six layers
    view = shown(qtbot, (700, 620))
    query = run.tokens.index("it")
    view.set_data(rollout, run.tokens, run.tokens, query, TITLE, "")
    settle()
    np.testing.assert_array_equal(view.image.image, rollout.astype(np.float32))
    assert view.tick_labels()[0][query] == "it"
    assert not view.note.isVisible()
    assert view.grab().save(str(tmp_path / "across_view.png"))


def test_pointing_at_a_cell_reads_it(qtbot):
    view = shown(qtbot)
    matrix = rows_summing_to_1(3, 3)
    view.set_data(matrix, ["a", "b", "c"], ["a", "b", "c"], 0, TITLE)
    settle()
    qtbot.mouseMove(view.canvas.viewport(), view.canvas.mapFromScene(view.cell_scene_pos(2, 1)))
    qtbot.waitUntil(lambda: view.readout.text().startswith("c after these layers, from b"))
    assert view.readout.text().endswith(f"{matrix[2, 1]:.4f}")
