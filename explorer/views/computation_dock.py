"""How attention is computed, in the window: the step-by-step panel, the matrix view, the head
statistics and the open lesson's explanation, in one dock.

The window shows each new analysis with :meth:`ComputationDock.show_analysis`; the dock says
which input mode the person picked (``mode_requested``) and which key row they clicked in the
step table (``panel.key_selected``), and changes nothing itself.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.explain.lessons import Lesson
from core.explain.matrices import matrix_view
from core.inputs import toy_output_is_concat
from core.maths.statistics import head_statistics
from core.pipeline import Analysis
from explorer.views.computation_view import ComputationPanel, analysis_steps
from explorer.views.inputs_view import MODE_TEXT
from explorer.views.matrix_view import MatrixView

STEPS_TAB, MATRICES_TAB = 0, 1
MIN_HEIGHT, BODY_HEIGHT = 120, 280
INDEX_NOTE = "Dimensions, heads and positions count from 1 here; exported data files count from 0."


class ComputationTabs(QTabWidget):
    """The Steps and Matrices tabs; as a figure, the open tab's whole contents (no tab bar)."""

    def __init__(self, panel: ComputationPanel, matrices: MatrixView) -> None:
        super().__init__()
        self.panel, self.matrices = panel, matrices
        self.addTab(panel, "Steps for the query")
        self.addTab(matrices, "Matrices I → Q, K, V → A, A′ → O")

    @contextmanager
    def figure_source(self) -> Iterator[QWidget]:
        """What a figure of these tabs draws: the matrices as shown, or the steps with every row
        of the table (on screen it scrolls: a figure of it showed four rows and a scroll bar)."""
        if self.currentWidget() is self.matrices:
            with self.matrices.for_figure() as matrices:
                yield matrices
            return
        figure = self.panel.figure_widget()
        try:
            yield figure
        finally:
            figure.hide()
            figure.deleteLater()


