"""The settings of a trained transformer: which checkpoint, which layer, and what-if changes.

One frozen value inside `core.settings.Settings` (its ``model`` field), so a session saves it and
the command line sets it like every other setting. Layers and heads count from 0 here and in
files; the screen counts from 1.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any

from core.maths.normalize import NORMALIZATIONS
from core.transformer.interventions import (
    ABLATIONS,
    TRAINED_SCORINGS,
    Interventions,
    LayerChange,
)

__all__ = ["ModelSettings", "ModelSettingsError"]


class ModelSettingsError(ValueError):
    """A model setting that cannot be used; the message says which and why."""


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class ModelSettings:
    """Everything a person sets about a trained model (the text is ``Settings.sentence``)."""

    path: str | None = field(default=None, metadata=_doc(
        "Checkpoint folder (config.json, model.safetensors, tokenizer.json); None = the bundled "
        "all-MiniLM-L6-v2."))
    pair: str | None = field(default=None, metadata=_doc(
        "BERT's second segment (token type 1), or None for one text."))
    layer: int | None = field(default=None, metadata=_doc(
        "The layer shown, from 0; None = the last."))
    hide_special: bool = field(default=False, metadata=_doc(
        "Leave [CLS], [SEP] and other special tokens out of the maps (their share is shown)."))
    across_layers: str = field(default="layer", metadata=_doc(
        "What the maps show: 'layer' (the chosen layer's heads), 'rollout' or 'flow' (all "
        "layers up to the chosen one combined, in the Across layers tab, which they open)."))
    ablated: tuple[tuple[int, int], ...] = field(default=(), metadata=_doc(
        "Heads (layer, head) whose output is removed."))
    ablation: str = field(default="zero", metadata=_doc(
        "How an ablated head's output is removed: 'zero', or 'mean' over the tokens."))
    what_if_layer: int | None = field(default=None, metadata=_doc(
        "A layer whose attention is changed by the what_if_* settings; None = no change."))
    what_if_scoring: str = field(default="scaled_dot", metadata=_doc(
        "What-if layer: scoring (scaled_dot, dot or cosine)."))
    what_if_normalization: str = field(default="softmax", metadata=_doc(
        "What-if layer: normalisation of the logits."))
    what_if_temperature: float = field(default=1.0, metadata=_doc(
        "What-if layer: the logits are divided by this."))
    what_if_causal: bool | None = field(default=None, metadata=_doc(
        "What-if layer: a causal mask; None keeps the model's own (causal for GPT-2)."))
    what_if_exclude_self: bool = field(default=False, metadata=_doc(
        "What-if layer: a token may not attend to itself."))

    ACROSS_LAYERS = ("layer", "rollout", "flow")
    VIEW_FIELDS = frozenset({"layer", "hide_special", "across_layers"})
    """Fields that change only what is shown: no new forward pass."""

    def __post_init__(self) -> None:
        _validate(self)
        # One order for the same heads, so equal settings compare (and memoise) equal.
        object.__setattr__(self, "ablated", tuple(sorted(set(self.ablated))))

    def interventions(self) -> Interventions:
        """The ablations and the what-if layer, for `TransformerModel.run`."""
        changes = () if self.what_if_layer is None else (LayerChange(
            self.what_if_layer, self.what_if_scoring, self.what_if_normalization,
            float(self.what_if_temperature), self.what_if_causal, self.what_if_exclude_self),)
        return Interventions(frozenset(self.ablated), self.ablation, changes)

    def forward_changed(self, other: ModelSettings) -> bool:
        """True when ``other`` needs a new forward pass (more than a view change)."""
        return any(getattr(self, f.name) != getattr(other, f.name) for f in fields(self)
                   if f.name not in self.VIEW_FIELDS)

    def without_interventions(self) -> ModelSettings:
        """The same model and view, the model as it was trained."""
        defaults = ModelSettings()
        return dataclasses.replace(self, **{f.name: getattr(defaults, f.name) for f in fields(self)
                                            if f.name in _INTERVENTION_FIELDS})

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["ablated"] = [list(pair) for pair in self.ablated]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ModelSettings:
        """From :meth:`to_dict`'s output; unknown keys are an error."""
        if not isinstance(data, dict):
            raise ModelSettingsError(f"model settings must be an object, got {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ModelSettingsError(f"unknown model setting(s): {', '.join(unknown)}")
        data = dict(data)
        if "ablated" in data:
            data["ablated"] = _pairs(data["ablated"])
        return cls(**data)


_INTERVENTION_FIELDS = frozenset({
    "ablated", "ablation", "what_if_layer", "what_if_scoring", "what_if_normalization",
    "what_if_temperature", "what_if_causal", "what_if_exclude_self"})


def _pairs(value: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list | tuple) or not all(
            isinstance(p, list | tuple) and len(p) == 2 for p in value):
        raise ModelSettingsError("model.ablated must be a list of [layer, head] pairs")
    return tuple(sorted({(p[0], p[1]) for p in value}))


def _index(name: str, value: Any, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelSettingsError(f"model.{name} must be a whole number from 0, got {value!r}")


def _validate(s: ModelSettings) -> None:
    for name in ("path", "pair"):
        if getattr(s, name) is not None and not isinstance(getattr(s, name), str):
            raise ModelSettingsError(f"model.{name} must be text or null")
    _index("layer", s.layer, True)
    _index("what_if_layer", s.what_if_layer, True)
    for layer, head in s.ablated:
        _index("ablated layer", layer, False)
        _index("ablated head", head, False)
    choices = (("across_layers", s.across_layers, s.ACROSS_LAYERS),
               ("ablation", s.ablation, ABLATIONS),
               ("what_if_scoring", s.what_if_scoring, TRAINED_SCORINGS),
               ("what_if_normalization", s.what_if_normalization, NORMALIZATIONS))
    for name, value, allowed in choices:
        if value not in allowed:
            raise ModelSettingsError(f"model.{name} must be one of {', '.join(allowed)}; "
                                     f"got {value!r}")
    t = s.what_if_temperature
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) \
            or not 0.01 <= t <= 100:
        raise ModelSettingsError(f"model.what_if_temperature must be between 0.01 and 100, "
                                 f"got {t!r}")
    for name in ("hide_special", "what_if_exclude_self"):
        if not isinstance(getattr(s, name), bool):
            raise ModelSettingsError(f"model.{name} must be true or false")
    if s.what_if_causal is not None and not isinstance(s.what_if_causal, bool):
        raise ModelSettingsError("model.what_if_causal must be true, false or null")
