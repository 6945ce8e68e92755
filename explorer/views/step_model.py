"""The step table of the computation panel: a model over a `core.explain.steps.StepTable` and its
view.

One row per key (key, score, ÷ scale, ÷ T, mask, weight, weight × value), then: the keys the
maps hide, as one row, when there are any (their weights are in the Σ); the Σ row; for an
ablated head the output the model used instead; with W_O, the W_O row.

Texts are formatted when the view asks for them (the rows on screen) and kept until the next
step table: formatting every cell of a 512-key sentence on each change would cost more than
the rest of the update. The view fits its columns to the rows it shows (and widens them, never
narrows, while the person scrolls), for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyleOptionViewItem,
    QWidget,
)

from core.explain.steps import StepTable, format_number, format_vector
from explorer.views.table_model import (
    LEFT,
    RIGHT,
    OnScreenTableView,
    TextTableModel,
    resize_columns,
)
from explorer.views.text_cells import TextCellDelegate, TextWidths

STEP_COLUMNS = ("key", "score", "÷ scale", "÷ T", "mask", "weight", "weight × value")
STEP_TIPS = ("the key token", "the raw score of the scoring function",
             "score ÷ scale (√d_k for scaled dot, else 1)", "÷ the temperature T",
             "the logit after the mask: masked keys become -inf (weight 0)",
             "the normalised weight", "weight_j × v_j (first components)")
HIGHLIGHT = QColor(255, 230, 120)
SUM_ROW = QColor(225, 235, 250)
VECTOR_TIP_COMPONENTS = 64
"""The weight × value cell shows 4 components; its tooltip up to this many."""
EXTRA_TIPS = {
    "hidden": "The keys Hide [CLS] / [SEP] leaves out of the maps and of this table: the "
              "softmax still ran over them, so their weight and weight × value are in the Σ.",
    "sum": "Σ over every key, the hidden ones included: the weights sum to 1, and Σ_j w_j v_j "
           "is the head's output (unless the head is ablated).",
    "ablated": "The head is ablated: the model used this in place of Σ_j w_j v_j (zero, or the "
               "mean of the head's outputs over the tokens); its weights are unchanged.",
    "wo": "This head's part of the output, o · W_O (its rows of W_O), and the layer's output.",
}


# The StepTable fields each column shows (in any row: keys, hidden, Σ, ablated, W_O); see
# StepsModel._format.
_COLUMN_FIELDS = (("key_labels", "hidden_labels", "ablation"), ("raw_scores",), ("scaled",),
                  ("tempered",), ("logits",), ("weights", "hidden_weights"),
                  ("weighted_values", "weighted_sum", "hidden_values", "head_output", "wo_part",
                   "output"))


def extra_rows(steps: StepTable) -> tuple[str, ...]:
    """The rows after the keys, in order: "hidden" (keys the maps hide), "sum" (Σ), "ablated"
    (the output the model used instead of Σ), "wo" (the W_O part and the output)."""
    return (("hidden",) if steps.n_hidden else ()) + ("sum",) + \
        (("ablated",) if steps.ablation is not None else ()) + \
        (("wo",) if steps.wo_part is not None else ())



def _same(a: object, b: object) -> bool:
    """Whether two field values show the same (arrays: same shape and numbers, NaN included)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (a is b or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                           and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)))
    return a == b


