"""An editor for toy inputs: token names, small vectors (2 to 8 dimensions) and W_Q, W_K, W_V, W_O.

Every edit is parsed and checked; a valid edit emits ``toy_changed(ToyInputs)``. A bad cell (not
a number, empty, a ragged row) turns red and a message says which cell and what was expected;
the last valid inputs are kept (``toy()``) and nothing is emitted until the tables are valid.
The message under the tables is the one place that says what is wrong with the toy inputs (the
tables, or another field of the toy box: `set_problem`); ``invalid`` repeats it for the status
bar, and says "" once nothing is wrong any more.
"""

from __future__ import annotations

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.explain.steps import format_number
from core.toy import ToyInputError, ToyInputs, make_toy, parse_number

MATRICES = ("X", "W_Q", "W_K", "W_V", "W_O")
ERROR = QColor(255, 170, 170)
COLUMN_WIDTH = 46
MAX_VISIBLE_ROWS = 9


class CellError(ValueError):
    """A cell that cannot be read; carries where it is."""

    def __init__(self, message: str, matrix: str, row: int, col: int) -> None:
        super().__init__(message)
        self.matrix, self.row, self.col = matrix, row, col


def _fit_height(table: QTableWidget) -> None:
    """As tall as the rows (no empty band under a 3-row table), at most MAX_VISIBLE_ROWS rows."""
    rows = min(table.rowCount(), MAX_VISIBLE_ROWS)
    height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
    height += rows * table.verticalHeader().defaultSectionSize()
    table.setMaximumHeight(height + table.horizontalScrollBar().sizeHint().height())
    table.setMinimumHeight(min(height, 120))


def _no_w_o(toy: ToyInputs) -> str:
    """What stands for a W_O the table does not have (as `core.inputs.toy_heads` makes it)."""
    d_v, d = toy.w_v.shape[1], toy.d
    if d_v == d:
        return "none (the output is the heads' concatenation itself)"
    return (f"none typed; W_O = pinv(W_V) ({d_v}×{d}) maps the {d_v}-number output back to "
            f"X's {d} dimensions, to draw it on the map")


def _cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    return "" if item is None else item.text()


