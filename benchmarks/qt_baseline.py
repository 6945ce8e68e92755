"""A yardstick for the window benchmarks: how fast this machine runs Qt and Python together.

The update benchmarks time Python (the pipeline, the views' ``set_*``) and Qt's software
painting, and these machines differ by 2-3x in both (the same commit measured a 12-word update
at ~10 ms on one and ~25 ms on another). So beside each update figure the window benchmark
measures, in the same run, the repaint of a plain Qt table whose cells come from a Python model
-- nothing of the application's own code -- once after every timed update, and reports the
update as a multiple of it (medians). Interleaved, both see the same moments of a noisy machine;
the ratio moves with the application's code more than with the machine.

The table is the computation dock's size at 12 words: 14 rows x 7 columns of 4-significant-digit
numbers, drawn by Qt's own QStyledItemDelegate at 700 x 320 px.
"""

from __future__ import annotations

import time
from typing import Any

ROWS, COLS = 14, 7
SIZE = (700, 320)


def _numbers(rows: int, cols: int) -> list[list[str]]:
    """Fixed texts like the step table's: signs, decimals, the odd exponent."""
    return [[f"{(-1) ** (r + c) * (r * 7 + c * 3 + 1) / 97:.4g}" if c else f"word{r}"
             for c in range(cols)] for r in range(rows)]


class Yardstick:
    """The yardstick table, shown offscreen; :meth:`measure` times one repaint of it and keeps
    the milliseconds in ``times``."""

    def __init__(self, app: Any) -> None:
        from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
        from PySide6.QtWidgets import QTableView

        texts = _numbers(ROWS, COLS)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

        class Model(QAbstractTableModel):
            def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008, N802 (Qt)
                return ROWS

            def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008, N802
                return COLS

            def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
                if role == Qt.ItemDataRole.DisplayRole:
                    return texts[index.row()][index.column()]
                return right if role == Qt.ItemDataRole.TextAlignmentRole else None

        self._app = app
        self.times: list[float] = []
        self._model = Model()
        self._view = QTableView()
        self._view.setModel(self._model)
        self._view.verticalHeader().setDefaultSectionSize(20)
        self._view.resize(*SIZE)
        self._view.show()
        app.processEvents()
        for _ in range(2):  # glyph caches
            self._view.viewport().repaint()

    def measure(self) -> None:
        start = time.perf_counter()
        self._view.viewport().repaint()
        self.times.append((time.perf_counter() - start) * 1e3)

    def results(self, key: str, times: list[float], after: str) -> list[Any]:
        """The rows that go beside ``key``'s (its ``times``): the yardstick's own repaints,
        made after each ``after``, and ``key``'s median as a multiple of theirs."""
        from benchmarks.timing import Result, median

        return [
            Result(f"{key}.yardstick", self.times, None, "ms",
                   f"a plain Qt table of {ROWS} x {COLS} numbers repainted after each {after} "
                   "(qt_baseline.py)"),
            Result(f"{key}.vs_yardstick", [median(times) / median(self.times)], None, "x",
                   f"the {after}'s median / the yardstick's: comparable across machines"),
        ]

    def close(self) -> None:
        self._view.close()
        self._view.deleteLater()
        self._app.processEvents()
