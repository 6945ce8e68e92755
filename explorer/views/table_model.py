"""Read-only text tables as a model + `QTableView`, for the computation dock's tables.

Why not `QTableWidget`: filling one cell by cell with ``setText`` makes a ResizeToContents header
re-measure its whole column after every cell (thousands of measurements for a 512-key sentence).
A model changes all its cells with one ``dataChanged`` (or one row insertion/removal), so the
view measures and repaints once. The models keep the shape when they can (instead of a reset),
so the current row, the selection and the scroll position survive an update, as they did with
items updated in place. Grid views fit their columns themselves (`FittedGridView`): even one
``dataChanged`` makes a ResizeToContents header ask every cell again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from explorer.views.text_cells import TextCellDelegate, TextWidths

__all__ = ["LEFT", "RIGHT", "FittedGridView", "GridModel", "OnScreenTableView",
           "TextTableModel", "read_only_view", "resize_columns"]

Index = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_ROLE = Qt.ItemDataRole
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable  # asked once per cell painted
_DISPLAY = int(_ROLE.DisplayRole.value)
_CELL_METHODS = {int(role.value): name for role, name in (
    (_ROLE.DisplayRole, "cell_text"), (_ROLE.TextAlignmentRole, "cell_alignment"),
    (_ROLE.BackgroundRole, "cell_background"), (_ROLE.FontRole, "cell_font"),
    (_ROLE.ToolTipRole, "cell_tooltip"))}


class TextTableModel(QAbstractTableModel):
    """Rows × columns of text; subclasses say what a cell shows through the ``cell_*`` methods.

    Cells are asked for only when the view paints or measures them, so a subclass can format
    lazily (the step table formats the rows on screen, not all 512).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows = 0
        self._cols = 0
        self._row_labels: Sequence[str] = ()
        self._col_labels: Sequence[str] = ()
        self._col_tips: Sequence[str] = ()

    # ------------------------------------------------------------------ what subclasses give
    def cell_text(self, row: int, col: int) -> str:
        return ""

    def cell_background(self, row: int, col: int) -> QColor | None:
        return None

    def cell_tooltip(self, row: int, col: int) -> str | None:
        return None

    def cell_font(self, row: int, col: int) -> QFont | None:
        return None

    def cell_alignment(self, row: int, col: int) -> Qt.AlignmentFlag:
        return RIGHT

    # ------------------------------------------------------------------ changing
    def set_headers(self, col_labels: Sequence[str] = (), row_labels: Sequence[str] = (),
                    col_tips: Sequence[str] = ()) -> None:
        """Header texts (and column tooltips); the caller then calls :meth:`set_shape`."""
        old_cols, old_rows = list(self._col_labels), list(self._row_labels)
        self._col_labels, self._row_labels = tuple(col_labels), tuple(row_labels)
        self._col_tips = tuple(col_tips)
        if self._cols and list(self._col_labels) != old_cols:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self._cols - 1)
        if self._rows and list(self._row_labels) != old_rows:
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, self._rows - 1)

    def set_shape(self, rows: int, cols: int) -> None:
        """Show ``rows`` × ``cols`` cells, all with new contents: rows and columns are inserted
        or removed at the end, the kept cells get one ``dataChanged``."""
        if cols != self._cols:  # column changes are rare (the matrices): a reset is fine
            self.beginResetModel()
            self._rows, self._cols = rows, cols
            self.endResetModel()
            return
        if rows > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, rows - 1)
            self._rows = rows
            self.endInsertRows()
        elif rows < self._rows:
            self.beginRemoveRows(QModelIndex(), rows, self._rows - 1)
            self._rows = rows
            self.endRemoveRows()
        self.refresh()

    def refresh(self, first_row: int = 0, last_row: int | None = None) -> None:
        """Say that rows ``first_row..last_row`` (default: all) show something new."""
        last = self._rows - 1 if last_row is None else min(last_row, self._rows - 1)
        if self._cols and 0 <= first_row <= last:
            self.dataChanged.emit(self.index(first_row, 0), self.index(last, self._cols - 1))

    # ------------------------------------------------------------------ Qt model interface
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt)
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt)
        return 0 if parent.isValid() else self._cols

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        # The view asks for ~8 roles per cell each paint: one dict look-up, no enum compares.
        name = _CELL_METHODS.get(role)
        return None if name is None else getattr(self, name)(index.row(), index.column())

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt)
                   role: int = _ROLE.DisplayRole) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        labels = self._col_labels if horizontal else self._row_labels
        if role == _ROLE.DisplayRole:
            return labels[section] if section < len(labels) else str(section + 1)
        if role == _ROLE.ToolTipRole and horizontal and section < len(self._col_tips):
            return self._col_tips[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _FLAGS


class GridModel(TextTableModel):
    """A table whose texts (and optional backgrounds) are given all at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: list[list[str]] = []
        self._backgrounds: list[list[QColor | None]] | None = None

    def set_grid(self, texts: list[list[str]], backgrounds: list[list[QColor | None]] | None = None,
                 cols: int | None = None) -> None:
        """Show ``texts[row][col]`` (``cols`` when there may be no rows).

        With the same shape, only the block of cells that changed is announced, so the view
        repaints those (and nothing when nothing changed)."""
        old_texts, old_backgrounds = self._texts, self._backgrounds
        self._texts, self._backgrounds = texts, backgrounds
        cols = cols if cols is not None else len(texts[0]) if texts else 0
        if (len(texts), cols) != (self._rows, self._cols) or (old_backgrounds is None) != (
                backgrounds is None):
            self.set_shape(len(texts), cols)
            return
        changed = [(r, c) for r in range(len(texts)) for c in range(cols) if texts[r][c]
                   != old_texts[r][c] or _differs(backgrounds, old_backgrounds, r, c)]
        if changed:
            rows_changed, cols_changed = [r for r, _ in changed], [c for _, c in changed]
            self.dataChanged.emit(self.index(min(rows_changed), min(cols_changed)),
                                  self.index(max(rows_changed), max(cols_changed)))

    def cell_text(self, row: int, col: int) -> str:
        return self._texts[row][col]

    def cell_background(self, row: int, col: int) -> QColor | None:
        return None if self._backgrounds is None else self._backgrounds[row][col]


def _differs(new: list[list[QColor | None]] | None, old: list[list[QColor | None]] | None,
             row: int, col: int) -> bool:
    """Whether a cell's background changed (both grids with or both without backgrounds)."""
    return new is not None and old is not None and new[row][col] is not old[row][col] and \
        new[row][col] != old[row][col]  # the same colour object (a shared one) at no cost


class OnScreenTableView(QTableView):
    """A QTableView that knows which of its rows are on screen.

    The dock's body is laid out taller than the dock (it scrolls), so a table can be ~40 rows
    tall with 5 of them on screen: Qt paints only those 5, and work done per row (fitting the
    columns) should look at those 5 too.
    """

    def rows_on_screen(self) -> range:
        """The rows (partly) inside the visible part of the viewport."""
        seen = self.viewport().visibleRegion().boundingRect()
        model = self.model()
        if seen.isEmpty() or model is None or model.rowCount() == 0:
            return range(0)
        first = max(self.rowAt(seen.top()), 0)
        last = self.rowAt(seen.bottom())
        return range(first, (model.rowCount() if last < 0 else last + 1))


def resize_columns(view: QTableView, widths: dict[int, int]) -> None:
    """Give ``view``'s columns ``widths`` (column -> px) and repaint it in the paint pass under
    way.

    Told of a resized column, QTableView repaints it from a zero-time timer, which fires after
    the update's paint pass: every new content that changed a width painted the table twice
    (0.5-1 ms each time). The header's signals are held while its sections are resized, and
    the view does at once what that timer would do: lay out its scroll bars and repaint."""
    if not widths:
        return
    header = view.horizontalHeader()
    held = header.blockSignals(True)
    try:
        for col, width in widths.items():
            header.resizeSection(col, width)
    finally:
        header.blockSignals(held)
    view.updateGeometries()
    view.viewport().update()


class FittedGridView(QTableView):
    """A read-only view of a `GridModel` whose columns fit their texts, as ResizeToContents
    would fit them, measured more cheaply.

    Qt's ResizeToContents re-measures every cell through the delegate (several data() calls,
    each a Python call) after each ``dataChanged``: most of the statistics' cost. Here the
    widest text of each column is found with font metrics (widths remembered per text) and
    only that cell is measured by the delegate, so a column is exactly as wide as Qt would
    make it; sections are resized only when that width changes.
    """

    def __init__(self, model: GridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._cells_delegate = TextCellDelegate(self, model)  # also measures the texts
        self.setItemDelegate(self._cells_delegate)
        self._grid = model
        self._column_widths: dict[tuple, int] = {}  # (header, widest text, ...) -> px
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        for signal in (model.dataChanged, model.modelReset, model.rowsInserted,
                       model.rowsRemoved, model.headerDataChanged):
            signal.connect(self.fit_columns)

    def fit_columns(self, *_: Any) -> None:
        """Give each column the width of its widest cell or its header, whichever is more."""
        header = self.horizontalHeader()
        shown = self.shown_widths(self.fitted_widths())
        resize_columns(self, {col: width for col, width in enumerate(shown)
                              if header.sectionSize(col) != width})

    def shown_widths(self, fitted: list[int]) -> list[int]:
        """The column widths to show for columns that fit their texts at ``fitted``: those
        (a subclass may narrow them to fit its viewport)."""
        return fitted

    def fitted_widths(self) -> list[int]:
        """Each column's width fitted to its widest cell or its header, whichever is more."""
        model, header = self._grid, self.horizontalHeader()
        widths = self._cells_delegate.widths()
        fitted: list[int] = []
        if len(self._column_widths) > TextWidths.LIMIT:  # texts of many updates: start again
            self._column_widths.clear()
        for col in range(model.columnCount()):
            if header.sectionResizeMode(col) == QHeaderView.ResizeMode.Stretch:
                continue  # as wide as the room left: the delegate elides what does not fit
            widest, widest_w = -1, -1.0
            for row in range(model.rowCount()):
                w = widths(model.cell_text(row, col))
                if w > widest_w:
                    widest, widest_w = row, w
            # A grid cell's size depends on its text alone (one font, no icons), a header's on
            # its label: the same pair, the same width (asking Qt costs many Python calls).
            label = model.headerData(col, Qt.Orientation.Horizontal)
            key = (label, model.cell_text(widest, col) if widest >= 0 else None,
                   header.minimumSectionSize(), self.showGrid())
            width = self._column_widths.get(key)
            if width is None:
                width = self._column_widths[key] = self._measure(col, widest)
            fitted.append(width)
        return fitted

    def _measure(self, col: int, row: int) -> int:
        """Column ``col``'s width as ResizeToContents makes it, for a widest cell in ``row``
        (-1: no rows): header hint or the cell's delegate hint plus the grid line."""
        header = self.horizontalHeader()
        width = header.sectionSizeHint(col)
        if row >= 0:
            option = QStyleOptionViewItem()
            self.initViewItemOption(option)
            hint = self.itemDelegate().sizeHint(option, self._grid.index(row, col)).width()
            width = max(width, hint + (1 if self.showGrid() else 0))
        return max(width, header.minimumSectionSize())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._column_widths.clear()  # (the delegate measures the texts again itself)
            self.fit_columns()


def read_only_view(model: GridModel, kind: type[FittedGridView] = FittedGridView) -> QTableView:
    """A compact, read-only table view of ``model`` (a ``kind``) whose columns fit their
    contents."""
    table = kind(model)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no focus frame around a "current" cell
    table.verticalHeader().setDefaultSectionSize(20)
    return table
