"""What a pipeline hands the views: one `Analysis` per settings snapshot, static vectors and
trained models alike (`core.pipeline`, `core.model_pipeline`).

Shapes: n tokens (keys), r query rows, h heads, d model width.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from core.maths.attention import MultiHeadResult
from core.maths.heads import HeadProjections
from core.settings import Settings
from core.transformer.analysis import ModelAnalysis
from core.vectors.tokens import EmbeddedSentence, QueryChoice

__all__ = ["Analysis", "AnalysisError", "Frame", "MapCoordinates", "error_field"]

Frame = tuple[float, float, float, float]
"""x0, y0, x1, y1 on the latent map."""


@dataclass(frozen=True)
class MapCoordinates:
    """2D positions for the latent map, all from one projection."""

    tokens: np.ndarray  # (n, 2) context tokens
    query: np.ndarray  # (2,)
    head_mixes: np.ndarray  # (h, 2) per head: the weighted mix of the token vectors
    output: np.ndarray  # (2,) the multi-head attention output (after W_O)
    neighbours: tuple[tuple[str, float, float, str], ...]  # (word, x, y, "query" | "output")
    axis_labels: tuple[str, str]
    # False when a live run kept the output's previous neighbour words (see Pipeline.run).
    neighbours_settled: bool = True
    # (x0, y0, x1, y1) that every layer's tokens share in this projection (a trained model's
    # all-layers PCA): the map keeps this frame while the person steps layers. None: one layer.
    frame: Frame | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything the views show for one settings snapshot."""

    settings: Settings
    vectors_name: str
    sentence: EmbeddedSentence
    query: QueryChoice
    heads: HeadProjections
    result: MultiHeadResult  # queries = the r rows below, keys = the n sentence tokens
    row_labels: list[str]  # (r,) heatmap rows: sentence tokens, then the outside query if any
    col_labels: list[str]  # (n,) heatmap columns: sentence tokens
    query_row: int  # which row of the heatmaps is the query
    coords: MapCoordinates
    warnings: tuple[str, ...]
    elapsed_ms: float
    model: ModelAnalysis | None = None  # the trained-model part; None for static vectors
    # A trained model's layer over every token when the maps hide some ([CLS], [SEP]):
    # ``result`` is it restricted to ``model.shown``, so the step panel can still show sums
    # over every key. None when every token is shown.
    full_result: MultiHeadResult | None = None

    @property
    def weights(self) -> np.ndarray:
        """(h, r, n) attention weights of every head."""
        return self.result.weights

    @property
    def query_weights(self) -> np.ndarray:
        """(h, n) the weights the query gives each sentence token, per head."""
        return self.result.weights[:, self.query_row, :]

    @cached_property
    def mean_weights(self) -> np.ndarray:
        """(r, n) weights averaged over heads, computed once, on first use, and shared by every
        reader (an analysis never changes, so it cannot go stale)."""
        mean = self.result.weights.mean(axis=0)  # (h, r, n) -> (r, n)
        mean.flags.writeable = False  # shared by every reader, like the result's arrays
        return mean


class AnalysisError(ValueError):
    """Settings that cannot be computed on these vectors; the message says what to change."""


def error_field(message: str) -> str:
    """Which input an error message is about, so the window can mark that field: "sentence",
    "query", "head_axes" (the heads' word pairs), "projection_axes" (the latent map's axis
    words), "heads_file" (the head-projection file); "" when it is about none of them."""
    text = message.lower()
    if "head axis" in text or "strategy 'axes'" in text or text.startswith("direction "):
        return "head_axes"
    if "axis word" in text or "an axis has" in text:
        return "projection_axes"
    if "head file" in text or "strategy 'file'" in text or ".npz" in text:
        return "heads_file"
    if "query" in text:
        return "query"
    if "sentence" in text or "vocabulary" in text:
        return "sentence"
    return ""
