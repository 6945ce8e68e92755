"""Per-head statistics of the query row: entropy, strongest key, and how alike the heads are.

Shows a `core.steps.HeadStatistics`; computes nothing itself. Built once, updated in place.
"""

from __future__ import annotations

import math

import PySide6  # noqa: F401  (PITFALLS 3: PySide6 before pyqtgraph)

# isort: split
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.steps import HeadStatistics, format_number

HEAD_COLUMNS = ("entropy", "% of max", "max w", "key")
HEAD_TIPS = ("entropy of the query row in nats: 0 = all weight on one key",
             "entropy as a share of log n, the entropy of uniform weights",
             "the largest weight of the row", "the key that gets it")


def set_cell(table: QTableWidget, row: int, col: int, text: str,
             background: QColor | None = None) -> QTableWidgetItem:
    """Set a cell's text, re-using its item (tables are updated in place, never rebuilt)."""
    item = table.item(row, col)
    if item is None:
        item = QTableWidgetItem()
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        table.setItem(row, col, item)
    if item.text() != text:
        item.setText(text)
    item.setBackground(background if background is not None else QColor(0, 0, 0, 0))
    return item


def read_only_table(columns: int = 0) -> QTableWidget:
    """A compact, read-only table."""
    table = QTableWidget(0, columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no focus frame around a "current" cell
    table.verticalHeader().setDefaultSectionSize(20)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


class HeadStatisticsView(QWidget):
    """Entropy / max weight / key per head, and a head × head similarity table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heads = read_only_table(len(HEAD_COLUMNS))
        self._heads.setHorizontalHeaderLabels(list(HEAD_COLUMNS))
        for c, tip in enumerate(HEAD_TIPS):
            self._heads.horizontalHeaderItem(c).setToolTip(tip)
        self._similarity_label = QLabel("<b>Head similarity</b> (1 − JS divergence)")
        self._similarity_label.setWordWrap(True)
        self._similarity = read_only_table()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Heads on the query row</b>"))
        layout.addWidget(self._heads, 3)
        layout.addWidget(self._similarity_label)
        layout.addWidget(self._similarity, 2)

    def set_statistics(self, stats: HeadStatistics) -> None:
        """Show ``stats`` (from `core.steps.head_statistics`)."""
        n_heads = len(stats.entropy)
        names = [f"head {h}" for h in range(n_heads)]
        for table in (self._heads, self._similarity):
            table.blockSignals(True)
        self._heads.setRowCount(n_heads)
        self._heads.setVerticalHeaderLabels(names)
        for h in range(n_heads):
            share = stats.entropy[h] / stats.max_entropy if stats.max_entropy else 0.0
            texts = (format_number(stats.entropy[h], 3), f"{share:.0%}",
                     format_number(stats.max_weight[h], 3), stats.max_key_labels[h])
            for col, text in enumerate(texts):
                set_cell(self._heads, h, col, text)
        self._similarity.setRowCount(n_heads)
        self._similarity.setColumnCount(n_heads)
        self._similarity.setHorizontalHeaderLabels([str(h) for h in range(n_heads)])
        self._similarity.setVerticalHeaderLabels(names)
        for a in range(n_heads):
            for b in range(n_heads):
                value = float(stats.similarity[a, b])
                text = "—" if math.isnan(value) else f"{value:.2f}"
                shade = None if math.isnan(value) else QColor(255, 140, 0, int(value * 120))
                set_cell(self._similarity, a, b, text, shade)
        self._similarity_label.setToolTip(stats.similarity_name)
        self._similarity.setToolTip(stats.similarity_name)
        for table in (self._heads, self._similarity):
            table.blockSignals(False)

    def head_row_texts(self, head: int) -> list[str]:
        """The texts of one head's row (for tests and export)."""
        return [self._heads.item(head, c).text() for c in range(self._heads.columnCount())]