class ToyVectorEditor(QWidget):
    """Editable tables: X (a token-name column, then the vector) and the projection matrices.

    Signals
    -------
    toy_changed(ToyInputs)
        Emitted after an edit that leaves every table valid.
    invalid(str)
        The message shown after an edit that left the inputs invalid (nothing else is
        emitted); "" when they are valid again.
    """

    toy_changed = Signal(object)
    invalid = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._toy: ToyInputs | None = None
        self._problems: dict[str, str] = {}  # what is wrong, by source: "tables", "query", ...
        self.tables = {name: QTableWidget(0, 0) for name in MATRICES}
        self.message = QLabel("Type numbers into the tables; the computation follows.")
        self.message.setWordWrap(True)
        self.titles = {name: QLabel(f"<b>{name}</b>") for name in MATRICES}
        for title in self.titles.values():
            title.setWordWrap(True)  # a long title must not widen the editor past its dock
        grid = QGridLayout()
        positions = {"X": (0, 0, 1, 2), "W_Q": (2, 0, 1, 1), "W_K": (2, 1, 1, 1),
                     "W_V": (4, 0, 1, 1), "W_O": (4, 1, 1, 1)}
        for name, (r, c, rs, cs) in positions.items():
            grid.addWidget(self.titles[name], r, c, 1, cs)
            grid.addWidget(self.tables[name], r + 1, c, rs, cs)
            self.tables[name].verticalHeader().setDefaultSectionSize(20)
            self.tables[name].horizontalHeader().setDefaultSectionSize(COLUMN_WIDTH)
            self.tables[name].horizontalHeader().setMinimumSectionSize(24)
            self.tables[name].itemChanged.connect(self._on_cell_changed)
        layout = QVBoxLayout(self)
        layout.addLayout(grid, 1)
        layout.addWidget(self.message)

    # ----------------------------------------------------------------------------- set / get

    def set_toy(self, tokens: Sequence[str], x: ArrayLike, w_q: ArrayLike, w_k: ArrayLike,
                w_v: ArrayLike, w_o: ArrayLike | None = None) -> None:
        """Fill the tables (validated first; raises ToyInputError for bad inputs)."""
        toy = make_toy(tokens, x, w_q, w_k, w_v, w_o)
        self._toy = toy
        x_rows = [[t, *map(format_number, row)] for t, row in zip(toy.tokens, toy.x, strict=True)]
        # Columns counted from 1 like Qt's row numbers and the error messages ("row 2, column 3").
        self._fill("X", x_rows, ["token", *(f"d{j + 1}" for j in range(toy.d))])
        for name, w in (("W_Q", toy.w_q), ("W_K", toy.w_k), ("W_V", toy.w_v), ("W_O", toy.w_o)):
            values = np.zeros((0, 0)) if w is None else w
            self._fill(name, [[format_number(v, 6) for v in row] for row in values],
                       [str(j + 1) for j in range(values.shape[1])])
        self.tables["W_O"].setEnabled(toy.w_o is not None)
        self._set_titles(toy)
        self._show_ok()

    def toy(self) -> ToyInputs | None:
        """The last valid inputs."""
        return self._toy

    def set_cell_text(self, matrix: str, row: int, col: int, text: str) -> None:
        """Type ``text`` into a cell, as a person would (X's column 0 is the token name)."""
        table = self.tables[matrix]
        item = table.item(row, col)
        if item is None:
            table.setItem(row, col, QTableWidgetItem(text))
        else:
            item.setText(text)

    def revert(self) -> None:
        """Put the last valid inputs back into the tables."""
        t = self._toy
        if t is not None:
            self.set_toy(t.tokens, t.x, t.w_q, t.w_k, t.w_v, t.w_o)

    # ----------------------------------------------------------------------------- internals

    def _fill(self, name: str, rows: list[list[str]], headers: list[str]) -> None:
        table = self.tables[name]
        table.blockSignals(True)
        table.setRowCount(len(rows))
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                self.set_cell_text(name, i, j, text)
                table.item(i, j).setBackground(QColor(0, 0, 0, 0))
        table.blockSignals(False)
        _fit_height(table)

    def _set_titles(self, toy: ToyInputs) -> None:
        shapes = {"X": ("n×d", toy.x), "W_Q": ("d×d_k", toy.w_q), "W_K": ("d×d_k", toy.w_k),
                  "W_V": ("d×d_v", toy.w_v), "W_O": ("d_v×d_out", toy.w_o)}
        for name, (letters, w) in shapes.items():
            if w is None:
                text = f"<b>{name}</b>: {_no_w_o(toy)}"
            else:
                text = f"<b>{name}: {letters} = {w.shape[0]}×{w.shape[1]}</b>"
            if name == "X":
                text += " (first column: the token names)"
            self.titles[name].setText(text)

    def _read(self, name: str) -> list[list[float]] | None:
        """The numbers of a matrix table; raises CellError for an unreadable or ragged cell."""
        table = self.tables[name]
        if name == "W_O" and not table.isEnabled():
            return None
        first = 1 if name == "X" else 0  # X's first column holds the token names
        rows: list[list[float]] = []
        for i in range(table.rowCount()):
            texts = [_cell(table, i, j).strip() for j in range(first, table.columnCount())]
            filled = len(texts)
            while filled and not texts[filled - 1]:
                filled -= 1  # trailing empty cells: a ragged (short) row, not a bad number
            if filled < len(texts) and any(texts[:filled]):
                raise CellError(f"{name} row {i + 1} has {filled} numbers but needs "
                                f"{len(texts)} (ragged rows); fill in the empty cells",
                                name, i, first + filled)
            for j, text in enumerate(texts):
                if not text:
                    raise CellError(f"{name} row {i + 1}, column {j + 1} is empty; expected "
                                    "a number", name, i, first + j)
            row = []
            for j, text in enumerate(texts):
                try:
                    row.append(parse_number(text))
                except ValueError as error:
                    raise CellError(f"{name} row {i + 1}, column {j + 1}: {error}", name, i,
                                    first + j) from None
            rows.append(row)
        return rows

    def _clear_marks(self) -> None:
        for table in self.tables.values():
            table.blockSignals(True)
            for i in range(table.rowCount()):
                for j in range(table.columnCount()):
                    item = table.item(i, j)
                    if item is not None:
                        item.setBackground(QColor(0, 0, 0, 0))
            table.blockSignals(False)

    def _mark(self, matrix: str, row: int, col: int, message: str) -> None:
        table = self.tables[matrix]
        table.blockSignals(True)
        if table.item(row, col) is None:
            table.setItem(row, col, QTableWidgetItem(""))
        table.item(row, col).setBackground(ERROR)
        table.blockSignals(False)
        self.set_problem("tables", message)

    def set_problem(self, source: str, message: str) -> None:
        """Say what is wrong with ``source`` ("tables", or another input of the toy such as
        its outside query); "" says it is right again."""
        had_problem = bool(self._problems)
        if message:
            self._problems[source] = message
        else:
            self._problems.pop(source, None)
        if self._problems:
            # The tables' problem first: a cell is where the person is typing.
            text = self._problems.get("tables") or next(iter(self._problems.values()))
            self._say(f"{text}. The last valid values are still used.", "color: #b00000;")
            self.invalid.emit(self.message.text())
        else:
            self._say("Inputs are valid.", "")
            if had_problem:
                self.invalid.emit("")

    def _say(self, text: str, style: str) -> None:
        # Only on change: set_settings says "valid" after every edit of any setting.
        if self.message.styleSheet() != style:
            self.message.setStyleSheet(style)
        if self.message.text() != text:
            self.message.setText(text)

    def _show_ok(self) -> None:
        self.set_problem("tables", "")

    def _on_cell_changed(self, item: QTableWidgetItem) -> None:
        self._clear_marks()
        try:
            values = {name: self._read(name) for name in MATRICES}
            tokens = [_cell(self.tables["X"], i, 0).strip()
                      for i in range(self.tables["X"].rowCount())]
            toy = make_toy(tokens, values["X"], values["W_Q"], values["W_K"], values["W_V"],
                           values["W_O"])
        except CellError as error:
            self._mark(error.matrix, error.row, error.col, str(error))
            return
        except ToyInputError as error:
            table = self.tables.get(error.matrix, self.tables["X"])
            self._mark(error.matrix if error.matrix in self.tables else "X",
                       table.currentRow() if table.currentRow() >= 0 else 0,
                       max(table.currentColumn(), 0), str(error))
            return
        self._toy = toy
        self._show_ok()
        self.toy_changed.emit(toy)
