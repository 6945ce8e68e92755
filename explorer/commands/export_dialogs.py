"""The modal dialogs of exporting and sessions, each wrapped in one small function.

As in :mod:`explorer.commands.dialogs`, the window calls these through the module
(``export_dialogs.choose_figure(...)``) so a test can replace each with ``monkeypatch.setattr``:
a modal dialog would block the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from core.files.session import SESSION_SUFFIX

FIGURE_FILTER = "PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"
DATA_FILTER = ("JSON, everything (*.json);;CSV, weights in long form (*.csv);;"
               "NumPy arrays (*.npz)")
SESSION_FILTER = f"Attention Explorer sessions (*{SESSION_SUFFIX} *.json);;All files (*)"
_FORMATS = {".png": "PNG image", ".svg": "SVG drawing (vector)", ".pdf": "PDF document (vector)"}
FigureSize = QSize | Callable[[str, float | None, tuple[int, int] | None], QSize]
"""A view's figure size: a fixed size (caption included, at 1×), or a function of (view key,
scale or None for a vector file, exact size or None) giving the size that file will have."""


@dataclass(frozen=True)
class FigureRequest:
    """What the figure dialog asks for: which view, where, and (PNG) size or scale."""

    target: str  # a key of ExportActions.targets
    path: str
    size: tuple[int, int] | None = None  # pixels, caption included; None: on-screen size x scale
    scale: float = 1.0


class FigureDialog(QDialog):
    """View, file (its suffix picks the format) and, for PNG, a scale or an exact size; below
    them the size the file will have, caption included, as the writer will make it.

    ``figure_size`` is a `FigureSize`: the export actions pass a function that asks the figure
    code itself, so the size stated is the size written (it once showed the view's size without
    the caption band: 985×492 at 2× wrote 1970×1050).
    """

    def __init__(self, parent: QWidget | None, targets: dict[str, str], target: str,
                 path: str, figure_size: FigureSize) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export figure")
        self._figure_size = figure_size
        self.target = QComboBox()
        for key, label in targets.items():
            self.target.addItem(label, key)
        self.target.setCurrentIndex(max(self.target.findData(target), 0))
        self.path = QLineEdit(path)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.format_label = QLabel()
        self.size_label = QLabel()
        self.size_label.setToolTip("The size of the file, the caption band above the view "
                                   "included.")
        size_row = self._build_size_choice(self._size_at_one(str(self.target.currentData())))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("View:", self.target)
        form.addRow("File:", file_row)
        form.addRow("Format:", self.format_label)
        form.addRow(self.by_scale, self.scale)
        form.addRow(self.by_size, size_row)
        form.addRow("Writes:", self.size_label)
        form.addRow(buttons)
        self.path.textChanged.connect(self._on_path_changed)
        self.target.currentIndexChanged.connect(self._on_target_changed)
        for signal in (self.scale.valueChanged, self.by_size.toggled,
                       self.width_box.valueChanged, self.height_box.valueChanged):
            signal.connect(self._show_written_size)
        self._on_path_changed(path)

    def _build_size_choice(self, view_size: QSize) -> QHBoxLayout:
        """Scale (2x by default) or an exact size (the view's own to start with): the PNG's."""
        self.by_scale = QRadioButton("Scale of the on-screen size")
        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.5, 8.0)
        self.scale.setSingleStep(0.5)
        self.scale.setValue(2.0)
        self.scale.setSuffix(" ×")
        self.by_size = QRadioButton("Exact size in pixels")
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value in ((self.width_box, view_size.width()),
                           (self.height_box, view_size.height())):
            box.setRange(200, 8000)
            box.setValue(value)
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_box)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_box)
        self.by_scale.setChecked(True)
        return size_row

    def _size_at_one(self, key: str) -> QSize:
        """The figure of view ``key`` at 1×, caption included."""
        if isinstance(self._figure_size, QSize):
            return self._figure_size
        return self._figure_size(key, 1.0, None)

    def written_size(self) -> QSize:
        """The size of the file :meth:`request` asks for, as the writer will make it."""
        request = self.request()
        if isinstance(self._figure_size, QSize):
            if request.size is not None:
                return QSize(*request.size)
            return self._figure_size if not self._is_png() else self._figure_size * request.scale
        return self._figure_size(request.target, request.scale if self._is_png() else None,
                                 request.size)

    def _is_png(self) -> bool:
        return Path(self.path.text()).suffix.lower() == ".png"

    def _show_written_size(self, *_: object) -> None:
        size = self.written_size()
        unit = "pixels" if self._is_png() else "pixels (a vector drawing of that size)"
        self.size_label.setText(f"{size.width()} × {size.height()} {unit}")

    def _on_target_changed(self, _index: int) -> None:
        start = self._size_at_one(str(self.target.currentData()))
        for box, value in ((self.width_box, start.width()), (self.height_box, start.height())):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._show_written_size()

    def request(self) -> FigureRequest:
        key = str(self.target.currentData())
        if self.by_size.isChecked():
            return FigureRequest(key, self.path.text(),
                                 (self.width_box.value(), self.height_box.value()))
        return FigureRequest(key, self.path.text(), None, self.scale.value())

    def _on_browse_clicked(self) -> None:
        path = choose_save_file(self, "Export figure", self.path.text(), FIGURE_FILTER)
        if path:
            self.path.setText(path)

    def _on_path_changed(self, text: str) -> None:
        suffix = Path(text).suffix.lower()
        self.format_label.setText(_FORMATS.get(suffix, "unknown: use .png, .svg or .pdf"))
        png = suffix == ".png"  # vector formats have no pixels: scale and size are PNG options
        for widget in (self.by_scale, self.scale, self.by_size, self.width_box, self.height_box):
            widget.setEnabled(png)
        self._show_written_size()


def choose_figure(parent: QWidget | None, targets: dict[str, str], target: str, path: str,
                  figure_size: FigureSize) -> FigureRequest | None:
    """Ask which view to export where (and how big); None if the person cancelled."""
    dialog = FigureDialog(parent, targets, target, path, figure_size)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    request = dialog.request()
    return request if request.path.strip() else None


def choose_save_file(parent: QWidget | None, title: str, start: str, filters: str) -> str | None:
    """A file name to write; the chosen filter's suffix is added when the name has none."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, start, filters)
    if not path:
        return None
    if not Path(path).suffix and "*." in chosen:
        path += chosen.split("*", 1)[1].split(")", 1)[0].split()[0]
    return path


def choose_data_file(parent: QWidget | None, start: str) -> str | None:
    """Where to write the data (.json, .csv, .npz); None if cancelled."""
    return choose_save_file(parent, "Export data", start, DATA_FILTER)


def choose_session_to_save(parent: QWidget | None, start: str) -> str | None:
    """Where to save the session; None if cancelled."""
    return choose_save_file(parent, "Save session", start, SESSION_FILTER)


def choose_session_to_open(parent: QWidget | None, start: str) -> str | None:
    """A session file to open; None if cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open session", start, SESSION_FILTER)
    return path or None