class ComputationDock(QDockWidget):
    """Input mode + lesson text above tabs: "Steps" (panel and head statistics), "Matrices".

    Signals
    -------
    mode_requested(str)
        The person picked an input mode ("words", "sentences", "toy").
    """

    mode_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("How it is computed", parent)
        self.setObjectName("computation_dock")  # saveState() needs a name
        self._analysis: Analysis | None = None
        self._head: int | None = None
        self._inspected: int | None = None
        self.mode = QComboBox()
        for name, text in MODE_TEXT.items():
            self.mode.addItem(text, name)
        self.mode.setToolTip("What attends: the words of the sentence, whole sentences (each "
                             "the mean of its word vectors) or a toy table typed by hand.")
        self.lesson_title = QLabel()
        self.lesson_text = QLabel()
        self.lesson_text.setWordWrap(True)
        self.lesson_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_lesson = QPushButton("Close lesson")
        self.close_lesson.setToolTip("Hide the lesson's explanation and go back to your own "
                                     "settings.")
        self.panel = ComputationPanel()
        self.statistics = self.panel.statistics
        self.matrices = MatrixView()
        self.tabs = ComputationTabs(self.panel, self.matrices)
        self.index_note = QLabel(f"<small>{INDEX_NOTE}</small>")
        self.index_note.setToolTip(INDEX_NOTE)
        self.index_note.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.index_note.setContentsMargins(0, 0, 6, 0)
        self.tabs.setCornerWidget(self.index_note)  # said once, beside the tabs it is about
        self._lay_out()
        self.show_lesson(None)
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.close_lesson.clicked.connect(lambda: self.show_lesson(None))
        self.tabs.currentChanged.connect(self._on_tab_changed)

    def _lay_out(self) -> None:
        header = QHBoxLayout()
        header.addWidget(QLabel("Input:"))
        header.addWidget(self.mode)
        header.addSpacing(12)
        header.addWidget(self.lesson_title, 1)
        header.addStretch(0)  # takes the room while no lesson is open
        header.addWidget(self.close_lesson)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(4, 2, 4, 2)
        column.setSpacing(2)
        column.addLayout(header)
        column.addWidget(self.lesson_text)
        column.addWidget(self.tabs, 1)
        body.setMinimumHeight(BODY_HEIGHT)  # below this the dock scrolls: the table keeps rows
        # Scrolled, so the dock's minimum height is small: a short window keeps its views.
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumHeight(MIN_HEIGHT)
        self.setWidget(scroll)

    # ----------------------------------------------------------------------------- set_*
    def set_mode(self, mode: str) -> None:
        """Show the input mode (never emits)."""
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(self.mode.findData(mode))
        self.mode.blockSignals(False)

    def show_lesson(self, item: Lesson | None) -> None:
        """Show a lesson's title and explanation above the steps (None hides them)."""
        self.lesson = item
        for widget in (self.lesson_title, self.lesson_text, self.close_lesson):
            widget.setVisible(item is not None)
        if item is not None:
            self.lesson_title.setText(f"<b>Lesson: {html.escape(item.title)}</b>")
            self.lesson_text.setText(item.explanation)
            self.tabs.setCurrentIndex(MATRICES_TAB if item.id == "matrix_view" else STEPS_TAB)

    def show_analysis(self, a: Analysis, head: int | None, inspected: int | None) -> None:
        """Show the steps of ``a``'s query row in ``head`` (None: head 0, said in the panel),
        ``inspected`` highlighted; the matrices are filled when their tab is shown."""
        self._analysis, self._head = a, head
        self._inspected = inspected if inspected is not None and inspected < len(a.col_labels) \
            else None
        self.panel.set_steps(analysis_steps(a, _steps_heads(a), head))
        self.panel.highlight_key(self._inspected)
        # Only the query row's weights: head_statistics converts what it gets to float64, and
        # converting every row of a long sentence would cost more than the statistics.
        row, labels = a.weights[:, a.query_row:a.query_row + 1, :], a.col_labels  # (h, 1, n)
        if a.full_result is not None and a.model is not None:
            # [CLS] / [SEP] hidden from the maps: the statistics of the whole row (the shown
            # weights sum to less than 1, and entropy over them would be of no distribution).
            from core.model_pipeline import display_labels  # a model is shown: loaded

            query = int(a.model.shown[a.query_row])
            row, labels = a.full_result.weights[:, query:query + 1, :], display_labels(a.model.run)
        self.panel.set_statistics(head_statistics(row, 0, labels))
        if self.tabs.currentIndex() == MATRICES_TAB:
            self._show_matrices()

    def _show_matrices(self) -> None:
        a = self._analysis
        if a is None:
            return
        if a.full_result is not None and a.model is not None:
            self._show_every_token(a)
            return
        x_kv = a.sentence.vectors  # (n, d)
        outside = a.query.position is None
        x_q = np.vstack([x_kv, a.query.vector[None, :]]) if outside else x_kv  # (r, d)
        self.matrices.set_matrices(matrix_view(
            a.result, _steps_heads(a), x_q, x_kv, self._head, row=a.query_row,
            row_labels=a.row_labels, col_labels=a.col_labels, key=self._inspected))

    def _show_every_token(self, a: Analysis) -> None:
        """The trained layer's matrices over every token, the hidden special ones named so:
        over the shown ones only, O = V A′ would not hold (each output mixes the hidden keys'
        values too, with most of the weight)."""
        from core.model_pipeline import display_labels  # a model is shown: already loaded

        m = a.model
        assert m is not None and a.full_result is not None
        shown = [int(i) for i in m.shown]
        labels = display_labels(m.run)
        labels = [text if i in shown else f"{text} (hidden)" for i, text in enumerate(labels)]
        x = m.run.passed.layer_inputs[m.layer]  # (n, d) every token's input to this layer
        key = None if self._inspected is None or not 0 <= self._inspected < len(shown) \
            else shown[self._inspected]
        self.matrices.set_matrices(matrix_view(
            a.full_result, None, x, x, self._head, row=shown[a.query_row], row_labels=labels,
            col_labels=labels, key=key))

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        if index == MATRICES_TAB:
            self._show_matrices()

    @Slot(int)
    def _on_mode_changed(self, index: int) -> None:
        self.mode_requested.emit(self.mode.itemData(index))


def _steps_heads(a: Analysis):  # noqa: ANN202 (HeadProjections | None)
    """The projections to show: None when a toy's output is its heads' concatenation."""
    return None if toy_output_is_concat(a.settings) else a.heads
