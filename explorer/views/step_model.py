"""The step table of the computation panel: a model over a `core.steps.StepTable` and its view.

One row per key (key, score, ÷ scale, ÷ T, mask, weight, weight × value), then the Σ row and,
with W_O, the W_O row. Texts are formatted when the view asks for them (the rows on screen) and
kept until the next step table: formatting every cell of a 512-key sentence on each change
would cost more than the rest of the update. The view fits its columns to the rows it shows
(and widens them, never narrows, while the person scrolls), for the same reason.
"""

from __future__ import annotations

import PySide6  # noqa: F401  (PITFALLS 3: PySide6 before pyqtgraph)

# isort: split
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from core.steps import StepTable, format_number, format_vector
from explorer.views.table_model import LEFT, RIGHT, TextTableModel

STEP_COLUMNS = ("key", "score", "÷ scale", "÷ T", "mask", "weight", "weight × value")
STEP_TIPS = ("the key token", "the raw score of the scoring function",
             "score ÷ scale (√d_k for scaled_dot, else 1)", "÷ the temperature T",
             "the logit after the mask: masked keys become -inf (weight 0)",
             "the normalised weight", "weight_j × v_j (first components)")
HIGHLIGHT = QColor(255, 230, 120)
SUM_ROW = QColor(225, 235, 250)
VECTOR_TIP_COMPONENTS = 64
"""The weight × value cell shows 4 components; its tooltip up to this many."""


class StepsModel(TextTableModel):
    """The rows of a `StepTable`, the highlighted key's row coloured."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._steps: StepTable | None = None
        self._texts: dict[tuple[int, int], str] = {}  # formatted cells of the current steps
        self._highlighted: int | None = None
        self._bold = QFont()
        self._bold.setBold(True)
        self.set_headers(STEP_COLUMNS, col_tips=STEP_TIPS)
        self.set_shape(0, len(STEP_COLUMNS))

    def set_steps(self, steps: StepTable) -> None:
        """Show ``steps`` (the Σ row, and the W_O row if any, after the keys)."""
        self._steps = steps
        self._texts = {}
        extra = 1 if steps.wo_part is None else 2
        self.set_shape(len(steps.key_labels) + extra, len(STEP_COLUMNS))

    def set_highlighted(self, key: int | None) -> None:
        """Colour key ``key``'s row (None: no row)."""
        old, self._highlighted = self._highlighted, key
        for row in {old, key} - {None}:
            assert row is not None
            self.refresh(row, row)

    @property
    def n_keys(self) -> int:
        return 0 if self._steps is None else len(self._steps.key_labels)

    # ------------------------------------------------------------------ cells
    def cell_text(self, row: int, col: int) -> str:
        text = self._texts.get((row, col))
        if text is None:
            text = self._texts[row, col] = self._format(row, col)
        return text

    def _format(self, row: int, col: int) -> str:
        s = self._steps
        if s is None:
            return ""
        n = len(s.key_labels)
        if row < n:
            if col == 0:
                return s.key_labels[row]
            if col == 6:
                return format_vector(s.weighted_values[row])
            column = (s.raw_scores, s.scaled, s.tempered, s.logits, s.weights)[col - 1]
            return format_number(column[row])
        if row == n:  # the Σ row
            return ("Σ = head output", "", "", "", "", f"Σ {format_number(float(s.weights.sum()))}",
                    format_vector(s.head_output))[col]
        if s.wo_part is None:
            return ""
        wo = f"{format_vector(s.wo_part)}  (output {format_vector(s.output)})"
        return ("W_O part (output)", "", "", "", "", "", wo)[col]

    def cell_background(self, row: int, col: int) -> QColor | None:
        if row >= self.n_keys:
            return SUM_ROW
        return HIGHLIGHT if row == self._highlighted else None

    def cell_font(self, row: int, col: int) -> QFont | None:
        return self._bold if row >= self.n_keys else None

    def cell_alignment(self, row: int, col: int) -> Qt.AlignmentFlag:
        return LEFT if col == 0 else RIGHT

    def cell_tooltip(self, row: int, col: int) -> str | None:
        if self._steps is None or col != 6 or row >= self.n_keys:
            return None
        return format_vector(self._steps.weighted_values[row], first=VECTOR_TIP_COMPONENTS)


class StepsTable(QTableView):
    """The step table's view: rows selectable one at a time; columns fit the rows shown.

    Qt measures every row (up to 1000) for ResizeToContents; here only the rows on screen are
    measured (``resizeContentsPrecision`` 0), and widths only grow until :meth:`new_contents`, so
    scrolling never makes a column jump narrower, and a wider number further down is fitted when
    it scrolls into view.
    """

    def __init__(self, model: StepsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._widths: dict[int, int] = {}  # the widest each column has been for these steps
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setResizeContentsPrecision(0)
        header.setStretchLastSection(True)
        self.verticalScrollBar().valueChanged.connect(self._fit_columns)

    def new_contents(self) -> None:
        """New steps: columns may narrow again to fit them."""
        self._widths = {}

    def sizeHintForColumn(self, column: int) -> int:  # noqa: N802 (Qt override)
        if not self.isVisible():  # Qt would measure every row; fitted when shown
            return self._widths.get(column, self.horizontalHeader().sectionSize(column))
        width = max(super().sizeHintForColumn(column), self._widths.get(column, 0))
        self._widths[column] = width
        return width

    def showEvent(self, event: object) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)  # type: ignore[arg-type]
        self._fit_columns()

    def _fit_columns(self) -> None:
        self.horizontalHeader().resizeSections(QHeaderView.ResizeMode.ResizeToContents)
