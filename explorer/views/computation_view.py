"""The arithmetic of the query row, key by key: scores, scaling, temperature, mask, weights.

Shows a `core.explain.steps.StepTable` (and `HeadStatistics`); computes nothing itself. The table is
a model over the step table (explorer.views.step_model) that formats only the rows on screen, so a
512-key sentence costs what the visible rows cost; the formulas above it are re-written for the
highlighted key (a heatmap cell click calls `highlight_key`; clicking a row emits `key_selected`).
"""

from __future__ import annotations

import html

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from core.analysis import Analysis
from core.explain.names import option_name
from core.explain.steps import (
    ABLATION_TEXT,
    HiddenKeys,
    StepTable,
    computation_steps,
    format_number,
    step_formulas,
)
from core.maths.heads import HeadProjections
from core.maths.statistics import HeadStatistics
from explorer.views.formula_box import FormulaBox
from explorer.views.statistics_view import HeadStatisticsView
from explorer.views.step_model import HIGHLIGHT, STEP_COLUMNS, SUM_ROW, StepsModel, StepsTable
from explorer.views.steps_figure import steps_figure

__all__ = ["HIGHLIGHT", "STEP_COLUMNS", "SUM_ROW", "ComputationPanel", "analysis_steps"]


def analysis_steps(a: Analysis, heads: HeadProjections | None, head: int | None) -> StepTable:
    """The step table of ``a``'s query row in ``head`` (None: head 1, said in its note), with
    ``heads``' W_O (None: the output is the heads' concatenation).

    A trained model's analysis adds what the shown result leaves out: the keys the maps hide
    (their weights are part of every Σ) and whether the model replaced this head's output
    (ablation)."""
    hidden = ablation = None
    m = a.model
    if m is not None:
        if a.full_result is not None:
            hidden = HiddenKeys(a.full_result, m.shown, m.run.tokens)
        shown_head = 0 if head is None else head
        if (m.layer, shown_head) in m.run.interventions.ablated:
            ablation = m.run.interventions.ablation
    return computation_steps(a.result, heads, head, a.query_row, a.row_labels, a.col_labels,
                             query_label=a.query.text, hidden=hidden, ablation=ablation)


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
        self._title_html = "No computation yet."
        self._formulas_html = ""
        self._shown_html = ""
        self._text = FormulaBox()
        self._model = StepsModel(self)
        self._table = StepsTable(self._model)
        self._filling = False  # True while the model changes shape: not a click
        self._table.selectionModel().currentChanged.connect(self._on_current_changed)
        self.statistics = HeadStatisticsView()
        steps = QWidget()  # formulas over the key-by-key table; the statistics beside both
        column = QVBoxLayout(steps)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._text)
        column.addWidget(self._table, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(steps)
        splitter.addWidget(self.statistics)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([900, 330])  # the statistics' four columns stay readable
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)

    # ----------------------------------------------------------------------------- set_*

    def set_steps(self, steps: StepTable) -> None:
        """Show the steps of one query row in one head."""
        self._steps = steps
        n = len(steps.key_labels)
        self._filling = True
        self._model.set_steps(steps)
        self._table.new_contents()
        self._filling = False
        head = f"head {steps.head + 1} of {steps.n_heads}" if steps.n_heads > 1 else "one head"
        if steps.ablation is not None:
            head += f" (ablated: {ABLATION_TEXT.get(steps.ablation, steps.ablation)})"
        title = (f"<b>Query “{html.escape(steps.query_label)}”</b>, {head}: "
                 f"{option_name(steps.scoring)}, {option_name(steps.normalization)}, "
                 f"T = {format_number(steps.temperature)}")
        if steps.note:
            title += f"<br><i>{html.escape(steps.note)}</i>"
        self._title_html = title
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
        self._model.set_highlighted(col if col is not None and 0 <= col < n else None)
        key = steps.focus_key if col is None or not 0 <= col < n else col
        # The table already holds its strongest key's formulas (computation_steps made them).
        lines = steps.formulas if key == steps.focus_key and steps.formulas else step_formulas(
            steps, key)
        self._formulas_html = "<br>".join(html.escape(line) for line in lines)
        shown = f"<p>{self._title_html}</p><p>{self._formulas_html}</p>"
        if shown != self._shown_html:  # set_steps and then the dock's highlight ask alike
            self._shown_html = shown
            self._text.show_html(shown)
        if col is not None and 0 <= col < n:
            self._table.scrollTo(self._model.index(col, 0))

    # ----------------------------------------------------------------------------- reading

    def cell_text(self, row: int, col: int) -> str:
        """The text of a table cell (tests, export)."""
        if not (0 <= row < self._model.rowCount() and 0 <= col < len(STEP_COLUMNS)):
            return ""
        return self._model.data(self._model.index(row, col))

    def cell_background(self, row: int, col: int) -> str | None:
        """A cell's background colour as ``#rrggbb`` (None: the table's own), for tests."""
        colour = self._model.data(self._model.index(row, col), Qt.ItemDataRole.BackgroundRole)
        return None if colour is None else colour.name()

    def formulas_text(self) -> str:
        """The formulas as plain text."""
        return _plain(self._formulas_html)

    def title_text(self) -> str:
        """The title line(s) (query, head, settings, note) as plain text."""
        return _plain(self._title_html)

    def figure_widget(self) -> QWidget:
        """A window, never shown on screen, with everything this panel shows, at its width:
        every row of the table, the formulas unscrolled, the statistics (for a figure; the
        caller deletes it)."""
        heads, similarity = self.statistics.models()
        return steps_figure(self._shown_html or self._title_html, self._model, heads, similarity,
                            self.width())

    def highlighted_key(self) -> int | None:
        return self._highlighted

    def steps(self) -> StepTable | None:
        """The step table shown (None before the first)."""
        return self._steps

    # ----------------------------------------------------------------------------- internals

    def _on_current_changed(self, current: QModelIndex | QPersistentModelIndex,
                            previous: QModelIndex | QPersistentModelIndex) -> None:
        row = current.row()
        if not self._filling and self._steps is not None and 0 <= row < len(self._steps.key_labels):
            self.highlight_key(row)
            self.key_selected.emit(row)


def _plain(markup: str) -> str:
    """Our own small markup (<b>, <i>, <br>, escaped text) as plain text."""
    for tag in ("<b>", "</b>", "<i>", "</i>"):
        markup = markup.replace(tag, "")
    return html.unescape(markup.replace("<br>", "\n"))
