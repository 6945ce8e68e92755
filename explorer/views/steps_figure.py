"""The Steps tab drawn whole, for a figure: every row of the step table, the formulas unscrolled,
the head statistics beside them.

On screen the step table shows the rows its viewport has room for (often four, with a scroll bar)
and the formulas scroll inside a box of fixed height; a figure of that viewport is not a figure of
the computation. This builds a window that is never shown on screen, at the panel's width, with
tables exactly as tall as their rows, over the same models (so the same texts and colours).
"""

from __future__ import annotations

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QHBoxLayout,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from explorer.views.step_model import StepsModel, StepsTable
from explorer.views.table_model import FittedGridView, GridModel, read_only_view

_SCROLL_OFF = Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def whole_table(table: QTableView) -> QTableView:
    """``table`` as tall as its header and all its rows, with no scroll bars."""
    table.setHorizontalScrollBarPolicy(_SCROLL_OFF)
    table.setVerticalScrollBarPolicy(_SCROLL_OFF)
    table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
    header = table.horizontalHeader()
    rows = table.verticalHeader().length()  # every row's height, summed
    top = header.sizeHint().height() if not header.isHidden() else 0
    table.setFixedHeight(rows + top + 2 * table.frameWidth())
    return table


def steps_figure(formulas_html: str, steps: StepsModel, heads: GridModel, similarity: GridModel,
                 width: int) -> QWidget:
    """A window (never shown on screen) ``width`` wide holding the whole Steps tab.

    Parameters
    ----------
    formulas_html : the title and formulas, as the panel's text box shows them.
    steps : the step table's model (every key's row, Σ and W_O).
    heads, similarity : the head statistics' models.
    width : the figure's width in pixels (the panel's own, so it reads as on screen; more when
        a table's texts need more).
    """
    figure = QWidget()
    figure.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    text = QLabel(formulas_html)
    text.setTextFormat(Qt.TextFormat.RichText)
    text.setWordWrap(True)
    table = StepsTable(steps)
    # Every row, not only those a viewport would show, each cell uncut (the W_O row is long).
    table.setMinimumWidth(table.whole_width(range(steps.rowCount())))
    statistics = QVBoxLayout()
    statistics.addWidget(QLabel("<b>Heads on the query row</b>"))
    statistics.addWidget(_fitted(heads))
    statistics.addWidget(QLabel("<b>Head similarity</b> (1 − JS divergence)"))
    statistics.addWidget(_fitted(similarity))
    statistics.addStretch(1)
    row = QHBoxLayout()
    row.addWidget(whole_table(table), 3, Qt.AlignmentFlag.AlignTop)
    row.addLayout(statistics, 1)
    column = QVBoxLayout(figure)
    column.addWidget(text)
    column.addLayout(row)
    column.addStretch(1)  # an exact size taller than the contents: the room goes below them
    column.activate()
    width = max(width, column.totalMinimumSize().width())  # wider than the panel if it must be
    height = column.totalHeightForWidth(width) if column.hasHeightForWidth() \
        else column.totalSizeHint().height()
    figure.resize(width, max(height, column.totalMinimumSize().height()))
    return figure


def _fitted(model: GridModel) -> QTableView:
    view = read_only_view(model)
    assert isinstance(view, FittedGridView)
    view.fit_columns()  # the models are filled already: no signal will fit them
    rows = view.verticalHeader()
    # As wide as its columns (a narrow share of the figure would cut them off: no scroll bars).
    view.setMinimumWidth(view.horizontalHeader().length() + 2 * view.frameWidth()
                         + (rows.sizeHint().width() if not rows.isHidden() else 0))
    return whole_table(view)
