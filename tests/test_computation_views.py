"""The computation panel, matrix view and toy editor show the lessons' numbers (pytest-qt)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import analysis_matrices, analysis_steps, run_lesson_analysis
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyleOptionViewItem
from qt_helpers import PaintCounter

from core.explain.lessons import lesson
from core.explain.steps import format_number
from core.maths.statistics import head_statistics
from explorer.views.computation_view import ComputationPanel
from explorer.views.matrix_view import MatrixView
from explorer.views.toy_editor import ToyVectorEditor


def _steps(lesson_id: str, head: int | None = None):
    """A toy lesson's analysis and the step table the window makes of it."""
    a = run_lesson_analysis(lesson_id)
    return a, analysis_steps(a, head)


@pytest.fixture
def panel(qtbot):
    widget = ComputationPanel()
    qtbot.addWidget(widget)
    return widget


def test_panel_shows_the_lesson_numbers(panel):
    a, steps = _steps("three_inputs")
    panel.set_steps(steps)
    panel.set_statistics(head_statistics(a.result.weights, a.query_row, a.col_labels))
    assert [panel.cell_text(j, 0) for j in range(3)] == ["x1", "x2", "x3"]
    assert [panel.cell_text(j, 1) for j in range(3)] == ["2", "4", "4"]
    assert [panel.cell_text(j, 5) for j in range(3)] == ["0.06338", "0.4683", "0.4683"]
    assert panel.cell_text(3, 0) == "Σ = head output"
    assert panel.cell_text(3, 6) == "[1.937, 6.683, 1.595]"
    assert "score = q·k = 1·4 + 0·4 + 2·0 = 4" in panel.formulas_text()  # strongest key x2
    assert panel.statistics.head_row_texts(0)[3] == "x2"


def test_formula_box_is_drawn_as_readable_text_on_the_panel_colour(panel, qtbot):
    panel.resize(900, 500)
    panel.show()
    panel.set_steps(_steps("three_inputs")[1])
    qtbot.wait(1)
    image = panel._text.grab().toImage()
    background = panel.palette().color(panel.backgroundRole())
    corner = image.pixelColor(image.width() - 3, image.height() - 3)  # right of the text
    assert corner == background  # not black, not a white field
    dark = sum(image.pixelColor(x, y).lightness() < 100
               for x in range(0, image.width(), 3) for y in range(0, image.height(), 3))
    assert dark > 50  # the text itself


def test_highlight_key_rewrites_the_formulas_both_ways(panel, qtbot):
    _, steps = _steps("three_inputs")
    panel.set_steps(steps)
    panel.highlight_key(0)
    assert panel.highlighted_key() == 0
    assert "score = q·k = 1·0 + 0·1 + 2·1 = 2" in panel.formulas_text()
    assert "exp(2 − 4)" in panel.formulas_text()
    panel.highlight_key(None)
    assert "1·4 + 0·4" in panel.formulas_text()
    with qtbot.waitSignal(panel.key_selected, timeout=1000) as blocker:
        panel._table.setCurrentIndex(panel._table.model().index(2, 1))  # a click on x3's row
    assert blocker.args == [2] and panel.highlighted_key() == 2
    assert panel.cell_background(2, 0) == "#ffe678" and panel.cell_background(0, 0) is None
    # A new computation keeps the highlighted key and updates in place (same model, same row).
    model = panel._table.model()
    panel.set_steps(_steps("matrix_view")[1])
    assert panel._table.model() is model and panel.highlighted_key() == 2
    assert panel._table.currentIndex().row() == 2 and panel.cell_background(2, 3) == "#ffe678"


def test_panel_with_word_vectors_shows_wo_and_head_note(panel, tiny_kv):
    a = run_lesson_analysis("animal_it", tiny_kv)
    panel.set_steps(analysis_steps(a))
    n = len(a.col_labels)
    assert panel.cell_text(n + 1, 0) == "W_O part (output)"
    assert "head 1 of 4" in panel.title_text()
    panel.set_statistics(head_statistics(a.result.weights, a.query_row, a.col_labels))
    assert panel.statistics.similarity_size() == 4
    # Heads are counted from 1 in every table, as in the heatmaps and the head selector.
    stats = panel.statistics
    across, down = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    assert stats._heads_model.headerData(0, down) == "head 1"
    assert [stats._similarity_model.headerData(c, across) for c in range(4)] == list("1234")
    # Each similarity cell is shaded orange as opaque as its value: a head with itself fully.
    similarity = stats.models()[1]
    sims = head_statistics(a.result.weights, a.query_row, a.col_labels).similarity
    for r in range(4):
        for c in range(4):
            shade = similarity.cell_background(r, c)
            assert (shade.red(), shade.green(), shade.blue()) == (255, 140, 0)
            assert shade.alpha() == int(sims[r, c] * 120)
            assert similarity.cell_text(r, c) == f"{sims[r, c]:.2f}"
    assert similarity.cell_background(0, 0).alpha() == 120


