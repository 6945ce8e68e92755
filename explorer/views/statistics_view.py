"""Per-head statistics of the query row: entropy, strongest key, and how alike the heads are.

Shows a `core.explain.steps.HeadStatistics`; computes nothing itself. Built once, updated in place.
"""

from __future__ import annotations

import math

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QVBoxLayout, QWidget

from core.explain.steps import format_fixed, format_percent
from core.maths.statistics import HeadStatistics
from explorer.views.table_model import GridModel, read_only_view

HEAD_COLUMNS = ("entropy", "% of max", "max w", "key")
HEAD_TIPS = ("entropy of the query row in nats: 0 = all weight on one key",
             "entropy as a share of log n, the entropy of uniform weights",
             "the largest weight of the row", "the key that gets it")
KEY_COLUMN = HEAD_COLUMNS.index("key")
ENTROPY_PLACES, WEIGHT_PLACES = 2, 3
"""Fixed decimals, the same in every row: an entropy of 1e-16 (rounding) reads 0.00."""


_SHADES = tuple(QColor(255, 140, 0, alpha) for alpha in range(121))
"""The similarity cells' backgrounds, one colour per alpha: made once, not 144 times an update
(12 heads), and the same object again lets the table see an unchanged cell at once."""


def _shade(similarity: float) -> QColor:
    """Orange, as opaque as the similarity (0..1 -> alpha 0..120)."""
    return _SHADES[min(max(int(similarity * 120), 0), 120)]


class _HeadsModel(GridModel):
    """The per-head rows; a key too long for its column is elided, its tooltip says it all."""

    def cell_tooltip(self, row: int, col: int) -> str | None:
        return self.cell_text(row, col) if col == KEY_COLUMN else None


class HeadStatisticsView(QWidget):
    """Entropy / max weight / key per head, and a head × head similarity table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heads_model = _HeadsModel(self)
        self._heads_model.set_headers(HEAD_COLUMNS, col_tips=HEAD_TIPS)
        self._heads_model.set_grid([], cols=len(HEAD_COLUMNS))
        self._heads = read_only_view(self._heads_model)
        # The key (a whole sentence, in sentence mode) takes the room the numbers leave.
        self._heads.horizontalHeader().setSectionResizeMode(
            KEY_COLUMN, QHeaderView.ResizeMode.Stretch)
        self._similarity_label = QLabel("<b>Head similarity</b> (1 − JS divergence)")
        self._similarity_label.setWordWrap(True)
        self._similarity_model = GridModel(self)
        self._similarity = read_only_view(self._similarity_model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Heads on the query row</b>"))
        layout.addWidget(self._heads, 1)
        layout.addWidget(self._similarity_label)
        layout.addWidget(self._similarity, 1)

    def set_statistics(self, stats: HeadStatistics) -> None:
        """Show ``stats`` (from `core.explain.steps.head_statistics`)."""
        n_heads = len(stats.entropy)
        names = [f"head {h + 1}" for h in range(n_heads)]  # counted from 1, as on screen
        rows = []
        for h in range(n_heads):
            share = stats.entropy[h] / stats.max_entropy if stats.max_entropy else 0.0
            rows.append([format_fixed(stats.entropy[h], ENTROPY_PLACES), format_percent(share),
                         format_fixed(stats.max_weight[h], WEIGHT_PLACES),
                         stats.max_key_labels[h]])
        self._heads_model.set_headers(HEAD_COLUMNS, names, HEAD_TIPS)
        self._heads_model.set_grid(rows, cols=len(HEAD_COLUMNS))
        texts: list[list[str]] = []
        shades: list[list[QColor | None]] = []
        for values in stats.similarity[:n_heads, :n_heads].tolist():  # plain floats: fast
            texts.append(["—" if math.isnan(v) else format_fixed(v, 2) for v in values])
            shades.append([None if math.isnan(v) else _shade(v) for v in values])
        self._similarity_model.set_headers([str(h + 1) for h in range(n_heads)], names)
        self._similarity_model.set_grid(texts, shades, cols=n_heads)
        self._similarity_label.setToolTip(stats.similarity_name)
        self._similarity.setToolTip(stats.similarity_name)

    def models(self) -> tuple[GridModel, GridModel]:
        """(per-head statistics, head similarity): what the tables show, for a figure of them."""
        return self._heads_model, self._similarity_model

    def head_row_texts(self, head: int) -> list[str]:
        """The texts of one head's row (for tests and export)."""
        return [self._heads_model.cell_text(head, c) for c in range(len(HEAD_COLUMNS))]

    def similarity_size(self) -> int:
        """How many heads the similarity table compares (its rows = its columns)."""
        return self._similarity_model.rowCount()