class StepsModel(TextTableModel):
    """The rows of a `StepTable`, the highlighted key's row coloured."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._steps: StepTable | None = None
        self._texts: dict[tuple[int, int], str] = {}  # formatted cells of the current steps
        self._highlighted: int | None = None
        self._extra: tuple[str, ...] = ()  # the rows after the keys (extra_rows)
        self._bold = QFont()
        self._bold.setBold(True)
        self.set_headers(STEP_COLUMNS, col_tips=STEP_TIPS)
        self.set_shape(0, len(STEP_COLUMNS))

    def set_steps(self, steps: StepTable) -> None:
        """Show ``steps`` (the Σ row, and the W_O row if any, after the keys).

        With the same rows as before, only the columns whose numbers changed are announced:
        the view repaints those cells alone (a new temperature leaves the keys, scores and
        scaled scores as they were: 3 of 7 columns).
        """
        old, self._steps = self._steps, steps
        self._texts = {}
        extra, old_extra, self._extra = extra_rows(steps), self._extra, extra_rows(steps)
        rows = len(steps.key_labels) + len(extra)
        if old is None or rows != self.rowCount() or extra != old_extra:
            self.set_shape(rows, len(STEP_COLUMNS))
            return
        changed = [col for col, fields in enumerate(_COLUMN_FIELDS)
                   if not all(_same(getattr(old, f), getattr(steps, f)) for f in fields)]
        if changed:
            self.dataChanged.emit(self.index(0, changed[0]), self.index(rows - 1, changed[-1]))

    def set_highlighted(self, key: int | None) -> None:
        """Colour key ``key``'s row (None: no row)."""
        if key == self._highlighted:  # the same row: nothing to repaint (new steps repaint all)
            return
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
        kind = self._kind(row)
        if kind == "hidden":  # one row for them: their share of the Σ
            return (f"hidden: {s.hidden_names}", "", "", "", "",
                    format_number(float(s.hidden_weights.sum())),
                    format_vector(s.hidden_weighted_sum))[col]
        if kind == "sum":
            total = float(s.weights.sum() + s.hidden_weights.sum())
            name = "Σ = head output" if s.ablation is None else "Σ (not used: ablated)"
            return (name, "", "", "", "", f"Σ {format_number(total)}",
                    format_vector(s.weighted_sum))[col]
        if kind == "ablated":
            name = "o used: 0" if s.ablation == "zero" else "o used: token mean"
            return (name, "", "", "", "", "", format_vector(s.head_output))[col]
        if kind != "wo" or s.wo_part is None:
            return ""
        wo = f"{format_vector(s.wo_part)}  (output {format_vector(s.output)})"
        return ("W_O part (output)", "", "", "", "", "", wo)[col]

    def _kind(self, row: int) -> str:
        """What row ``row`` after the keys is (see extra_rows); "" for a key's row."""
        after = row - self.n_keys
        return self._extra[after] if 0 <= after < len(self._extra) else ""

    def cell_background(self, row: int, col: int) -> QColor | None:
        if row >= self.n_keys:
            return SUM_ROW
        return HIGHLIGHT if row == self._highlighted else None

    def cell_font(self, row: int, col: int) -> QFont | None:
        return self._bold if row >= self.n_keys else None

    @property
    def bold_font(self) -> QFont:
        """The font of the Σ and W_O rows."""
        return self._bold

    def cell_alignment(self, row: int, col: int) -> Qt.AlignmentFlag:
        return LEFT if col == 0 else RIGHT

    def cell_tooltip(self, row: int, col: int) -> str | None:
        s = self._steps
        if s is None:
            return None
        if row >= self.n_keys:
            if col != 0:
                return None
            kind = self._kind(row)
            names = f"\n{', '.join(s.hidden_labels)}" if kind == "hidden" else ""
            return EXTRA_TIPS.get(kind, "") + names or None
        if col != 6:
            return None
        return format_vector(s.weighted_values[row], first=VECTOR_TIP_COMPONENTS)