def _cells_fit(table, rows) -> bool:  # noqa: ANN001
    """Every cell of ``rows`` (but the stretched last column) is as wide as its text needs."""
    option = QStyleOptionViewItem()
    table.initViewItemOption(option)
    model = table.model()
    return all(table.itemDelegate().sizeHint(option, model.index(r, c)).width() + 1
               <= table.columnWidth(c) for r in rows for c in range(model.columnCount() - 1))


def _shown_steps(panel, qtbot, tiny_kv):
    """The panel on screen with a lesson's steps, set again once laid out (the formulas above
    took room): the column widths start anew."""
    a = run_lesson_analysis("animal_it", tiny_kv)
    panel.resize(900, 320)
    panel.show()
    qtbot.waitExposed(panel)
    steps = analysis_steps(a, 1)
    panel.set_steps(steps)
    qtbot.waitUntil(lambda: len(panel._table.rows_on_screen()) > 0)
    panel.set_steps(steps)
    return steps


def test_step_columns_fit_the_rows_on_screen_and_scrolled_to(panel, qtbot, tiny_kv):
    _shown_steps(panel, qtbot, tiny_kv)
    table = panel._table
    first = table.rows_on_screen()
    assert len(first) < table.model().rowCount()  # the test needs rows off screen
    assert _cells_fit(table, first)
    last = table.model().rowCount() - 1
    assert not _cells_fit(table, [last - 1])  # "Σ = head output" in bold: wider than any key

    def bottom_shown_and_fitted() -> bool:  # the Σ and W_O rows (bold, longer) in view, fitted
        table.scrollToBottom()
        rows = table.rows_on_screen()
        return last in rows and _cells_fit(table, rows)

    qtbot.waitUntil(bottom_shown_and_fitted)


def test_matrix_view_titles_and_numbers(qtbot):
    view = MatrixView()
    qtbot.addWidget(view)
    a = run_lesson_analysis("matrix_view")
    assert a.query_row == 0
    view.set_matrices(analysis_matrices(a, 0))
    assert view.title("I") == "I: d×n = 4×3"
    assert view.title("Q") == "Q: d_k×n = 3×3"
    assert view.title("A′") == "A′: n×n = 3×3"
    assert view.title("O") == "O: d_v×n = 3×3"
    assert view.panels["I_q"].isHidden()
    a = view.panels["A"]
    assert [a.cell_text(j, 0) for j in range(3)] == ["2", "4", "4"]  # the first query's column
    assert not view.panels["A"].is_heatmap()
    assert "score = 4" in view.vector_label.text()


def test_matrix_view_uses_heatmaps_for_large_matrices(qtbot, tiny_kv):
    view = MatrixView()
    qtbot.addWidget(view)
    a = run_lesson_analysis("animal_it", tiny_kv)
    data = analysis_matrices(a, 1)
    view.set_matrices(data)
    n = len(a.col_labels)
    assert view.title("A") == f"A: n×n = {n}×{n}" and n > 12
    panel = view.panels["A′"]
    assert panel.is_heatmap() and panel.image.image.shape == (n, n)
    image = panel.image
    view.set_matrices(data)  # updated in place: the same ImageItem
    assert view.panels["A′"].image is image


@pytest.fixture
def editor(qtbot):
    widget = ToyVectorEditor()
    qtbot.addWidget(widget)
    item = lesson("three_inputs")
    widget.set_toy(item.tokens, item.inputs, item.w_q, item.w_k, item.w_v, None)
    return widget


