"""What one layer of a run shows beyond the attention itself, and what interventions moved.

Shapes: L layers, H heads, n tokens, r shown rows, d model width.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from core.maths.statistics import entropy
from core.transformer.config import TransformerConfig

if TYPE_CHECKING:
    from core.transformer.model import TransformerRun

__all__ = ["ModelAnalysis", "head_shift", "sentence_embedding"]

Array = NDArray[np.floating[Any]]


@dataclass(frozen=True, eq=False)
class ModelAnalysis:
    """The trained-model part of an analysis."""

    config: TransformerConfig
    run: TransformerRun  #: every layer and head of this text, interventions included
    baseline: TransformerRun | None  #: the same text without interventions (None: there are none)
    layer: int  #: the layer shown, from 0
    shown: NDArray[np.intp]  #: (m,) indices of the tokens shown in the maps (all, or no specials)
    hidden_share: Array | None  #: (H, m) weight each shown row gives hidden special tokens
    head_shift: Array | None  #: (L, H) how far interventions moved each head (see head_shift)
    embedding_cosine: float | None  #: sentence embedding before vs after the interventions
    #: Makes (matrix (r, m) or None, title, note): rollout (every row) or flow (the query's row)
    #: up to this layer. Called on first use only: rollout at 512 tokens costs a quarter second.
    across_layers: Callable[[], tuple[Array | None, str, str]] | None = None

    @property
    def shows_every_token(self) -> bool:
        """True when no token is hidden from the maps (``shown`` is every index)."""
        return len(self.shown) == len(self.run.input_ids)

    @cached_property
    def _across(self) -> tuple[Array | None, str, str]:
        return self.across_layers() if self.across_layers is not None else (None, "", "")

    @property
    def across(self) -> Array | None:
        """(r, m) attention rollout (every shown row) or flow (the query's row), or None."""
        return self._across[0]

    @property
    def across_title(self) -> str:
        """What ``across`` is, e.g. "Attention rollout, layers 1-6 (Abnar & Zuidema 2020)"."""
        return self._across[1]

    @property
    def across_note(self) -> str:
        """How ``across`` was made (flow's rounding), or why it is not there."""
        return self._across[2]

    @property
    def special(self) -> NDArray[np.bool_]:
        """(n,) True for the special tokens ([CLS], [SEP], ...)."""
        return self.run.special


def sentence_embedding(run: TransformerRun) -> Array:
    """Mean of the last hidden states over every token, unit length (d,): what
    sentence-transformers computes for all-MiniLM-L6-v2 (mean pooling, then normalise)."""
    mean = run.hidden_states[-1].mean(axis=0)  # (n, d) -> (d,)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


def head_shift(before: Array, after: Array) -> Array:
    """(L, H): the Jensen-Shannon divergence (base 2, 0 = same, 1 = disjoint) between each
    head's weights before and after, averaged over the query rows. Inputs (L, H, n, n)."""
    mix = (before + after) / 2  # (L, H, n, n)
    jsd = (entropy(mix) - (entropy(before) + entropy(after)) / 2) / math.log(2)  # (L, H, n)
    return np.clip(jsd, 0.0, 1.0).mean(axis=-1)  # (L, H)
