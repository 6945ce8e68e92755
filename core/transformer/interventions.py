"""What-if changes to a trained model: heads ablated, one layer's attention done differently.

Layers and heads count from 0 here (the screen counts from 1). Everything after the first
changed layer is recomputed by the forward pass; the layers before it are reused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.maths.attention import NORMALIZATIONS, causal_mask, exclude_self_mask
from core.transformer.config import TransformerConfig
from core.transformer.errors import ModelError

__all__ = ["ABLATIONS", "TRAINED_SCORINGS", "Interventions", "LayerChange"]

ABLATIONS = ("zero", "mean")
"""zero: the head's output is 0; mean: it is replaced by its mean over the tokens."""
TRAINED_SCORINGS = ("scaled_dot", "dot", "cosine")
"""The scorings a trained layer can use: general and additive need weights it never learned."""


@dataclass(frozen=True)
class LayerChange:
    """One layer's attention done differently from how the model was trained."""

    layer: int  #: which layer, from 0
    scoring: str = "scaled_dot"
    normalization: str = "softmax"
    temperature: float = 1.0
    causal: bool | None = None  #: None keeps the model's own mask (causal for GPT-2 only)
    exclude_self: bool = False

    def is_identity(self, config: TransformerConfig) -> bool:
        """True when the change changes nothing."""
        own_causal = config.architecture == "gpt2"
        return (self.scoring, self.normalization, self.temperature, self.exclude_self) == \
            ("scaled_dot", "softmax", 1.0, False) and self.causal in (None, own_causal)


@dataclass(frozen=True)
class Interventions:
    """Heads to ablate and layers to change; the default changes nothing."""

    ablated: frozenset[tuple[int, int]] = field(default_factory=frozenset)  #: (layer, head)
    ablation: str = "zero"  #: one of ABLATIONS
    changes: tuple[LayerChange, ...] = ()

    def check(self, config: TransformerConfig) -> None:
        """A ModelError naming the first layer, head or option the model does not have."""
        c = config
        if self.ablation not in ABLATIONS:
            raise ModelError(f"ablation must be one of {', '.join(ABLATIONS)}, "
                             f"got {self.ablation!r}")
        for layer, head in sorted(self.ablated):
            if not (0 <= layer < c.n_layers and 0 <= head < c.n_heads):
                raise ModelError(f"{c.name} has no layer {layer + 1} head {head + 1} "
                                 f"({c.n_layers} layers x {c.n_heads} heads)")
        seen = set()
        for change in self.changes:
            if not 0 <= change.layer < c.n_layers or change.layer in seen:
                raise ModelError(f"layer {change.layer + 1} cannot be changed (the model has "
                                 f"{c.n_layers} layers, each changed at most once)")
            seen.add(change.layer)
            if change.scoring not in TRAINED_SCORINGS:
                raise ModelError(f"a trained layer can score by {', '.join(TRAINED_SCORINGS)}; "
                                 f"{change.scoring!r} needs weights the model never learned")
            if change.normalization not in NORMALIZATIONS:
                raise ModelError(f"unknown normalization {change.normalization!r}")
            if not (math.isfinite(change.temperature) and change.temperature > 0):
                raise ModelError(f"temperature must be finite and > 0, got {change.temperature}")

    def first_layer(self, config: TransformerConfig) -> int | None:
        """The first layer whose computation differs, None when nothing does."""
        layers = [layer for layer, _ in self.ablated]
        layers += [c.layer for c in self.changes if not c.is_identity(config)]
        return min(layers) if layers else None

    def heads_ablated_in(self, layer: int) -> list[int]:
        """The ablated heads of ``layer``, in order."""
        return sorted(head for lay, head in self.ablated if lay == layer)

    def attention_options(self, layer: int, config: TransformerConfig, n: int) -> dict[str, Any]:
        """Keyword arguments for the core's multi_head_attention in ``layer`` (n tokens); a
        ``mask`` entry (even None) replaces the model's own mask."""
        change = next((c for c in self.changes if c.layer == layer), None)
        if change is None:
            return {}
        causal = config.architecture == "gpt2" if change.causal is None else change.causal
        mask = None
        if causal:
            mask = causal_mask(n)
        if change.exclude_self:
            mask = exclude_self_mask(n) if mask is None else mask & exclude_self_mask(n)
        return {"scoring": change.scoring, "normalization": change.normalization,
                "temperature": change.temperature, "mask": mask}
