"""The modal dialogs of exporting and sessions, each wrapped in one small function.

As in :mod:`explorer.commands.dialogs`, the window calls these through the module
(``export_dialogs.choose_figure(...)``) so a test can replace each with ``monkeypatch.setattr``:
a modal dialog would block the test.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class FigureRequest:
    """What the figure dialog asks for: which view, where, and (PNG) size or scale."""

    target: str  # a key of ExportActions.targets
    path: str
    size: tuple[int, int] | None = None  # pixels, caption included; None: on-screen size x scale
    scale: float = 1.0


class FigureDialog(QDialog):
    """View, file (its suffix picks the format) and, for PNG, a scale or an exact size."""

    def __init__(self, parent: QWidget | None, targets: dict[str, str], target: str,
                 path: str, view_size: QSize) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export figure")
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
        size_row = self._build_size_choice(view_size)
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
        form.addRow(buttons)
        self.path.textChanged.connect(self._on_path_changed)
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


def choose_figure(parent: QWidget | None, targets: dict[str, str], target: str, path: str,
                  view_size: QSize) -> FigureRequest | None:
    """Ask which view to export where (and how big); None if the person cancelled."""
    dialog = FigureDialog(parent, targets, target, path, view_size)
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