@pytest.mark.parametrize(("row", "col", "text", "expected"), [
    (1, 2, "abc", "X row 2, column 2: 'abc' is not a number"),
    (1, 2, "", "X row 2, column 2 is empty"),
    (1, 4, "", "X row 2 has 3 numbers but needs 4 (ragged"),
])
def test_toy_editor_rejects_bad_cells(editor, qtbot, row, col, text, expected):
    before = editor.toy()
    emitted = []
    editor.toy_changed.connect(emitted.append)
    editor.set_cell_text("X", row, col, text)
    assert expected in editor.message.text()
    assert "last valid values" in editor.message.text()
    assert editor.tables["X"].item(row, col).background().color().red() == 255
    assert editor.toy() is before and emitted == []
    np.testing.assert_array_equal(editor.toy().x[1], [0, 2, 0, 2])


def test_toy_editor_rejects_bad_matrix_cell(editor):
    editor.set_cell_text("W_K", 0, 0, "1,5")
    assert "W_K row 1, column 1: '1,5' is not a number" in editor.message.text()
    # The message's numbers are the ones on the table's headers.
    table = editor.tables["W_K"]
    assert table.horizontalHeaderItem(0).text() == "1" and table.model().headerData(
        0, Qt.Orientation.Vertical) == 1
    assert editor.tables["X"].horizontalHeaderItem(2).text() == "d2"  # "X ... column 2"


def test_toy_editor_emits_valid_inputs_for_a_good_edit(editor, qtbot):
    editor.set_cell_text("X", 1, 2, "abc")
    with qtbot.waitSignal(editor.toy_changed, timeout=1000) as blocker:
        editor.set_cell_text("X", 1, 2, "-0.5")
    toy = blocker.args[0]
    np.testing.assert_array_equal(toy.x[1], [0, -0.5, 0, 2])
    assert toy.tokens == ("x1", "x2", "x3") and toy.w_o is None
    assert editor.message.text() == "Inputs are valid."
    assert editor.tables["X"].item(1, 2).background().color().alpha() == 0
    editor.set_cell_text("X", 0, 0, "first")
    assert editor.toy().tokens[0] == "first"


def test_step_columns_refit_after_a_font_change(panel, qtbot, tiny_kv):
    """Text widths are remembered between updates: a new font must measure them again."""
    steps = _shown_steps(panel, qtbot, tiny_kv)
    table = panel._table
    narrow = table.columnWidth(1)
    font = table.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    table.setFont(font)
    panel.set_steps(steps)
    assert table.columnWidth(1) > narrow
    assert _cells_fit(table, table.rows_on_screen())


def test_new_numbers_in_the_same_rows_repaint_only_their_columns(panel, qtbot, tiny_kv):
    steps = analysis_steps(run_lesson_analysis("animal_it", tiny_kv), 1)
    model = panel._table.model()
    panel.set_steps(steps)
    announced: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: announced.append(
        (a.row(), a.column(), b.row(), b.column())))
    hotter = dataclasses.replace(  # what a new temperature changes
        steps, tempered=steps.tempered / 2, logits=steps.logits / 2,
        weights=steps.weights[::-1].copy(), weighted_values=steps.weighted_values * 2)
    panel.set_steps(hotter)
    last = model.rowCount() - 1
    assert announced == [(0, 3, last, 6)]  # keys, scores, scaled scores: as they were
    assert panel.cell_text(0, 3) == format_number(hotter.tempered[0])
    assert panel.cell_text(0, 5) == format_number(hotter.weights[0])
    announced.clear()
    renamed = dataclasses.replace(hotter, key_labels=tuple(f"k{i}" for i in range(
        len(hotter.key_labels))))
    panel.set_steps(renamed)  # other words, as many: the key column too
    assert announced == [(0, 0, last, 0)] and panel.cell_text(0, 0) == "k0"


def test_new_steps_that_change_the_column_widths_paint_the_table_once(panel, qtbot, tiny_kv):
    # QTableView repaints resized columns from a zero-time timer, after the paint of the new
    # numbers: with a trained model each layer step painted the table twice.
    steps = _shown_steps(panel, qtbot, tiny_kv)
    table = panel._table
    paints = PaintCounter(table.viewport())
    wider = dataclasses.replace(steps, tempered=steps.tempered * 1e-7, logits=steps.logits * 1e7)
    for new in (wider, steps):
        widths = [table.columnWidth(c) for c in range(table.model().columnCount())]
        before = paints.count
        panel.set_steps(new)
        assert [table.columnWidth(c) for c in range(len(widths))] != widths
        qtbot.waitUntil(lambda b=before: paints.count > b)
        qtbot.wait(20)  # that timer would have fired, and painted again, by now
        assert paints.count == before + 1
        assert _cells_fit(table, table.rows_on_screen())


