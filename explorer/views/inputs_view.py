"""The inputs of sentence mode and toy mode: a dock with the context sentences and the toy table.

Like every input widget it only says what the person wants (``changed({field: value})``, handed
to the state by the window) and shows settings with its signals blocked (`set_settings`).
What else changes when the person switches the input mode is the state's business
(:func:`explorer.state.mode_changes`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.explain.steps import format_number
from core.settings import Settings, ToySpec
from core.toy import MAX_TOY_DIM, MIN_TOY_DIM, ToyInputs, make_toy, parse_number
from explorer.views.toy_editor import ToyVectorEditor

# The same words for both sources: with a trained model the words are its tokens, and a
# sentence is its sentence embedding rather than the mean of word vectors.
MODE_TEXT = {"words": "The sentence's words", "sentences": "Whole sentences (one vector each)",
             "toy": "Toy vectors (typed by hand)"}
# What one context sentence's vector is, per source (or the toy table's words).
CONTEXT_HINT = {
    "vectors": "Context sentences, one per line (each is the mean of its words):",
    "model": "Context sentences, one per line (each is the model's sentence embedding):",
    "toy": "Context sentences, one per line (each is the mean of its toy vectors):"}
TOY_NOTE = "Toy vectors are typed by hand: the heads are made up from them, not a trained model's."
TOY_MODEL_WAITS = " The trained model comes back when you choose another input mode."
MAX_TOY_TOKENS = 12
_INVALID_STYLE = "QLineEdit { border: 2px solid #d62728; }"


def resize_toy(spec: ToySpec, n: int, d: int) -> ToySpec:
    """The toy with ``n`` tokens and ``d`` dimensions: new entries are 0 (identity on the new
    diagonal of square W matrices), removed ones are dropped."""
    def fit(rows: tuple[tuple[float, ...], ...], shape: tuple[int, int],
            eye: bool = False) -> tuple[tuple[float, ...], ...]:
        old = np.asarray(rows, np.float64)
        new = np.eye(*shape) if eye else np.zeros(shape)
        r, c = min(shape[0], old.shape[0]), min(shape[1], old.shape[1])
        new[:r, :c] = old[:r, :c]
        return tuple(tuple(float(v) for v in row) for row in new)

    tokens = tuple(spec.tokens[:n]) + tuple(f"t{i + 1}" for i in range(len(spec.tokens), n))
    w = {name: getattr(spec, name) for name in ("w_q", "w_k", "w_v")}
    square = {name: len(m) == len(m[0]) for name, m in w.items()}
    resized = {name: fit(m, (d, d) if square[name] else (d, len(m[0])), square[name])
               for name, m in w.items()}
    w_o = spec.w_o
    if w_o is not None and len(w_o[0]) == len(spec.x[0]):  # W_O maps back to X's width
        w_o = fit(w_o, (len(resized["w_v"][0]), d), len(w_o) == len(w_o[0]))
    query = None if spec.query is None else fit((spec.query,), (1, d))[0]
    return dataclasses.replace(spec, tokens=tokens, x=fit(spec.x, (n, d)), w_o=w_o, query=query,
                               **resized)


def _sentences(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class InputsPanel(QWidget):
    """Context sentences + query sentence (sentence mode) and the toy table (toy mode).

    Signals
    -------
    changed(dict)
        Settings the person wants, e.g. ``{"context_sentences": (...)}``.
    invalid(str)
        A toy edit was refused: the message (the previous values stay in use); "" when the
        toy's inputs are all valid again.
    """

    changed = Signal(dict)
    invalid = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = Settings()
        self.sentences_box = self._build_sentences_box()
        self.toy_box = self._build_toy_box()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.sentences_box)
        layout.addWidget(self.toy_box, 1)
        layout.addStretch(0)
        self.query_sentence.textEdited.connect(self._on_query_sentence_edited)
        self.context.textChanged.connect(self._on_context_changed)
        self.use_toy.toggled.connect(self._on_use_toy_toggled)
        self.n_tokens.valueChanged.connect(self._on_size_changed)
        self.n_dims.valueChanged.connect(self._on_size_changed)
        self.outside_query.editingFinished.connect(self._on_outside_query_edited)
        self.outside_label.editingFinished.connect(self._on_outside_query_edited)
        self.editor.toy_changed.connect(self._on_toy_changed)
        self.editor.invalid.connect(self.invalid)

    def _build_sentences_box(self) -> QGroupBox:
        """The query sentence, the context sentences, and whether their words are the toy's."""
        box = QGroupBox("Sentence mode")
        self.query_sentence = QLineEdit()
        self.query_sentence.setPlaceholderText("the query sentence")
        self.context = QPlainTextEdit()
        self.context.setPlaceholderText("One context sentence per line")
        self.context.setTabChangesFocus(True)
        self.use_toy = QCheckBox("Words from the toy table (not the word vectors)")
        form = QFormLayout(box)
        form.addRow("Query sentence:", self.query_sentence)
        self.context_hint = QLabel(CONTEXT_HINT["vectors"])
        self.context_hint.setWordWrap(True)
        form.addRow(self.context_hint)
        form.addRow(self.context)
        form.addRow(self.use_toy)
        return box

    def _build_toy_box(self) -> QGroupBox:
        """The toy table's size, its outside query vector, and the table itself."""
        box = QGroupBox("Toy table")
        self.n_tokens, self.n_dims = QSpinBox(), QSpinBox()
        self.n_tokens.setRange(1, MAX_TOY_TOKENS)
        self.n_dims.setRange(MIN_TOY_DIM, MAX_TOY_DIM)
        self.outside_query = QLineEdit()
        self.outside_query.setPlaceholderText("e.g. 1, 0, 1 (empty: the query is a token)")
        self.outside_label = QLineEdit()
        self.editor = ToyVectorEditor()
        self.toy_note = QLabel(TOY_NOTE)
        self.toy_note.setWordWrap(True)
        toy_form = QFormLayout(box)
        toy_form.addRow(self.toy_note)
        toy_form.addRow("Tokens n:", self.n_tokens)
        toy_form.addRow("Dimensions d:", self.n_dims)
        toy_form.addRow("Outside query vector:", self.outside_query)
        toy_form.addRow("Its name:", self.outside_label)
        toy_form.addRow(self.editor)
        return box

    # ----------------------------------------------------------------------------- set_*
    def set_settings(self, s: Settings) -> None:
        """Show the sentence-mode fields and the toy table of ``s`` (never emits)."""
        self._settings = s
        blockers = [QSignalBlocker(w) for w in (self.query_sentence, self.context, self.use_toy,
                                                self.n_tokens, self.n_dims, self.outside_query,
                                                self.outside_label, self.editor)]
        if self.query_sentence.text() != s.query_sentence:
            self.query_sentence.setText(s.query_sentence)
        if _sentences(self.context.toPlainText()) != s.context_sentences:
            self.context.setPlainText("\n".join(s.context_sentences))
        self.use_toy.setChecked(s.sentences_use_toy)
        # A trained model embeds the sentences itself: the toy table's words mean nothing then.
        toy_words = s.sentences_use_toy and s.source == "vectors"
        self.use_toy.setVisible(s.source == "vectors")
        self.context_hint.setText(CONTEXT_HINT["toy" if toy_words else s.source])
        self.sentences_box.setVisible(s.mode == "sentences")
        self.toy_box.setVisible(s.mode == "toy" or (s.mode == "sentences" and toy_words))
        spec = s.toy
        if spec is not None:
            self.n_tokens.setValue(len(spec.tokens))
            self.n_dims.setValue(len(spec.x[0]))
            self.outside_query.setText("" if spec.query is None else
                                       ", ".join(format_number(v, 6) for v in spec.query))
            self.outside_label.setText(spec.query_label)
            self._show_query_problem("")  # the field shows the settings' own vector again
            shown = self.editor.toy()
            if shown is None or _plain(ToySpec.from_inputs(shown)) != _plain(spec):
                self.editor.set_toy(spec.tokens, spec.x, spec.w_q, spec.w_k, spec.w_v, spec.w_o)
        del blockers

    def set_model_waiting(self, waiting: bool) -> None:
        """Say (True) that toy mode was chosen with a trained model shown, which comes back with
        another input mode."""
        self.toy_note.setText(TOY_NOTE + (TOY_MODEL_WAITS if waiting else ""))

    # ----------------------------------------------------------------------------- handlers
    @Slot(str)
    def _on_query_sentence_edited(self, text: str) -> None:
        self.changed.emit({"query_sentence": text, "query_index": None})

    @Slot()
    def _on_context_changed(self) -> None:
        sentences = _sentences(self.context.toPlainText())
        if sentences != self._settings.context_sentences:
            self.changed.emit({"context_sentences": sentences, "query_index": None})

    @Slot(bool)
    def _on_use_toy_toggled(self, checked: bool) -> None:
        self.changed.emit({"sentences_use_toy": checked})  # the state adds a table if none

    @Slot(object)
    def _on_toy_changed(self, toy: ToyInputs) -> None:
        spec = self._settings.toy
        query, label = (spec.query, spec.query_label) if spec is not None else (None, "query")
        self.changed.emit({"toy": ToySpec.from_inputs(toy, query, label)})

    @Slot()
    def _on_size_changed(self) -> None:
        spec = self._settings.toy
        if spec is not None:
            self.changed.emit({"toy": resize_toy(spec, self.n_tokens.value(),
                                                 self.n_dims.value())})

    @Slot()
    def _on_outside_query_edited(self) -> None:
        spec = self._settings.toy
        if spec is None:
            return
        text, label = self.outside_query.text().strip(), self.outside_label.text().strip()
        try:
            query = tuple(parse_number(part) for part in text.split(",")) if text else None
        except ValueError as error:
            self._show_query_problem(f"Outside query vector: {error}")
            return
        if query is not None and len(query) != len(spec.x[0]):
            self._show_query_problem(f"Outside query vector: {len(query)} numbers, but the "
                                     f"tokens have {len(spec.x[0])} dimensions")
            return
        self._show_query_problem("")
        label = label or "query"
        if (query, label) == (spec.query, spec.query_label):
            return
        changes: dict[str, object] = {"toy": dataclasses.replace(spec, query=query,
                                                                 query_label=label)}
        if query is not None:
            changes["query"] = label  # the new outside vector becomes the query
        self.changed.emit(changes)


    def _show_query_problem(self, message: str) -> None:
        """The outside query's problem ("" when none): its field outlined, said where the
        tables' problems are (the editor's message) and, through ``invalid``, in the status
        bar."""
        style = _INVALID_STYLE if message else ""
        if self.outside_query.styleSheet() != style:
            self.outside_query.setStyleSheet(style)
        self.editor.set_problem("query", message)


def _plain(spec: ToySpec) -> tuple[object, ...]:
    """A toy's table without its outside query, for comparing with what the editor shows."""
    toy = make_toy(spec.tokens, spec.x, spec.w_q, spec.w_k, spec.w_v, spec.w_o)
    return (toy.tokens, toy.x.tolist(), toy.w_q.tolist(), toy.w_k.tolist(), toy.w_v.tolist(),
            None if toy.w_o is None else toy.w_o.tolist())


class InputsDock(QDockWidget):
    """The inputs panel in a scrollable dock, shown in sentence and toy mode."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Inputs: sentences and toy vectors", parent)
        self.setObjectName("inputs_dock")  # saveState() needs a name
        self.panel = InputsPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setWidget(scroll)
        self.setMinimumWidth(300)