class StepsTable(OnScreenTableView):
    """The step table's view: rows selectable one at a time; columns fit the rows shown.

    Qt's ResizeToContents would ask the model for ~8 roles of every cell of up to 1000 rows
    (Python calls) after each change; here the columns are fitted to the texts of the rows on
    screen with font metrics (the texts are cached by the model, painting needs them anyway).
    Widths only grow until :meth:`new_contents`, so scrolling never makes a column jump
    narrower, and a wider number further down is fitted when it scrolls into view.
    """

    def __init__(self, model: StepsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._cells_delegate = TextCellDelegate(self, model)  # also measures the texts
        self.setItemDelegate(self._cells_delegate)
        self._steps_model = model
        self._widths: dict[int, int] = {}  # the widest each column has been for these steps
        self._fitted_rows: set[int] = set()  # rows already measured for these steps
        # Measurements that stay while the fonts and style do (see _keep_measurements).
        self._measured_for: tuple = ()
        self._paddings: dict[tuple[str, bool], int] = {}  # (key text, bold) -> delegate padding
        self._header_widths: dict[int, int] = {}  # column -> its header's own width
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # fitted by fit_columns
        header.setStretchLastSection(True)

    def new_contents(self) -> None:
        """New steps: columns may narrow again to fit them (fitted now if shown)."""
        self._widths, self._fitted_rows = {}, set()
        self.fit_columns()

    def fit_columns(self, rows: Sequence[int] | None = None) -> None:
        """Fit every column but the last (it stretches) to its header and ``rows`` (default:
        the rows on screen); never narrower than for earlier rows of the same steps."""
        rows = self.rows_on_screen() if rows is None else rows
        rows = [row for row in rows if row not in self._fitted_rows]  # texts kept until new steps
        if not rows:  # nothing new on screen (fitted when painted)
            return
        self._fitted_rows.update(rows)
        model = self._steps_model
        self._keep_measurements()
        padding = self._padding(rows[0])
        header, advances = self.horizontalHeader(), self._advances()
        for col in range(len(STEP_COLUMNS) - 1):
            width = max(self._header_width(col), self._widths.get(col, 0))
            for row in rows:
                advance = advances[row >= model.n_keys](model.cell_text(row, col))
                width = max(width, math.ceil(advance) + padding)
            self._widths[col] = width
        resize_columns(self, {col: width for col, width in self._widths.items()
                              if header.sectionSize(col) != width})

    def whole_width(self, rows: Sequence[int]) -> int:
        """How wide the table must be to show ``rows`` uncut: the fitted columns, and the last
        one (it stretches on screen and elides what does not fit) as wide as its widest text."""
        self.fit_columns(rows)
        self._keep_measurements()
        model, last, advances = self._steps_model, len(STEP_COLUMNS) - 1, self._advances()
        widest = max((advances[row >= model.n_keys](model.cell_text(row, last))
                      for row in rows), default=0.0)
        padding = self._padding(rows[0]) if rows else 0
        header = self.horizontalHeader()
        columns = sum(header.sectionSize(col) for col in range(last))
        return columns + max(self._header_width(last), math.ceil(widest) + padding) + \
            2 * self.frameWidth()

    def _keep_measurements(self) -> None:
        """Forget the measurements when the fonts or the style changed since they were made."""
        key = (self.font().key(), self._steps_model.bold_font.key(),
               self.horizontalHeader().font().key(), self.style().name())
        if key != self._measured_for:
            self._measured_for = key
            self._paddings, self._header_widths = {}, {}

    def _advances(self) -> tuple[TextWidths, TextWidths]:
        """The widths of texts in the table's font and in the bold one of the Σ and W_O rows
        (indexed by "is the row bold"), as the delegate measured them for painting."""
        return self._cells_delegate.widths(), self._cells_delegate.widths(
            self._steps_model.bold_font)

    def _header_width(self, col: int) -> int:
        """The header's own width for ``col`` (its label is fixed), measured once per font."""
        if col not in self._header_widths:
            self._header_widths[col] = self.horizontalHeader().sectionSizeHint(col)
        return self._header_widths[col]

    def _padding(self, row: int) -> int:
        """What the item delegate adds around a cell's text (the style's margins), measured on
        ``row``'s key cell (in that row's font), plus the grid line, as QTableView's own
        sizeHintForColumn counts it; remembered per text and font."""
        index = self._steps_model.index(row, 0)
        if not index.isValid():
            return 0
        bold = row >= self._steps_model.n_keys
        text = self._steps_model.cell_text(index.row(), 0)
        if (text, bold) not in self._paddings:
            if len(self._paddings) >= TextWidths.LIMIT:  # the keys of many sentences
                self._paddings.clear()
            option = QStyleOptionViewItem()
            self.initViewItemOption(option)
            hint = self.itemDelegate().sizeHint(option, index).width()
            advance = math.ceil(self._advances()[bold].metrics.horizontalAdvance(text))
            self._paddings[text, bold] = hint - advance + (1 if self.showGrid() else 0)
        return self._paddings[text, bold]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        # Rows scrolled into view (by this table or by the dock around it) are fitted when first
        # painted; a column that grows is painted again at its new width.
        area = event.region().boundingRect()  # Qt clips it to what is on screen
        if not area.isEmpty() and self._steps_model.rowCount():
            first, last = max(self.rowAt(area.top()), 0), self.rowAt(area.bottom())
            last = self._steps_model.rowCount() - 1 if last < 0 else last
            self.fit_columns(range(first, last + 1))
        super().paintEvent(event)
