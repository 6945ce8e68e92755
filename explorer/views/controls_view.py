"""The controls panel: one widget per setting, each saying what the person wants.

Every control reports through one signal, ``changed({field: value})``; the window hands that to
the state. :meth:`ControlsView.set_settings` shows a settings snapshot with every widget's signals
blocked, so showing a value never sounds like the person changing it. Tooltips are the settings'
own one-line docs (:func:`core.settings.field_docs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.inputs import computed_heads, uses_toy
from core.settings import (
    HEAD_STRATEGIES,
    MAX_HEADS,
    NORMALIZATIONS,
    OOV_POLICIES,
    PROJECTIONS,
    SCORINGS,
    TEMPERATURE_RANGE,
    Settings,
    field_docs,
    heads_limit,
)
from explorer.views.range_spin import RangeSpinBox
from explorer.views.temperature import (
    SLIDER_STEPS,
    TemperaturePair,
    slider_to_temperature,
    temperature_to_slider,
)
from explorer.views.word_fields import (
    format_pairs,
    mark_field,
    not_known,
    parse_pairs,
)

__all__ = ["SLIDER_STEPS", "ControlsView", "TemperaturePair", "format_pairs", "parse_pairs",
           "slider_to_temperature", "temperature_to_slider"]

# What the combo boxes show for each internal name.
CHOICE_TEXT: dict[str, str] = {
    "identity": "identity (raw vectors)", "split": "split dimensions", "random": "random (seeded)",
    "pca": "PCA slices", "axes": "word axes", "file": "from .npz file",
    "dot": "dot  q·k", "scaled_dot": "scaled dot  q·k/√d_k", "cosine": "cosine",
    "general": "general  qᵀWk", "additive": "additive  vᵀtanh(W₁q+W₂k)",
    "softmax": "softmax", "relu": "ReLU, then normalise", "sparsemax": "sparsemax",
    "skip": "skip the word", "zero": "zero vector", "subword": "sub-words (fastText)",
    "error": "stop with an error",
    "pca_view": "PCA of shown points", "pca_vocab": "PCA of vocabulary",
}
TOY_MAP_NOTE = ("Toy vectors are drawn as they are (two dimensions) or by PCA of the shown "
                "points; they have no vocabulary around them.")
MODEL_MAP_NOTE = ("The model's sentence embeddings are drawn by PCA of the shown points; "
                  "each sentence attends through one head.")
W = TypeVar("W", bound=QWidget)
_INVALID_BUTTON = "QPushButton { border: 2px solid #d62728; padding: 3px; }"


def head_icon(i: int) -> QIcon:
    from explorer.views.palette import head_colour  # imports pyqtgraph: only when a window exists

    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(head_colour(i)))
    return QIcon(pixmap)


class ControlsView(QWidget):
    """All the attention settings. Emits ``changed(dict)``, ``heads_file_requested()`` and
    ``invalid(str)``: a word-pair or axis text or a temperature that was not applied, and why
    ("" once the field is right again)."""

    changed = Signal(dict)
    heads_file_requested = Signal()
    invalid = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._docs = field_docs()
        self._n_heads_shown = -1
        self._settings = Settings()
        self._known: Callable[[str], bool] = lambda _word: True
        self._culprit = ""  # the control the last recompute's error is about
        column = QVBoxLayout(self)
        column.addWidget(self._heads_group())
        column.addWidget(self._attention_group())
        column.addWidget(self._map_group())
        column.addStretch(1)
        self._connect()

    # ------------------------------------------------------------------ building
    def _combo(self, field: str, names: tuple[str, ...]) -> QComboBox:
        combo = QComboBox()
        for name in names:
            combo.addItem(CHOICE_TEXT.get(name, name), name)
        combo.setToolTip(self._docs[field])
        # Long choice texts must not make the whole panel (and window) wide.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        return combo

    def _tip(self, widget: W, field: str, extra: str = "") -> W:
        widget.setToolTip(self._docs[field] + (f" {extra}" if extra else ""))
        return widget

    def _heads_group(self) -> QGroupBox:
        self.heads_box = box = QGroupBox("Heads")
        self.heads_form = form = QFormLayout(box)
        self.n_heads = self._tip(QSpinBox(), "n_heads")
        self.n_heads.setRange(1, MAX_HEADS)
        self.head_strategy = self._combo("head_strategy", HEAD_STRATEGIES)
        self.seed = self._tip(QSpinBox(), "seed")
        self.seed.setRange(0, 2**31 - 1)
        self.head_axes = self._tip(QLineEdit(), "head_axes", 'e.g. "drink-eat, wine-food".')
        self.heads_file_button = self._tip(QPushButton("Choose .npz…"), "heads_file")
        self.d_k = self._tip(QSpinBox(), "d_k")
        self.d_k.setRange(0, 4096)
        self.d_k.setSpecialValueText("auto")  # 0 shows "auto": d_model // n_heads
        self.selected_head = self._tip(QComboBox(), "selected_head", "Up/Down keys step through.")
        self.selected_head.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.selected_head.setMinimumContentsLength(12)
        for label, widget in (("Number of heads", self.n_heads), ("Strategy", self.head_strategy),
                              ("Seed", self.seed), ("Word pairs", self.head_axes),
                              ("Matrices", self.heads_file_button), ("d_k", self.d_k),
                              ("Show head", self.selected_head)):
            form.addRow(label, widget)
        self.heads_note = QLabel()  # the toy's W matrices cannot be cut into that many heads
        self.heads_note.setWordWrap(True)
        self.heads_note.setStyleSheet("color: #b00020;")
        form.insertRow(1, self.heads_note)
        return box

    def _attention_group(self) -> QGroupBox:
        box = QGroupBox("Attention")
        self.oov_form = form = QFormLayout(box)
        self.scoring = self._combo("scoring", SCORINGS)
        self.normalization = self._combo("normalization", NORMALIZATIONS)
        self.temperature_slider = self._tip(QSlider(Qt.Orientation.Horizontal), "temperature")
        self.temperature_slider.setRange(0, SLIDER_STEPS)
        self.temperature = self._tip(RangeSpinBox("temperature"), "temperature")
        self.temperature.setRange(*TEMPERATURE_RANGE)
        self.temperature.setDecimals(2)
        self.temperature.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        row = QHBoxLayout()
        row.addWidget(self.temperature_slider, stretch=1)
        row.addWidget(self.temperature)
        self.causal = self._tip(QCheckBox("Causal mask"), "causal")
        self.exclude_self = self._tip(QCheckBox("Exclude self"), "exclude_self")
        self.oov_policy = self._combo("oov_policy", OOV_POLICIES)
        form.addRow("Scoring", self.scoring)
        form.addRow("Normalisation", self.normalization)
        form.addRow("Temperature", row)
        form.addRow(self.causal)
        form.addRow(self.exclude_self)
        form.addRow("Unknown words", self.oov_policy)
        return box

    def _map_group(self) -> QGroupBox:
        box = QGroupBox("Latent map")
        self.map_form = form = QFormLayout(box)
        self.projection = self._combo("projection", PROJECTIONS)
        self.axis_words = [self._tip(QLineEdit(), "projection_axes") for _ in range(4)]
        grid = QGridLayout()
        for i, edit in enumerate(self.axis_words):
            row, col = divmod(i, 2)
            if col == 0:
                grid.addWidget(QLabel("x:" if row == 0 else "y:"), row, 0)
            grid.addWidget(edit, row, 1 + 2 * col)
            if col == 0:
                grid.addWidget(QLabel("−"), row, 2)
        self.axis_words_row = QWidget()
        self.axis_words_row.setLayout(grid)
        grid.setContentsMargins(0, 0, 0, 0)
        self.show_neighbours = self._tip(QCheckBox("Show nearest words"), "show_neighbours")
        self.toy_map_note = QLabel(TOY_MAP_NOTE)
        self.toy_map_note.setWordWrap(True)
        form.addRow("Projection", self.projection)
        form.addRow("Axes", self.axis_words_row)
        form.addRow(self.show_neighbours)
        form.addRow(self.toy_map_note)
        return box

    def _connect(self) -> None:
        self.n_heads.valueChanged.connect(lambda v: self._emit(n_heads=v))
        self.seed.valueChanged.connect(lambda v: self._emit(seed=v))
        self.d_k.valueChanged.connect(lambda v: self._emit(d_k=v or None))
        for field in ("head_strategy", "scoring", "normalization", "oov_policy", "projection"):
            combo: QComboBox = getattr(self, field)
            combo.currentIndexChanged.connect(
                lambda _i, f=field, c=combo: self._emit(**{f: c.currentData()})
            )
        self.selected_head.currentIndexChanged.connect(self._on_selected_head_changed)
        self.head_axes.textEdited.connect(self._on_head_axes_edited)
        self.heads_file_button.clicked.connect(self.heads_file_requested)
        self._temperature_pair = TemperaturePair(self.temperature_slider, self.temperature, self)
        self._temperature_pair.changed.connect(lambda value: self._emit(temperature=value))
        self.temperature.refused.connect(self.invalid)
        for name in ("causal", "exclude_self", "show_neighbours"):
            box: QCheckBox = getattr(self, name)
            box.toggled.connect(lambda on, f=name: self._emit(**{f: on}))
        self.head_axes.editingFinished.connect(self._on_head_axes_finished)
        for edit in self.axis_words:
            edit.textEdited.connect(self._show_marks)
            edit.editingFinished.connect(self._on_axis_words_finished)

    # ------------------------------------------------------------------ showing settings
    def set_model_width(self, d_model: int) -> None:
        """Limit heads and d_k to what vectors of width ``d_model`` allow."""
        with QSignalBlocker(self.n_heads), QSignalBlocker(self.d_k):
            self.n_heads.setMaximum(heads_limit(d_model))
            self.d_k.setMaximum(d_model)

    def set_known_words(self, known: Callable[[str], bool]) -> None:
        """Which words the word-pair and axis fields accept (the loaded vectors' vocabulary)."""
        self._known = known
        self._show_marks()

    def mark_error(self, field: str) -> None:
        """Outline the control a recompute's error is about ("head_axes", "projection_axes",
        "heads_file"); "" leaves only the marks of fields whose own text is wrong."""
        self._culprit = field
        self._show_marks()

    def set_settings(self, s: Settings) -> None:
        """Show ``s`` in every control, emitting nothing."""
        self._settings = s
        for widget in self._value_widgets():
            widget.blockSignals(True)
        try:
            self._show(s)
        finally:
            for widget in self._value_widgets():
                widget.blockSignals(False)
        self._update_visibility(s)
        self._show_marks()

    def _show(self, s: Settings) -> None:
        # A spin box repaints itself (and the group box behind it) on every setValue, even
        # with its own value: set only what changed (a temperature drag changes one value).
        for spin, value in ((self.n_heads, s.n_heads), (self.seed, s.seed),
                            (self.d_k, s.d_k or 0)):
            if spin.value() != value:
                spin.setValue(value)
        # Shown with 2 decimals: the same text is the same (rounded) value.
        if self.temperature.textFromValue(s.temperature) != self.temperature.cleanText():
            self.temperature.setValue(s.temperature)
        for field in ("head_strategy", "scoring", "normalization", "oov_policy", "projection"):
            combo: QComboBox = getattr(self, field)
            combo.setCurrentIndex(combo.findData(getattr(s, field)))
        if parse_pairs(self.head_axes.text()) != s.head_axes:  # keep the person's own spelling
            self.head_axes.setText(format_pairs(s.head_axes))
            self.head_axes.setCursorPosition(0)
        self.heads_file_button.setText(_short_name(s.heads_file) or "Choose .npz…")
        self.temperature_slider.setValue(temperature_to_slider(s.temperature))
        self.causal.setChecked(s.causal)
        self.exclude_self.setChecked(s.exclude_self)
        self.show_neighbours.setChecked(s.show_neighbours)
        for edit, word in zip(self.axis_words, s.projection_axes, strict=True):
            if edit.text().strip() != word:
                edit.setText(word)
        self._show_head_choices(computed_heads(s))
        one = self._n_heads_shown == 1  # its one item is that head (and the mean)
        self.selected_head.setCurrentIndex(0 if s.selected_head is None or one
                                           else s.selected_head + 1)

    def _show_head_choices(self, n_heads: int) -> None:
        if n_heads == self._n_heads_shown:
            return
        self._n_heads_shown = n_heads
        self.selected_head.clear()
        if n_heads == 1:  # the mean of one head is that head: one choice, named as the heatmap
            self.selected_head.addItem(head_icon(0), "head 1", None)
            return
        self.selected_head.addItem("mean of heads", None)
        for i in range(n_heads):
            self.selected_head.addItem(head_icon(i), f"head {i + 1}", i)

    def _value_widgets(self) -> list[QWidget]:
        return [self.n_heads, self.seed, self.d_k, self.head_strategy, self.scoring,
                self.normalization, self.oov_policy, self.projection, self.selected_head,
                self.head_axes, self.temperature, self.temperature_slider, self.causal,
                self.exclude_self, self.show_neighbours, *self.axis_words]

    def _update_visibility(self, s: Settings) -> None:
        # Only the options of the chosen strategy/projection are shown, so the panel stays short;
        # a toy table's heads are its own W matrices and its vectors have no vocabulary, so
        # what makes heads from word vectors, or looks words up, is hidden with it.
        # A trained model's sentence mode: its embeddings through one identity head, PCA of
        # the shown points, no vocabulary: only the attention settings mean something.
        toy, toy_rows = uses_toy(s), s.mode == "toy"
        model_sentences = s.source == "model" and s.mode == "sentences"
        self.heads_box.setVisible(not model_sentences)
        note = toy_heads_note(s)
        self.heads_note.setText(note)
        self.heads_form.setRowVisible(self.heads_note, bool(note))
        for widget, shown in ((self.head_strategy, not toy), (self.d_k, not toy),
                              (self.seed, not toy and s.head_strategy in ("random", "axes")),
                              (self.head_axes, not toy and s.head_strategy == "axes"),
                              (self.heads_file_button, not toy and s.head_strategy == "file")):
            self.heads_form.setRowVisible(widget, shown)
        self.oov_form.setRowVisible(self.oov_policy, not toy_rows and not model_sentences)
        words = not toy and not model_sentences
        self.toy_map_note.setText(MODEL_MAP_NOTE if model_sentences else TOY_MAP_NOTE)
        for widget, shown in ((self.projection, words), (self.show_neighbours, words),
                              (self.axis_words_row, words and s.projection == "axes"),
                              (self.toy_map_note, not words)):
            self.map_form.setRowVisible(widget, shown)

    # ------------------------------------------------------------------ what the person did
    def _emit(self, **changes: Any) -> None:
        self.changed.emit(changes)

    @Slot(int)
    def _on_selected_head_changed(self, index: int) -> None:
        if index >= 0:
            self._emit(selected_head=self.selected_head.itemData(index))

    @Slot(str)
    def _on_head_axes_edited(self, text: str) -> None:
        """Applied as soon as the text is pairs of known words; until then the field is marked
        and the heads keep the last good pairs."""
        self._show_marks()
        pairs = parse_pairs(text)
        if pairs and not self._pairs_problem(text):
            self.invalid.emit("")  # right again: the pairs in use need no recompute to say so
            self._emit(head_axes=pairs)

    @Slot()
    def _on_head_axes_finished(self) -> None:
        problem = self._pairs_problem(self.head_axes.text())
        if problem:
            self.invalid.emit(f"Word pairs: {problem}; the heads keep "
                              f"{format_pairs(self._settings.head_axes)}")

    @Slot()
    def _on_axis_words_finished(self) -> None:
        """Axes change when a word is finished (Enter, or leaving the field), and only to
        known words: typing "queen" must not pass through an accidental "king − q" axis."""
        problem = self._axes_problem()
        if problem:
            x1, x2, y1, y2 = self._settings.projection_axes
            self.invalid.emit(f"Latent map axes: {problem}; the map keeps x: {x1} − {x2}, "
                              f"y: {y1} − {y2}")
            return
        words = tuple(edit.text().strip() for edit in self.axis_words)
        self.invalid.emit("")  # right again (also when these are the axes in use)
        if words != self._settings.projection_axes:
            self._emit(projection_axes=words)

    # ------------------------------------------------------------------ marking fields at fault
    def _pairs_problem(self, text: str) -> str:
        pairs = parse_pairs(text)
        if pairs is None:
            return 'write pairs of words such as "drink-eat, wine-food"'
        unknown = [w for pair in pairs for w in pair if not self._known(w)]
        return not_known(unknown)

    def _axes_problem(self) -> str:
        words = [edit.text().strip() for edit in self.axis_words]
        if not all(words):
            return "every axis needs a word at both ends"
        return not_known([w for w in words if not self._known(w)])

    @Slot()
    def _show_marks(self) -> None:
        """Red outlines on the fields at fault: their own text, or the last error's culprit."""
        pairs_problem = self._pairs_problem(self.head_axes.text())
        mark_field(self.head_axes, bool(pairs_problem) or self._culprit == "head_axes",
              pairs_problem or self._docs["head_axes"])
        for edit in self.axis_words:
            word = edit.text().strip()
            wrong = not word or not self._known(word) or self._culprit == "projection_axes"
            mark_field(edit, wrong, not_known([word]) if word and not self._known(word) else
                  self._docs["projection_axes"])
        button_style = _INVALID_BUTTON if self._culprit == "heads_file" else ""
        if self.heads_file_button.styleSheet() != button_style:
            self.heads_file_button.setStyleSheet(button_style)


def toy_heads_note(s: Settings) -> str:
    """Why fewer heads are computed than the box asks for ("" when they are the same)."""
    if computed_heads(s) == s.n_heads or s.toy is None:
        return ""
    return (f"Not applied: {s.n_heads} heads do not divide W_Q's {len(s.toy.w_q[0])} / W_V's "
            f"{len(s.toy.w_v[0])} columns, so one head is computed.")


def _short_name(path: str | None) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else ""
