"""Grid tables fit their columns as Qt's ResizeToContents would, after each new grid (pytest-qt)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTableView
from qt_helpers import PaintCounter

from explorer.views.table_model import GridModel, read_only_view

GRIDS = [
    (["entropy", "% of max"], [["1.77", "64%"], ["2.46", "89%"]]),
    (["entropy", "% of max"], [["0.000123", "100%"], ["12.5", "5%"]]),  # wider, then narrower
    (["entropy", "% of max"], [["1.7", "6%"], ["2.4", "8%"]]),
    (["1", "2", "3"], [["1.00", "—", "0.52"], ["—", "1.00", "0.83"], ["0.52", "0.83", "1.00"]]),
    (["key"], [["running"], ["animal"], ["W"]]),
    (["a", "b"], []),  # no rows: the headers alone
]


@pytest.fixture
def pair(qtbot):
    """Our view and a plain ResizeToContents QTableView of the same model."""
    model = GridModel()
    ours = read_only_view(model)
    reference = QTableView()
    reference.setModel(model)
    reference.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    reference.verticalHeader().setDefaultSectionSize(20)
    for view in (ours, reference):
        qtbot.addWidget(view)
        view.show()
    return model, ours, reference


def _widths(view: QTableView, cols: int) -> list[int]:
    return [view.horizontalHeader().sectionSize(c) for c in range(cols)]


def test_columns_are_as_wide_as_resize_to_contents_makes_them(pair, qtbot):
    model, ours, reference = pair
    for headers, texts in GRIDS:
        model.set_headers(headers, [f"head {i + 1}" for i in range(len(texts))])
        cols = len(headers)
        model.set_grid(texts, cols=cols)
        qtbot.waitUntil(lambda n=cols: _widths(ours, n) == _widths(reference, n))


def test_a_new_grid_with_the_same_shape_refits_its_columns(pair):
    model, ours, _ = pair
    model.set_headers(["x"], ["1", "2"])
    model.set_grid([["1.5"], ["2.5"]])
    narrow = ours.columnWidth(0)
    model.set_grid([["1.5"], ["a much longer text than before"]])  # same shape: dataChanged only
    assert ours.columnWidth(0) > narrow
    model.set_grid([["1.5"], ["2.5"]])
    assert ours.columnWidth(0) == narrow  # and narrows again


def test_a_font_change_refits_the_columns(pair):
    model, ours, _ = pair
    model.set_headers(["x"], ["1"])
    model.set_grid([["a long text to measure"]])
    before = ours.columnWidth(0)
    font = ours.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    ours.setFont(font)
    assert ours.columnWidth(0) > before


def test_a_new_grid_of_the_same_shape_announces_only_what_changed(pair):
    model, ours, _ = pair
    model.set_headers(["a", "b", "c"], ["1", "2"])
    model.set_grid([["1.0", "2.0", "x"], ["3.0", "4.0", "y"]])
    announced: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: announced.append(
        (a.row(), a.column(), b.row(), b.column())))
    model.set_grid([["1.0", "2.0", "x"], ["3.0", "4.0", "y"]])
    assert announced == []  # nothing new: nothing to repaint
    model.set_grid([["1.0", "2.5", "x"], ["3.0", "4.5", "y"]])
    assert announced == [(0, 1, 1, 1)]
    assert model.cell_text(1, 1) == "4.5"
    model.set_grid([["1.0", "2.5", "x"], ["3.0", "4.5", "y"]],
                   [[None, None, None], [None, None, QColor("red")]])  # backgrounds from none
    model.set_grid([["1.0", "2.5", "x"], ["3.0", "4.5", "y"]],
                   [[None, None, None], [None, None, QColor("blue")]])
    assert announced[-1] == (1, 2, 1, 2) and model.cell_background(1, 2) == QColor("blue")


def test_a_grid_whose_columns_change_width_paints_once(pair, qtbot):
    # QTableView repaints resized columns from a zero-time timer, after the paint of the new
    # texts: the statistics were painted twice whenever a width changed.
    model, ours, _ = pair
    model.set_headers(["x", "y"], ["1", "2"])
    model.set_grid([["1.5", "2"], ["2.5", "3"]])
    qtbot.wait(30)
    paints = PaintCounter(ours.viewport())
    for texts in ([["0.000123", "2"], ["2.5", "a longer text"]], [["1.5", "2"], ["2.5", "3"]]):
        before = paints.count
        widths = _widths(ours, 2)
        model.set_grid(texts)
        assert _widths(ours, 2) != widths  # the columns did change
        qtbot.waitUntil(lambda b=before: paints.count > b)
        qtbot.wait(20)  # the timer would have fired and painted again by now
        assert paints.count == before + 1


def test_columns_wider_than_the_view_give_it_a_scroll_bar_at_once(pair):
    model, ours, _ = pair
    ours.resize(120, 120)
    model.set_headers(["x", "y"], ["1"])
    model.set_grid([["1", "2"]])
    assert ours.horizontalScrollBar().maximum() == 0
    model.set_grid([["a text far wider than the view", "and another one"]])
    # No event processed: the scroll bar follows the new widths in the same call.
    assert sum(_widths(ours, 2)) > ours.viewport().width()
    assert ours.horizontalScrollBar().maximum() > 0
