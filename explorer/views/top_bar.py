"""The bar above the views: which vectors are loaded (+ Open...), the sentence and the query word.

Both text fields report every keystroke (``textEdited``, i.e. only what the person typed, never
our own ``setText``); the controller coalesces the burst into one recompute per frame.

The query completer never holds the vocabulary: its model is refilled on each keystroke with at
most :data:`MAX_SUGGESTIONS` words from a prefix index built in the loader thread, so 400,000
words cost the GUI thread one binary search per key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QStringListModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from core.settings import Settings, field_docs
from explorer.views.source_label import SourceLabel

if TYPE_CHECKING:
    from explorer.loader import VocabularyIndex

MAX_SUGGESTIONS = 30
_ERROR_STYLE = "QLineEdit { border: 2px solid #d62728; border-radius: 3px; }"


class TopBar(QWidget):
    """Vectors label + Open..., sentence field, query field with completion.

    Signals
    -------
    open_requested()
        The Open... button was pressed.
    source_chosen(str)
        The person picked a source: "vectors" (word vectors) or "model" (a trained model).
    sentence_edited(str), query_edited(str)
        The person typed (or picked a completion); the full new text.
    """

    open_requested = Signal()
    source_chosen = Signal(str)
    sentence_edited = Signal(str)
    query_edited = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        docs = field_docs()
        self.vectors_label = SourceLabel("Loading vectors…")
        self.vectors_label.setMinimumWidth(80)  # "…" in a narrow window; the tip has it all
        self.source_combo = QComboBox()
        self.source_combo.addItem("Word vectors", "vectors")
        self.source_combo.addItem("Trained model", "model")
        self.source_combo.setToolTip(docs["source"] + " Word vectors get made-up heads; a trained "
                                     "transformer shows its own layers and heads.")
        self._vectors_info: tuple[str, str] = ("", "Loading vectors…")  # (bold name, the rest)
        self._model_info: tuple[str, str] = ("", "No model opened yet")
        self._source = "vectors"
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open a word-vector file (Ctrl+O, or drop one on the window).")
        self.sentence_edit = QLineEdit()
        self.sentence_edit.setPlaceholderText("Type a sentence…")
        self.sentence_edit.setToolTip(docs["sentence"])
        self.query_edit = QLineEdit()
        self.query_edit.setPlaceholderText("query word")
        self.query_edit.setToolTip(docs["query"] + " Clicking a token also makes it the query.")
        self.query_edit.setMaximumWidth(180)
        self.query_edit.setMinimumWidth(70)
        self.sentence_edit.setMinimumWidth(120)
        self._index: VocabularyIndex | None = None
        self._suggestions = QStringListModel(self)
        self.completer = QCompleter(self._suggestions, self)
        # The model already holds only matches, in frequency order: show it as it is.
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.query_edit.setCompleter(self.completer)
        self._lay_out()
        self.open_button.clicked.connect(self.open_requested)
        self.source_combo.activated.connect(self._on_source_activated)
        self.sentence_edit.textEdited.connect(self.sentence_edited)
        self.query_edit.textEdited.connect(self._on_query_text_edited)
        # The str overload (not the QModelIndex one): the chosen word itself.
        self.completer.activated[str].connect(self._on_completion_chosen)  # type: ignore[index]

    def _lay_out(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.addWidget(self.source_combo)
        row.addWidget(self.vectors_label)
        row.addWidget(self.open_button)
        # Shown in the modes that type them here: toy and sentence rows come from the inputs
        # dock, and greyed fields would only take the room the source's label needs.
        self.sentence_field = _labelled("Sentence:", self.sentence_edit, space=12)
        self.query_field = _labelled("Query:", self.query_edit, space=6)
        row.addWidget(self.sentence_field, stretch=1)
        row.addStretch(0)  # the room the hidden fields leave
        row.addWidget(self.query_field)

    # ------------------------------------------------------------------ set_* (never emit)
    def set_settings(self, settings: Settings) -> None:
        """Show the sentence and query; a field is left alone while it already says the same.

        The sentence is typed here only in word mode (toy and sentence rows come from the inputs
        dock), and sentence mode's query is a sentence typed there too.
        """
        fields = ((self.sentence_edit, settings.sentence), (self.query_edit, settings.query))
        for edit, text in fields:
            if edit.text() != text:
                edit.setText(text)  # setText does not emit textEdited
                edit.setCursorPosition(0 if not edit.hasFocus() else len(text))  # show the start
        self.sentence_edit.setEnabled(settings.mode == "words")
        self.query_edit.setEnabled(settings.mode != "sentences")
        self.sentence_field.setVisible(settings.mode == "words")
        self.query_field.setVisible(settings.mode != "sentences")
        if settings.source != self._source:
            self._source = settings.source
            self.show_source(settings.source)
        self.open_button.setToolTip(
            "Open a trained model's checkpoint folder (Ctrl+Alt+O, or drop one on the window)."
            if self._source == "model" else
            "Open a word-vector file (Ctrl+O, or drop one on the window).")

    def set_vectors_info(self, name: str, words: int, dims: int) -> None:
        self._vectors_info = (name, f" · {words:,} words · {dims} dims")
        self._show_info()

    def set_model_info(self, summary: str) -> None:
        """E.g. "all-MiniLM-L6-v2 · 6 layers x 12 heads · 384 dims"."""
        name, _, rest = summary.partition(" · ")
        self._model_info = (name, f" · {rest}" if rest else "")
        self._show_info()

    def set_loading(self, text: str, source: str | None = None) -> None:
        """What the label of ``source`` ("vectors" or "model"; None: the one the settings show)
        says while its vectors or model load. A model opening while the vectors are shown
        leaves the vectors' text alone: it is what the label says until the model is there."""
        if (source or self._source) == "model":
            self._model_info = ("", text)
        else:
            self._vectors_info = ("", text)
        self._show_info()

    def show_source(self, source: str) -> None:
        """Show ``source`` in the box and its text in the label (e.g. back to the settings'
        source after the model picked there failed to open)."""
        self.source_combo.setCurrentIndex(self.source_combo.findData(source))
        self._show_info()

    def _show_info(self) -> None:
        # The box's source: the settings' one, or the one just picked there (its model opening).
        shown = self.source_combo.currentData()
        self.vectors_label.set_parts(*(self._model_info if shown == "model" else
                                       self._vectors_info))

    @Slot(int)
    def _on_source_activated(self, index: int) -> None:
        self._show_info()  # the picked source's text (its model may still be opening)
        self.source_chosen.emit(self.source_combo.itemData(index))

    def set_vocabulary(self, index: VocabularyIndex | None) -> None:
        """The words the query field suggests (None: no suggestions)."""
        self._index = index
        self._suggestions.setStringList([])

    def mark_error(self, field: str) -> None:
        """Outline the field an error is about ("sentence" or "query"); "" clears both."""
        self.sentence_edit.setStyleSheet(_ERROR_STYLE if field == "sentence" else "")
        self.query_edit.setStyleSheet(_ERROR_STYLE if field == "query" else "")

    def suggestions(self) -> list[str]:
        """The completer's current suggestions (for tests)."""
        return self._suggestions.stringList()

    # ------------------------------------------------------------------ handlers
    @Slot(str)
    def _on_query_text_edited(self, text: str) -> None:
        words = self._index.complete(text, MAX_SUGGESTIONS) if self._index is not None else []
        if words == [text]:
            words = []  # the word is complete: a one-line popup repeating it only gets in the way
        self._suggestions.setStringList(words)
        if words and self.query_edit.hasFocus():
            self.completer.complete()
        elif (popup := self.completer.popup()) is not None:
            popup.hide()
        self.query_edited.emit(text)

    @Slot(str)
    def _on_completion_chosen(self, word: str) -> None:
        self.query_edit.setText(word)
        self.query_edited.emit(word)

    def focus_query(self) -> None:
        self.query_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.query_edit.selectAll()


def _labelled(text: str, field: QWidget, space: int) -> QWidget:
    """``field`` after its name (and ``space`` pixels before both), as one widget to hide."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(space, 0, 0, 0)
    row.addWidget(QLabel(text))
    row.addWidget(field, stretch=1)
    return box
