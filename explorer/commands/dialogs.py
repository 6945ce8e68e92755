"""Every modal dialog of the window, each wrapped in one small function.

Modal dialogs block tests, so the window always calls these through the module
(``dialogs.show_error(...)``), and a test replaces the function with ``monkeypatch.setattr``.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

VECTOR_FILE_FILTER = (
    "Word vectors (*.txt *.vec *.bin *.gz *.bz2 *.npz *.kv *.model);;All files (*)"
)
TRUST_TEXT = "This file can run code on your computer. Only open it if you trust its source."


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """Tell the person something went wrong, in words (never a traceback)."""
    QMessageBox.warning(parent, title, message)


def ask_trust(parent: QWidget | None, path: str) -> bool:
    """Ask before opening a pickled (.kv/.model) file; True only if the person says so."""
    answer = QMessageBox.warning(
        parent, "Open a file that can run code?", f"{path}\n\n{TRUST_TEXT}",
        QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Open


def choose_vectors_file(parent: QWidget | None, start_dir: str = "") -> str | None:
    """The word-vector file the person picked, None if they cancelled."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open word vectors", start_dir, VECTOR_FILE_FILTER
    )
    return path or None


def choose_heads_file(parent: QWidget | None, start_dir: str = "") -> str | None:
    """An .npz with w_q, w_k, w_v, w_o for the 'file' head strategy, None if cancelled."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open head projections", start_dir, "NumPy archives (*.npz);;All files (*)"
    )
    return path or None


def choose_model_folder(parent: QWidget | None, start_dir: str = "") -> str | None:
    """A trained model's checkpoint folder (config.json, model.safetensors, tokenizer.json)."""
    path = QFileDialog.getExistingDirectory(parent, "Open a trained model's folder", start_dir)
    return path or None


ABOUT_TEXT = (
    "<b>Attention Explorer</b><br>See how attention works: on real word vectors with made-up "
    "heads, and inside a trained transformer, every layer and head, by the program's own NumPy "
    "core.<br><br><b>Bundled data</b><br>GloVe 6B 50d word vectors (Pennington, Socher and "
    "Manning, 2014), Open Data Commons PDDL 1.0.<br>all-MiniLM-L6-v2 by sentence-transformers "
    "(from microsoft/MiniLM-L6-H384-uncased), Apache License 2.0.")


def show_about(parent: QWidget | None) -> None:
    """Help > About: what the program is, and the bundled data's authors and licences."""
    QMessageBox.about(parent, "About Attention Explorer", ABOUT_TEXT)