def test_an_outside_query_is_named_by_its_word_not_its_row_label(panel, tiny_kv):
    from core.pipeline import Pipeline
    from core.settings import Settings

    a = Pipeline(tiny_kv).run(Settings(sentence="the animal was not swimming", query="cat"))
    assert a.row_labels[a.query_row] == "cat (query)"  # the heatmap row keeps its marker
    panel.set_steps(analysis_steps(a, 0))
    assert panel.title_text().startswith("Query “cat”, head 1 of 4")
    assert "query “cat” q = [" in panel.formulas_text()
    panel.set_steps(analysis_steps(run_lesson_analysis("drink_water_cosine"), 0))
    assert panel.title_text().startswith("Query “I drink water with fine”, one head")
    assert "(query)" not in panel.title_text() + panel.formulas_text()


def test_a_long_key_is_elided_in_its_column_and_whole_in_its_tooltip(qtbot):
    from explorer.views.statistics_view import KEY_COLUMN, HeadStatisticsView

    view = HeadStatisticsView()
    qtbot.addWidget(view)
    view.resize(260, 300)  # the lesson's narrow panel: "I drink" and "ke" were all it showed
    view.show()
    qtbot.waitExposed(view)
    keys = ["I eat salmon", "I drink a white-wine mix"]
    view.set_statistics(head_statistics(np.array([[[0.2, 0.8]], [[0.9, 0.1]]]), 0, keys))
    table, model = view._heads, view.models()[0]
    header = table.horizontalHeader()
    right = header.sectionViewportPosition(KEY_COLUMN) + header.sectionSize(KEY_COLUMN)
    assert right <= table.viewport().width()  # nothing cut off at the edge
    assert header.sectionSize(KEY_COLUMN) >= table.fontMetrics().horizontalAdvance("key")
    assert header.sectionSize(KEY_COLUMN) < table.fontMetrics().horizontalAdvance(keys[1])
    assert table.textElideMode() == Qt.TextElideMode.ElideRight  # drawn "I dri…"
    assert model.cell_tooltip(0, KEY_COLUMN) == keys[1]
    assert [model.cell_tooltip(0, c) for c in range(KEY_COLUMN)] == [None] * KEY_COLUMN
    view.resize(700, 300)  # room enough: the whole key
    qtbot.waitUntil(lambda: header.sectionSize(KEY_COLUMN) > table.fontMetrics()
                    .horizontalAdvance(keys[1]))


def test_the_formula_box_is_as_tall_as_its_wrapped_lines_and_only_then_relaid(qtbot):
    """At a narrow width the formulas wrap to more lines than the box's usual ten: it grows in
    whole lines (the last one was cut in half by the table under it), up to MAX_LINES; a new
    text never shrinks it (no layout of the dock at each step), a new width fits it again."""
    from explorer.views.formula_box import MAX_LINES, MIN_LINES, FormulaBox

    box = FormulaBox()
    qtbot.addWidget(box)
    box.resize(900, 100)
    box.show()
    line = box.fontMetrics().lineSpacing()
    formula = "head output o = Σ_j w_j v_j = " + " + ".join(["0.5514·[-0.1519, 0.6829]"] * 3)
    box.show_html("<br>".join([formula] * 6))
    assert box.height() == MIN_LINES * line + 8  # six lines fit in the usual ten
    box.resize(420, box.height())  # a narrow window: each formula wraps to two lines
    qtbot.waitUntil(lambda: box.height() > MIN_LINES * line + 8)
    assert MIN_LINES < (box.height() - 8) // line < MAX_LINES
    assert box.verticalScrollBar().maximum() == 0  # every line in view, none cut
    heights = []
    box.resizeEvent = lambda event, own=box.resizeEvent: (own(event), heights.append(event))
    for value in ("0.5515", "0.5516", "0.5517"):  # the next updates: other numbers
        box.show_html("<br>".join([formula.replace("0.5514", value)] * 6))
    assert heights == []  # the same number of lines: no new height, no layout
    grown = box.height()
    box.show_html(formula)  # one formula: the box keeps its height (no layout at each step)
    assert box.height() == grown
    box.resize(900, box.height())  # a new width fits the box to its text again
    qtbot.waitUntil(lambda: box.height() == MIN_LINES * line + 8)
    box.show_html("<br>".join([formula] * 40))  # far too long: the box stops, the text scrolls
    assert box.height() == MAX_LINES * line + 8 and box.verticalScrollBar().maximum() > 0
