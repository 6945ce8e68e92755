"""The tables' own cell delegate draws every cell exactly as Qt's QStyledItemDelegate would
(pytest-qt, offscreen): the same pixels for plain, bold, coloured, right- and left-aligned, empty,
elided, selected and focused cells, in a table of its own and in the real computation dock."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QFont, QImage
from PySide6.QtWidgets import QApplication, QStyledItemDelegate, QTableView
from qt_helpers import settle, show_view

from explorer.views.table_model import LEFT, RIGHT, TextTableModel
from explorer.views.text_cells import TextCellDelegate

TEXTS = [["the", "0.0367", "1.25e-05", "[0.12, -0.5, 0.33, 0.01]"],
         ["animal", "-12.5", "", "a text far too long for its column, so Qt cuts it with …"],
         ["Σ = head output", "", "Σ 1", "[0.9, 0.1]"],
         ["two\nlines", "7", "8", "9"]]


class Cells(TextTableModel):
    """Four rows: plain, a highlighted one, a bold Σ row, a row with a line break."""

    def __init__(self) -> None:
        super().__init__()
        self.bold = QFont(QApplication.font())
        self.bold.setBold(True)
        self.set_headers(["key", "score", "weight", "weight × value"])
        self.set_shape(len(TEXTS), len(TEXTS[0]))

    def cell_text(self, row: int, col: int) -> str:
        return TEXTS[row][col]

    def cell_background(self, row: int, col: int) -> QColor | None:
        return QColor(255, 230, 120) if row == 1 else QColor(225, 235, 250) if row == 2 else None

    def cell_font(self, row: int, col: int) -> QFont | None:
        return self.bold if row == 2 else None

    def cell_alignment(self, row: int, col: int) -> Qt.AlignmentFlag:
        return LEFT if col == 0 else RIGHT


def pixels(view: QTableView) -> np.ndarray:
    settle()
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1).copy()


def as_qt_draws_it(view: QTableView) -> np.ndarray:
    """The viewport drawn by Qt's own delegate, then ours put back."""
    ours = view.itemDelegate()
    stock = QStyledItemDelegate(view)
    view.setItemDelegate(stock)
    try:
        return pixels(view)
    finally:
        view.setItemDelegate(ours)


@pytest.fixture
def table(qtbot) -> QTableView:
    model = Cells()
    view = QTableView()
    view.setModel(model)
    view.setItemDelegate(TextCellDelegate(view, model))
    view.verticalHeader().setDefaultSectionSize(20)
    for col, width in enumerate((70, 60, 40, 180)):
        view.horizontalHeader().resizeSection(col, width)  # "1.25e-05" and the long text elide
    view.model_ = model  # kept alive with the view
    return show_view(qtbot, view, (420, 160))


def test_cells_look_as_qt_draws_them(table):
    ours = pixels(table)
    assert ours.std() > 0  # something was drawn
    np.testing.assert_array_equal(ours, as_qt_draws_it(table))
    np.testing.assert_array_equal(pixels(table), ours)  # again, from the texts laid out once


def test_a_selected_and_focused_cell_looks_as_qt_draws_it(table, qtbot):
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    table.selectionModel().setCurrentIndex(
        table.model().index(0, 1), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    np.testing.assert_array_equal(pixels(table), as_qt_draws_it(table))


def test_a_bigger_font_is_measured_again(table):
    """A cell that fit in the old font may not fit in the new one: it is elided as Qt does."""
    before = pixels(table)
    font = table.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    table.setFont(font)
    after = pixels(table)
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, as_qt_draws_it(table))


def test_the_dock_tables_look_as_qt_draws_them(open_window, tiny_kv):
    window = open_window(tiny_kv)
    tables = [t for t in window.computation.dock.findChildren(QTableView)
              if t.isVisible() and t.model() is not None and t.model().rowCount()]
    assert any(isinstance(t.itemDelegate(), TextCellDelegate) for t in tables)
    for view in tables:
        np.testing.assert_array_equal(pixels(view), as_qt_draws_it(view))


def test_only_the_cells_qt_must_draw_are_left_to_it(table, monkeypatch):
    """The point of the delegate is speed: the cells that fit on one line are drawn by it; the
    elided ones (the bold "Σ = head output" too), the one with a line break and the current
    cell go to Qt's delegate."""
    left = []
    stock_paint = QStyledItemDelegate.paint
    monkeypatch.setattr(QStyledItemDelegate, "paint", lambda self, painter, option, index: (
        left.append((index.row(), index.column())), stock_paint(self, painter, option, index)))
    table.viewport().repaint()
    assert sorted(set(left)) == [(0, 0), (0, 2), (1, 3), (2, 0), (3, 0)]
