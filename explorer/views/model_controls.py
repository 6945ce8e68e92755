"""The controls of a trained transformer: which model, which layer and head the maps show, what
they show (one layer, rollout or flow), and the interventions (a what-if layer, ablated heads).

The controls dock shows this panel instead of :class:`ControlsView` when the source is a model.
Like that panel it only says what the person wants: every control emits one dict of settings
changes through ``changed``, either ``{"model": ModelSettings(...)}`` (the panel's model
settings with one field changed) or ``{"selected_head": h}``; nothing is applied here.
:meth:`ModelControls.set_settings` shows a snapshot with every widget's signals blocked, and
:meth:`ModelControls.set_model_info` sets the ranges for the model that is loaded. Layers and
heads count from 0 in the settings and from 1 on screen. Tooltips are the fields' own docs.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
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

from core.maths.attention import NORMALIZATIONS
from core.model_settings import ModelSettings
from core.settings import TEMPERATURE_RANGE, Settings, field_docs
from core.transformer import ABLATIONS, BUNDLED_NAME, TransformerConfig
from core.transformer.interventions import TRAINED_SCORINGS
from explorer.views.controls_view import (
    CHOICE_TEXT,
    SLIDER_STEPS,
    TemperaturePair,
    head_icon,
    temperature_to_slider,
)
from explorer.views.range_spin import RangeSpinBox

__all__ = ["NO_MODEL", "ModelControls", "format_heads"]

NO_MODEL = "no model loaded"
MEAN_OF_HEADS = "mean of heads"
SHOW_TEXT = {"layer": "this layer's heads", "rollout": "attention rollout (layers 1..{n})",
             "flow": "attention flow (layers 1..{n})"}
CAUSAL_CHOICES: tuple[tuple[str, bool | None], ...] = (
    ("model's own", None), ("on", True), ("off", False))
ABLATION_TEXT = {"zero": "zero", "mean": "mean over tokens"}
_MODEL_DOCS = {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(ModelSettings)}
W = TypeVar("W", bound=QWidget)


def format_heads(heads: tuple[tuple[int, int], ...]) -> str:
    """((1, 2), (4, 11)) -> "L2 H3, L5 H12" (from 1, as on screen); "none" for no heads."""
    return ", ".join(f"L{layer + 1} H{head + 1}" for layer, head in heads) or "none"


class ModelControls(QWidget):
    """The trained model's settings. Emits ``changed(dict)``, ``open_model_requested()`` and
    ``invalid(str)`` (a typed temperature out of range, and why)."""

    changed = Signal(object)
    open_model_requested = Signal()
    invalid = Signal(str)  # a typed value that was refused, and why

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config: TransformerConfig | None = None
        self._settings = Settings()
        self._behind = False  # True: the widgets show older settings (the page was hidden)
        self._heads_shown = -1  # how many heads the head combo offers now
        column = QVBoxLayout(self)
        column.addWidget(self._model_group())
        column.addWidget(self._view_group())
        column.addWidget(self._what_if_group())
        column.addWidget(self._ablation_group())
        column.addStretch(1)
        self._connect()
        self._show()

    # ------------------------------------------------------------------ building
    @staticmethod
    def _tip(widget: W, doc: str, extra: str = "") -> W:
        widget.setToolTip(doc + (f" {extra}" if extra else ""))
        return widget

    def _combo(self, field: str, choices: tuple[tuple[str, Any], ...]) -> QComboBox:
        combo = self._tip(QComboBox(), _MODEL_DOCS[field])
        for text, data in choices:
            combo.addItem(text, data)
        # Long texts must not make the whole panel (and window) wide.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        return combo

    def _model_group(self) -> QGroupBox:
        box = QGroupBox("Model")
        column = QVBoxLayout(box)
        self.summary = QLabel(NO_MODEL)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = self._tip(QPushButton("Open model folder…"), _MODEL_DOCS["path"])
        self.bundled_button = self._tip(QPushButton(f"Use the bundled {BUNDLED_NAME}"),
                                        _MODEL_DOCS["path"])
        for widget in (self.summary, self.open_button, self.bundled_button):
            column.addWidget(widget)
        return box

    def _view_group(self) -> QGroupBox:
        self.view_group = box = QGroupBox("Show")
        form = QFormLayout(box)
        self.layer = self._tip(QSpinBox(), _MODEL_DOCS["layer"])
        self.head = self._tip(QComboBox(), field_docs()["selected_head"],
                              "Up/Down keys step through.")
        self.head.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.head.setMinimumContentsLength(12)
        self.across = self._combo("across_layers",
                                  tuple((SHOW_TEXT[name], name) for name in SHOW_TEXT))
        self.hide_special = self._tip(QCheckBox("Hide [CLS] / [SEP]"), _MODEL_DOCS["hide_special"])
        form.addRow("Layer", self.layer)
        form.addRow("Head", self.head)
        form.addRow("Show", self.across)
        form.addRow(self.hide_special)
        return box

    def _what_if_group(self) -> QGroupBox:
        self.what_if = box = self._tip(QGroupBox("What-if: change this layer's attention"),
                                       _MODEL_DOCS["what_if_layer"])
        box.setCheckable(True)
        self.what_if_form = form = QFormLayout(box)
        self.what_if_target = QLabel()
        self.move_what_if = self._tip(QPushButton("move to this layer"),
                                      _MODEL_DOCS["what_if_layer"])
        self.what_if_row = QWidget()
        row = QHBoxLayout(self.what_if_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.what_if_target, 1)
        row.addWidget(self.move_what_if)
        self.scoring = self._combo("what_if_scoring",
                                   tuple((CHOICE_TEXT[s], s) for s in TRAINED_SCORINGS))
        self.normalization = self._combo("what_if_normalization",
                                         tuple((CHOICE_TEXT[s], s) for s in NORMALIZATIONS))
        doc = _MODEL_DOCS["what_if_temperature"]
        self.temperature_slider = self._tip(QSlider(Qt.Orientation.Horizontal), doc)
        self.temperature_slider.setRange(0, SLIDER_STEPS)
        self.temperature = self._tip(RangeSpinBox("temperature"), doc)
        self.temperature.setRange(*TEMPERATURE_RANGE)
        self.temperature.setDecimals(2)
        self.temperature.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        temperature = QHBoxLayout()
        temperature.addWidget(self.temperature_slider, stretch=1)
        temperature.addWidget(self.temperature)
        self.causal = self._combo("what_if_causal", CAUSAL_CHOICES)
        self.exclude_self = self._tip(QCheckBox("Exclude self"),
                                      _MODEL_DOCS["what_if_exclude_self"])
        form.addRow(self.what_if_row)
        form.addRow("Scoring", self.scoring)
        form.addRow("Normalisation", self.normalization)
        form.addRow("Temperature", temperature)
        form.addRow("Causal mask", self.causal)
        form.addRow(self.exclude_self)
        return box

    def _ablation_group(self) -> QGroupBox:
        self.ablation_group = box = QGroupBox("Ablation")
        form = QFormLayout(box)
        self.ablate_button = self._tip(QPushButton("Ablate head"), _MODEL_DOCS["ablated"])
        self.ablated_list = self._tip(QLineEdit(), _MODEL_DOCS["ablated"])
        self.ablated_list.setReadOnly(True)
        self.ablation = self._combo("ablation", tuple((ABLATION_TEXT[a], a) for a in ABLATIONS))
        self.reset_button = self._tip(
            QPushButton("Reset interventions"),
            "The model as it was trained: no ablated heads, no what-if layer.")
        form.addRow(self.ablate_button)
        form.addRow("Ablated", self.ablated_list)
        form.addRow("Mode", self.ablation)
        form.addRow(self.reset_button)
        return box

    def _connect(self) -> None:
        self.open_button.clicked.connect(self.open_model_requested)
        self.bundled_button.clicked.connect(lambda: self._emit_model(path=None))
        self.layer.valueChanged.connect(lambda v: self._emit_model(layer=v - 1))
        self.head.currentIndexChanged.connect(self._on_head_changed)
        for combo, field in ((self.across, "across_layers"), (self.scoring, "what_if_scoring"),
                             (self.normalization, "what_if_normalization"),
                             (self.causal, "what_if_causal"), (self.ablation, "ablation")):
            combo.currentIndexChanged.connect(
                lambda _i, f=field, c=combo: self._emit_model(**{f: c.currentData()}))
        self.hide_special.toggled.connect(lambda on: self._emit_model(hide_special=on))
        self.exclude_self.toggled.connect(lambda on: self._emit_model(what_if_exclude_self=on))
        self.what_if.toggled.connect(self._on_what_if_toggled)
        self.move_what_if.clicked.connect(lambda: self._emit_model(what_if_layer=self.shown_layer))
        self._temperature_pair = TemperaturePair(self.temperature_slider, self.temperature, self)
        self._temperature_pair.changed.connect(
            lambda value: self._emit_model(what_if_temperature=value))
        self.temperature.refused.connect(self.invalid)
        self.ablate_button.clicked.connect(self._on_ablate_clicked)
        self.reset_button.clicked.connect(
            lambda: self.changed.emit({"model": self._model.without_interventions()}))

    # ------------------------------------------------------------------ what is shown
    @property
    def _model(self) -> ModelSettings:
        return self._settings.model

    @property
    def shown_layer(self) -> int:
        """The layer the maps show, from 0 (the settings' None is the model's last layer)."""
        layers = self._config.n_layers if self._config is not None else 1
        layer = self._model.layer
        return layers - 1 if layer is None else min(layer, layers - 1)

    @property
    def focused_head(self) -> int | None:
        """The focused head, from 0, or None for the mean (or a head this model lacks)."""
        head = self._settings.selected_head
        heads = self._config.n_heads if self._config is not None else 0
        return head if head is not None and 0 <= head < heads else None

    def set_settings(self, settings: Settings) -> None:
        """Show ``settings.model`` and ``settings.selected_head``, emitting nothing."""
        self._settings = settings
        self._show_when_visible()

    def set_model_info(self, config: TransformerConfig | None) -> None:
        """Ranges for ``config`` (layers 1..L, heads 1..H); None: no model, controls disabled
        (except the two buttons that load one)."""
        self._config = config
        self._show_when_visible()

    def _show_when_visible(self) -> None:
        """Fill the widgets now, or when the page is next shown: with word vectors the page is
        hidden, and filling it at every slider step cost ~0.15 ms of a ~10 ms update."""
        self._behind = not self.isVisible()
        if not self._behind:
            self._show()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        if self._behind:
            self._behind = False
            self._show()
        super().showEvent(event)

    def _value_widgets(self) -> list[QWidget]:
        return [self.layer, self.head, self.across, self.hide_special, self.what_if,
                self.scoring, self.normalization, self.temperature, self.temperature_slider,
                self.causal, self.exclude_self, self.ablation]

    def _show(self) -> None:
        widgets = self._value_widgets()
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self._show_model()
            self._show_view()
            self._show_what_if()
            self._show_ablation()
        finally:
            for widget in widgets:
                widget.blockSignals(False)

    def _show_model(self) -> None:
        config, loaded = self._config, self._config is not None
        self.summary.setText(config.summary if config is not None else NO_MODEL)
        self.bundled_button.setEnabled(not loaded or self._model.path is not None)
        for group in (self.view_group, self.what_if, self.ablation_group):
            group.setEnabled(loaded)
        gpt2 = config is not None and config.architecture == "gpt2"
        self.hide_special.setText("Hide special tokens" if gpt2 else "Hide [CLS] / [SEP]")

    def _show_view(self) -> None:
        layers = self._config.n_layers if self._config is not None else 1
        if (self.layer.minimum(), self.layer.maximum()) != (1, layers):  # repaints when equal
            self.layer.setRange(1, layers)
        if self.layer.value() != self.shown_layer + 1:  # setValue repaints even when equal
            self.layer.setValue(self.shown_layer + 1)
        self._show_head_choices(self._config.n_heads if self._config is not None else 0)
        head = self.focused_head
        self.head.setCurrentIndex(0 if head is None else head + 1)
        for i, name in enumerate(SHOW_TEXT):
            self.across.setItemText(i, SHOW_TEXT[name].format(n=self.shown_layer + 1))
        self.across.setCurrentIndex(self.across.findData(self._model.across_layers))
        self.hide_special.setChecked(self._model.hide_special)

    def _show_head_choices(self, heads: int) -> None:
        if heads == self._heads_shown:
            return
        self._heads_shown = heads
        self.head.clear()
        self.head.addItem(MEAN_OF_HEADS, None)
        for i in range(heads):
            self.head.addItem(head_icon(i), f"head {i + 1}", i)

    def _show_what_if(self) -> None:
        m = self._model
        self.what_if.setChecked(m.what_if_layer is not None)
        here = m.what_if_layer == self.shown_layer
        if m.what_if_layer is not None:
            self.what_if_target.setText(f"changes layer {m.what_if_layer + 1}"
                                        + (", the one shown" if here else ""))
        self.what_if_form.setRowVisible(self.what_if_row, m.what_if_layer is not None)
        self.move_what_if.setVisible(not here)
        self.scoring.setCurrentIndex(self.scoring.findData(m.what_if_scoring))
        self.normalization.setCurrentIndex(self.normalization.findData(m.what_if_normalization))
        # Shown with 2 decimals: the same text is the same (rounded) value.
        if self.temperature.textFromValue(m.what_if_temperature) != self.temperature.cleanText():
            self.temperature.setValue(m.what_if_temperature)
        self.temperature_slider.setValue(temperature_to_slider(m.what_if_temperature))
        choices = [data for _, data in CAUSAL_CHOICES]
        self.causal.setCurrentIndex(choices.index(m.what_if_causal))
        self.exclude_self.setChecked(m.what_if_exclude_self)

    def _show_ablation(self) -> None:
        m, head = self._model, self.focused_head
        ablated = format_heads(m.ablated)
        if self.ablated_list.text() != ablated:  # both repaint even when nothing changes
            self.ablated_list.setText(ablated)
            self.ablated_list.setCursorPosition(0)
        self.ablation.setCurrentIndex(self.ablation.findData(m.ablation))
        if head is None:
            self.ablate_button.setText("Ablate head (choose a head)")
            self.ablate_button.setEnabled(False)
        else:
            verb = "Restore" if (self.shown_layer, head) in m.ablated else "Ablate"
            self.ablate_button.setText(f"{verb} head L{self.shown_layer + 1}·H{head + 1}")
            self.ablate_button.setEnabled(True)
        self.reset_button.setEnabled(m.without_interventions() != m)

    # ------------------------------------------------------------------ what the person did
    def _emit_model(self, **changes: Any) -> None:
        self.changed.emit({"model": dataclasses.replace(self._model, **changes)})

    @Slot(int)
    def _on_head_changed(self, index: int) -> None:
        if index >= 0:
            self.changed.emit({"selected_head": self.head.itemData(index)})

    @Slot(bool)
    def _on_what_if_toggled(self, on: bool) -> None:
        self._emit_model(what_if_layer=self.shown_layer if on else None)

    @Slot()
    def _on_ablate_clicked(self) -> None:
        head = self.focused_head
        if head is None:
            return
        heads = set(self._model.ablated) ^ {(self.shown_layer, head)}  # in if out, out if in
        self._emit_model(ablated=tuple(sorted(heads)))

