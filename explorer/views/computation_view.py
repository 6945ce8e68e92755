"""The arithmetic of the query row, key by key: scores, scaling, temperature, mask, weights.

Shows a `core.steps.StepTable` (and `HeadStatistics`); computes nothing itself. The table is
built once and its items re-used; the formulas above it are re-written for the highlighted key
(a heatmap cell click calls `highlight_key`; clicking a row here emits `key_selected`).
"""

from __future__ import annotations

import html

import PySide6  # noqa: F401  (PITFALLS 3: PySide6 before pyqtgraph)

# isort: split
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QLabel, QSplitter, QVBoxLayout, QWidget

from core.steps import HeadStatistics, StepTable, format_number, format_vector, step_formulas
from explorer.views.statistics_view import HeadStatisticsView, read_only_table, set_cell

STEP_COLUMNS = ("key", "score", "÷ scale", "÷ T", "mask", "weight", "weight × value")
STEP_TIPS = ("the key token", "the raw score of the scoring function",
             "score ÷ scale (√d_k for scaled_dot, else 1)", "÷ the temperature T",
             "the logit after the mask: masked keys become -inf (weight 0)",
             "the normalised weight", "weight_j × v_j (first components)")
HIGHLIGHT = QColor(255, 230, 120)
SUM_ROW = QColor(225, 235, 250)


class ComputationPanel(QWidget):
    """Formulas with numbers above a key-by-key table of every step, plus head statistics.

    Signals
    -------
    key_selected(int)
        The person clicked the row of key ``j`` in the table.
    """

    key_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._steps: StepTable | None = None
        self._highlighted: int | None = None
        self._title = QLabel("No computation yet.")
        self._title.setWordWrap(True)
        self._formulas = QLabel()
        self._formulas.setTextFormat(Qt.TextFormat.RichText)
        self._formulas.setWordWrap(True)
        self._formulas.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._table = read_only_table(len(STEP_COLUMNS))
        self._table.setHorizontalHeaderLabels(list(STEP_COLUMNS))
        for c, tip in enumerate(STEP_TIPS):
            self._table.horizontalHeaderItem(c).setToolTip(tip)
        self._table.horizontalHeader().setStretchLastSection(True)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._table.verticalHeader().setVisible(False)
        self._table.currentCellChanged.connect(self._on_current_cell_changed)
        self.statistics = HeadStatisticsView()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._table)
        splitter.addWidget(self.statistics)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([480, 300])  # the statistics' four columns stay readable
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._formulas)
        layout.addWidget(splitter, 1)

    # ----------------------------------------------------------------------------- set_*

    def set_steps(self, steps: StepTable) -> None:
        """Show the steps of one query row in one head."""
        self._steps = steps
        n = len(steps.key_labels)
        extra = 1 if steps.wo_part is None else 2  # the Σ row, and the W_O row if any
        self._table.blockSignals(True)
        self._table.setRowCount(n + extra)
        for j in range(n):
            self._fill_key_row(steps, j)
        self._fill_sum_rows(steps, n)
        self._table.blockSignals(False)
        head = f"head {steps.head} of {steps.n_heads}" if steps.n_heads > 1 else "one head"
        title = (f"<b>Query “{html.escape(steps.query_label)}”</b>, {head}: "
                 f"{steps.scoring}, {steps.normalization}, T = {format_number(steps.temperature)}")
        if steps.note:
            title += f"<br><i>{html.escape(steps.note)}</i>"
        self._title.setText(title)
        key = self._highlighted if self._highlighted is not None and self._highlighted < n \
            else None
        self.highlight_key(key)

    def set_statistics(self, stats: HeadStatistics) -> None:
        """Show the head statistics of the query row."""
        self.statistics.set_statistics(stats)

    def highlight_key(self, col: int | None) -> None:
        """Highlight key ``col``'s row and write the formulas with its numbers (None: the
        strongest key's formulas, no highlight)."""
        self._highlighted = col
        steps = self._steps
        if steps is None:
            return
        n = len(steps.key_labels)
        for j in range(n):
            colour = HIGHLIGHT if j == col else None
            for c in range(len(STEP_COLUMNS)):
                item = self._table.item(j, c)
                item.setBackground(colour if colour is not None else QColor(0, 0, 0, 0))
        key = steps.focus_key if col is None or not 0 <= col < n else col
        lines = step_formulas(steps, key)
        self._formulas.setText("<br>".join(html.escape(line) for line in lines))
        if col is not None and 0 <= col < n:
            self._table.scrollToItem(self._table.item(col, 0))

    # ----------------------------------------------------------------------------- reading

    def cell_text(self, row: int, col: int) -> str:
        """The text of a table cell (tests, export)."""
        item = self._table.item(row, col)
        return "" if item is None else item.text()

    def formulas_text(self) -> str:
        """The formulas as plain text."""
        return html.unescape(self._formulas.text().replace("<br>", "\n"))

    def highlighted_key(self) -> int | None:
        return self._highlighted

    def steps(self) -> StepTable | None:
        """The step table shown (None before the first)."""
        return self._steps

    def row_count(self) -> int:
        return self._table.rowCount()

    # ----------------------------------------------------------------------------- internals

    def _fill_key_row(self, s: StepTable, j: int) -> None:
        texts = (s.key_labels[j], format_number(s.raw_scores[j]), format_number(s.scaled[j]),
                 format_number(s.tempered[j]), format_number(s.logits[j]),
                 format_number(s.weights[j]), format_vector(s.weighted_values[j]))
        for c, text in enumerate(texts):
            item = set_cell(self._table, j, c, text)
            item.setFont(QFont())
            if c == len(texts) - 1:  # the cell shows 4 components; the tooltip all of them
                item.setToolTip(format_vector(s.weighted_values[j], first=64))
            if c == 0:
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def _fill_sum_rows(self, s: StepTable, n: int) -> None:
        rows = [("Σ = head output", f"Σ {format_number(float(s.weights.sum()))}",
                 format_vector(s.head_output))]
        if s.wo_part is not None:
            rows.append(("W_O part (output)", "", f"{format_vector(s.wo_part)}  (output "
                                                  f"{format_vector(s.output)})"))
        bold = QFont()
        bold.setBold(True)
        for i, (label, weight_sum, vector) in enumerate(rows):
            texts = (label, "", "", "", "", weight_sum, vector)
            for c, text in enumerate(texts):
                item = set_cell(self._table, n + i, c, text, SUM_ROW)
                item.setFont(bold)

    def _on_current_cell_changed(self, row: int, col: int, prev_row: int, prev_col: int) -> None:
        if self._steps is not None and 0 <= row < len(self._steps.key_labels):
            self.highlight_key(row)
            self.key_selected.emit(row)
