"""The arithmetic of one attention row, step by step, for the computation and matrix views.

Nothing here computes attention anew: every number is read from a `MultiHeadResult` (or is one
division of its numbers for display), so what the step table shows is what the core computed.

Shape legend
------------
h     number of heads
r     number of query rows
n     number of keys / values
d     model width (the word-vector dimension)
d_k   head width of queries and keys
d_v   head width of values
d_out width of the output (after W_O)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.maths.attention import MultiHeadResult
from core.maths.heads import HeadProjections

__all__ = ["ABLATION_TEXT", "HiddenKeys", "StepTable", "computation_steps", "format_fixed",
           "format_number", "format_percent", "format_vector", "step_formulas"]

Array = NDArray[np.floating[Any]]

ABLATION_TEXT = {"zero": "output zeroed", "mean": "output replaced by its token mean"}
"""How an ablated head's output is replaced (`core.transformer.interventions.ABLATIONS`)."""

SCORE_FORMULAS = {
    "dot": "q·k",
    "scaled_dot": "q·k / √d_k",
    "cosine": "q·k / (|q|·|k|)",
    "general": "qᵀ W k",
    "additive": "vᵀ tanh(W₁q + W₂k)",
}


# ----------------------------------------------------------------------------- formatting


def format_number(x: float, digits: int = 4) -> str:
    """A short number for tables: ``-inf`` (a masked logit) reads "masked"."""
    value = float(x)  # plain float tests: NumPy's scalar functions are slow, and this runs per cell
    if value == -math.inf:
        return "masked"
    if not math.isfinite(value):
        return str(value)
    return _without_negative_zero(f"{value:.{digits}g}")


def format_fixed(x: float, places: int = 2) -> str:
    """``x`` with ``places`` decimals (``0.07``); a tiny negative one reads "0.00", not "-0.00"."""
    value = float(x)
    return str(value) if not math.isfinite(value) else _without_negative_zero(f"{value:.{places}f}")


def format_percent(share: float) -> str:
    """A share of 1 as a whole percentage (``0.65`` -> ``65%``); ``-1e-17`` reads "0%"."""
    value = float(share)
    return str(value) if not math.isfinite(value) else _without_negative_zero(f"{value:.0%}")


def _without_negative_zero(text: str) -> str:
    """Rounding keeps the sign of a tiny negative number ("-0", "-0.00", "-0%"): a minus on a
    zero tells the reader nothing but noise (an entropy of -1e-17 is 0), so it goes."""
    if text.startswith("-") and not any(c in "123456789" for c in text.split("e")[0]):
        return text[1:]
    return text


def format_vector(v: ArrayLike, first: int = 4, digits: int = 4) -> str:
    """``[0.1, 2, -3.5, 0.25, …]``: the first components of a vector, "…" when there are more."""
    values = np.asarray(v).ravel()
    shown = ", ".join(format_number(x, digits) for x in values[:first])
    return f"[{shown}{', …' if values.size > first else ''}]"


# ----------------------------------------------------------------------------- step table


@dataclass(frozen=True, eq=False)
class StepTable:
    """Every step of one query row in one head, one entry per key.

    The per-key arrays are the columns of the computation table; ``logits`` and ``weights``
    are copied from the core's result, the intermediate columns are the same divisions shown
    one at a time.

    Keys a trained model's maps hide ([CLS], [SEP]) are not rows of the table, but the softmax
    and the weighted sum run over them too: the ``hidden_*`` fields hold them, so the formulas
    and the table's totals add up to the numbers the model computed.
    """

    head: int  #: the head shown
    n_heads: int  #: h
    row: int  #: the query row
    query_label: str
    key_labels: tuple[str, ...]  #: (n,)
    scoring: str
    normalization: str
    scale: float  #: √d_k for scaled_dot, else 1
    temperature: float
    query: Array  #: (d_k,) the projected query
    keys: Array  #: (n, d_k) the projected keys
    values: Array  #: (n, d_v) the projected values
    raw_scores: Array  #: (n,) the scoring function's value
    scaled: Array  #: (n,) raw / scale
    tempered: Array  #: (n,) raw / (scale * temperature), before the mask
    logits: Array  #: (n,) after the mask: masked keys are -inf
    masked: NDArray[np.bool_]  #: (n,) True where the mask removed the key
    weights: Array  #: (n,) the normalised weights
    weighted_values: Array  #: (n, d_v) weight_j * v_j
    weighted_sum: Array  #: (d_v,) Σ_j w_j v_j over every key, the hidden ones included
    head_output: Array  #: (d_v,) what W_O multiplied: weighted_sum, unless the head is ablated
    wo_part: Array | None  #: (d_out,) head_output @ W_O[this head's rows]; None without W_O
    output: Array  #: (d_out,) the full output row: every head's W_O part (+ b_O)
    empty: bool  #: True when every weight of the row, hidden keys included, is zero
    note: str  #: e.g. why head 0 is shown when the mean of heads was selected
    formulas: tuple[str, ...]  #: the formulas with numbers, for the strongest key
    hidden_labels: tuple[str, ...] = ()  #: (k,) keys left out of the table ([CLS], [SEP])
    hidden_logits: Array = field(default_factory=lambda: np.zeros(0))  #: (k,)
    hidden_weights: Array = field(default_factory=lambda: np.zeros(0))  #: (k,)
    hidden_values: Array | None = None  #: (k, d_v) the hidden keys' values
    ablation: str | None = None  #: "zero" or "mean" when the model replaced this head's output
    n_tokens: int = 0  #: the tokens the mean of an ablated head's output is taken over
    output_bias: bool = False  #: True when the output adds a bias b_O to the W_O parts

    @property
    def n_hidden(self) -> int:
        """How many keys the table leaves out."""
        return len(self.hidden_labels)

    @property
    def hidden_names(self) -> str:
        """The hidden keys in words: "[CLS], [SEP]", or how many when there are more than 3."""
        if self.n_hidden <= 3:
            return ", ".join(self.hidden_labels)
        return f"{self.n_hidden} special tokens"

    @property
    def hidden_weighted_sum(self) -> Array:
        """(d_v,) Σ over the hidden keys of weight × value (zeros without hidden keys)."""
        if self.hidden_values is None or not len(self.hidden_values):
            return np.zeros_like(self.weighted_sum)
        return (self.hidden_weights[:, None] * self.hidden_values).sum(axis=0)  # (k, d_v) -> (d_v,)

    def every_key(self) -> tuple[tuple[str, ...], Array, Array]:
        """(labels, logits, weights) of every key: the table's, then the hidden ones."""
        if not self.n_hidden:
            return self.key_labels, self.logits, self.weights
        return (self.key_labels + self.hidden_labels,
                np.concatenate([self.logits, self.hidden_logits]),
                np.concatenate([self.weights, self.hidden_weights]))

    @property
    def focus_key(self) -> int:
        """The key the default formulas are written for: the one with the largest weight."""
        return int(np.argmax(self.weights))


@dataclass(frozen=True, eq=False)
class HiddenKeys:
    """A trained model's layer over every token, when the maps show some of them.

    ``computation_steps`` gets the shown tokens' result (rows and keys ``full`` restricted to
    ``shown``); the weights of a row then sum to less than 1 and its head output holds the
    hidden keys' share as well. With this it shows them: in the formulas (the softmax's Σ runs
    over every key) and as one row of the table.
    """

    full: MultiHeadResult  #: weights (h, n, n): every token as query and key
    shown: NDArray[np.intp]  #: (m,) which tokens the result has, in order
    labels: Sequence[str]  #: (n,) every token's name ("[CLS]")


def per_row(result: MultiHeadResult) -> dict[str, Any]:
    """The per-head arrays with a query axis, also for a 1-D query (which drops it)."""
    names = ("weights", "scores", "logits", "queries", "head_outputs")
    one_query = result.weights.ndim == 2  # (h, n) instead of (h, r, n)
    arrays = {name: getattr(result, name) for name in names}
    if one_query:
        arrays = {name: a[:, None] for name, a in arrays.items()}  # (h, ...) -> (h, 1, ...)
    arrays["output"] = np.atleast_2d(result.output)  # (r, d_out)
    arrays["concat"] = np.atleast_2d(result.concat)  # (r, h*d_v)
    return arrays


def _wo_block(heads: HeadProjections | None, head: int, d_v: int) -> Array | None:
    """The rows of W_O that multiply head ``head``'s output in the concatenation."""
    if heads is None or heads.w_o is None:
        return None
    return np.asarray(heads.w_o)[head * d_v:(head + 1) * d_v]  # (d_v, d_out)


def computation_steps(
    result: MultiHeadResult, heads: HeadProjections | None, head: int | None, row: int,
    row_labels: Sequence[str], col_labels: Sequence[str], *, scoring: str | None = None,
    normalization: str | None = None, query_label: str | None = None,
    hidden: HiddenKeys | None = None, ablation: str | None = None,
) -> StepTable:
    """The step table of query row ``row`` in head ``head``.

    Parameters
    ----------
    result : MultiHeadResult
        The core's result; weights (h, r, n), or (h, n) for a single 1-D query.
    heads : HeadProjections or None
        The projections ``result`` was computed with; None when there is no W_O (the output is
        the concatenation of the heads).
    head : int or None
        The head to show. None (the "mean of heads" view) shows head 0 and says so in ``note``:
        a mean of weights is not a computation anyone performs, each head's arithmetic is.
    row : int
        The query row.
    row_labels, col_labels : sequences of str
        Names of the query rows (r,) and keys (n,).
    scoring, normalization : str or None
        The names that choose the formulas shown. None (the default): the ones ``result``
        records it was computed with. Kept only for callers that still pass them; to be removed.
    query_label : str or None
        The query's own text ("king"); None: its row label (an outside query's row label says
        "king (query)", a marker for the heatmap's row, not the word).
    hidden : HiddenKeys or None
        The layer over every token when ``result`` holds only the shown ones: the hidden keys'
        logits, weights and values join the formulas and one row of the table.
    ablation : str or None
        "zero" or "mean" when the model replaced this head's output (head ablation): the table
        still shows the weights and Σ_j w_j v_j the head computed; ``head_output`` is what the
        model used instead, read from ``result.concat``.

    Returns
    -------
    StepTable
    """
    scoring = result.scoring if scoring is None else scoring
    normalization = result.normalization if normalization is None else normalization
    a = per_row(result)
    n_heads = a["weights"].shape[0]
    note = ""
    if head is None:
        head = 0
        if n_heads > 1:
            note = (f"Showing head 1 of {n_heads}: the mean of the heads' weights is not one "
                    "computation. Pick a head to see its arithmetic.")
    if not 0 <= head < n_heads or not 0 <= row < a["weights"].shape[1]:
        raise ValueError(f"head {head} / row {row} out of range for {a['weights'].shape}")
    raw = a["scores"][head, row]  # (n,)
    logits = a["logits"][head, row]  # (n,)
    weights = a["weights"][head, row]  # (n,)
    values = result.values[head]  # (n, d_v)
    d_v = values.shape[1]
    with np.errstate(over="ignore"):  # the same division (and overflow limit) as the core
        scaled = raw / result.scale  # (n,)
        tempered = raw / (result.scale * result.temperature)  # (n,)
    weighted = weights[:, None] * values  # (n, 1) * (n, d_v) -> (n, d_v)
    weighted_sum = a["head_outputs"][head, row]  # (d_v,) Σ_j w_j v_j over every key
    head_output = a["concat"][row, head * d_v:(head + 1) * d_v]  # (d_v,) what W_O multiplied
    w_o = _wo_block(heads, head, d_v)
    wo_part = None if w_o is None else head_output @ w_o  # (d_v,) @ (d_v, d_out) -> (d_out,)
    output = a["output"][row]  # (d_out,)
    extra = _hidden_fields(hidden, head, row, len(col_labels))
    if ablation is not None:
        tokens = (hidden.full if hidden is not None else result).concat
        extra["ablation"], extra["n_tokens"] = ablation, tokens.shape[0] if tokens.ndim == 2 else 1
        used = "o = 0" if ablation == "zero" else \
            f"o = the mean of its outputs over the {extra['n_tokens']} tokens"
        note = " ".join(filter(None, [note, (
            f"Head {head + 1} is ablated: the model uses {used} in place of this row's "
            "Σ_j w_j v_j; the weights are what the head computed.")]))
    every_weight = np.concatenate([weights, extra.get("hidden_weights", weights[:0])])
    table = StepTable(
        head=head, n_heads=n_heads, row=row,
        query_label=str(row_labels[row]) if query_label is None else query_label,
        key_labels=tuple(str(c) for c in col_labels), scoring=scoring,
        normalization=normalization, scale=result.scale, temperature=result.temperature,
        query=a["queries"][head, row], keys=result.keys[head], values=values, raw_scores=raw,
        scaled=scaled, tempered=tempered, logits=logits,
        masked=np.isneginf(logits) & ~np.isneginf(tempered), weights=weights,
        weighted_values=weighted, weighted_sum=weighted_sum, head_output=head_output,
        wo_part=wo_part, output=output, empty=not np.any(every_weight), note=note,
        formulas=(), output_bias=_has_bias(heads, a["concat"][row], output), **extra,
    )
    return _with_formulas(table)


def _hidden_fields(hidden: HiddenKeys | None, head: int, row: int, m: int) -> dict[str, Any]:
    """The StepTable fields of the keys ``hidden`` has and the shown result does not."""
    if hidden is None or len(hidden.shown) == hidden.full.weights.shape[-1]:
        return {}
    if len(hidden.shown) != m:
        raise ValueError(f"{m} keys, but {len(hidden.shown)} shown tokens in the hidden keys")
    full, n = hidden.full, hidden.full.weights.shape[-1]
    left_out = np.setdiff1d(np.arange(n), hidden.shown)  # (k,) in order
    i = int(hidden.shown[row])  # the query's row among every token
    return {"hidden_labels": tuple(str(hidden.labels[j]) for j in left_out),
            "hidden_logits": full.logits[head, i, left_out],
            "hidden_weights": full.weights[head, i, left_out],
            "hidden_values": full.values[head, left_out]}  # (k, d_v)


def _has_bias(heads: HeadProjections | None, concat: Array, output: Array) -> bool:
    """Whether ``output`` adds a bias to concat @ W_O (a trained layer's b_O), measured: the
    projections do not keep it, the result's output does."""
    if heads is None or heads.w_o is None or concat.shape[-1] != np.shape(heads.w_o)[0]:
        return False
    bare = concat @ np.asarray(heads.w_o)  # (h*d_v,) @ (h*d_v, d_out) -> (d_out,)
    scale = 1.0 + float(np.max(np.abs(output), initial=0.0))
    return bool(np.max(np.abs(output - bare), initial=0.0) > 1e-4 * scale)


def _with_formulas(table: StepTable) -> StepTable:
    return replace(table, formulas=step_formulas(table, table.focus_key))


# ----------------------------------------------------------------------------- formulas


def _score_formula(t: StepTable, j: int) -> str:
    q, k, raw = t.query, t.keys[j], t.raw_scores[j]
    f = format_number
    if t.scoring in ("dot", "scaled_dot"):
        terms = " + ".join(f"{f(a)}·{f(b)}" for a, b in zip(q, k, strict=True))
        dot = f"q·k = {terms} = {f(raw)}" if q.size <= 4 else f"q·k = {f(raw)}"
        if t.scoring == "dot":
            return f"score = {dot}"
        return f"score = {dot};  q·k / √d_k = {f(raw)} / √{q.size} = {f(t.scaled[j])}"
    if t.scoring == "cosine":
        norms = f"{f(float(np.linalg.norm(q)))}·{f(float(np.linalg.norm(k)))}"
        return f"score = q·k / (|q|·|k|) = {f(float(q @ k))} / ({norms}) = {f(raw)}"
    return f"score = {SCORE_FORMULAS[t.scoring]} = {f(raw)}"


def _logit_formula(t: StepTable, j: int) -> str:
    f = format_number
    text = f"logit = score / T = {f(t.scaled[j])} / {f(t.temperature)} = {f(t.tempered[j])}"
    if t.masked[j]:
        text += ";  the mask removes this key: logit = -inf (weight 0)"
    return text


def _over_every_key(t: StepTable) -> str:
    """What a Σ over the keys runs over when some are not rows of the table."""
    if not t.n_hidden:
        return ""
    return (f"  (over all {len(t.key_labels) + t.n_hidden} keys, {t.n_hidden} of them hidden "
            f"from the table: {t.hidden_names})")


def _weight_formula(t: StepTable, j: int) -> str:
    f = format_number
    lj, w = float(t.logits[j]), float(t.weights[j])
    _, logits, weights = t.every_key()  # the hidden keys count in every Σ and max
    live = ~np.isneginf(logits)
    if t.empty:
        return "weight = 0: every key is masked or ≤ 0, so the row gives no weight at all"
    over = _over_every_key(t)
    if t.normalization == "softmax":
        top = float(np.max(logits[live]))
        total = float(np.sum(np.exp(logits[live] - top)))
        return (f"weight = exp(l_j − max l) / Σ exp(l − max l) = exp({f(lj)} − {f(top)}) / "
                f"{f(total)} = {f(w)}{over}")
    if t.normalization == "relu":
        total = float(np.sum(np.maximum(logits[live], 0)))
        positive = f(max(lj, 0.0))
        return f"weight = max(l_j, 0) / Σ max(l, 0) = {positive} / {f(total)} = {f(w)}{over}"
    support = weights > 0
    tau = float(np.mean(logits[support] - weights[support]))  # l - w is tau on the support
    return (f"weight = max(l_j − τ, 0) with τ = {f(tau)} chosen so the weights sum to 1: "
            f"max({f(lj)} − {f(tau)}, 0) = {f(w)}{over}")


def _output_formulas(t: StepTable) -> list[str]:
    f, fv = format_number, format_vector
    labels, _, weights = t.every_key()
    values = t.values if not t.n_hidden or t.hidden_values is None else \
        np.concatenate([t.values, t.hidden_values])  # (n + k, d_v)
    top = np.argsort(-weights, kind="stable")[:3]
    n = len(t.key_labels)
    terms = " + ".join(f"{f(weights[j])}·{fv(values[j], 3)}"
                       + (f" ({labels[j]}, hidden)" if j >= n else "") for j in top)
    more = " + …" if weights.size > 3 else ""
    weighted = f"Σ_j w_j v_j = {terms}{more} = {fv(t.weighted_sum)}"
    if t.ablation is None:
        lines = [f"head output o = {weighted}"]
    else:  # the note says how; here the numbers
        mean = "" if t.ablation == "zero" else f" (its mean over the {t.n_tokens} tokens)"
        lines = [f"{weighted};  ablated, the model uses o = {fv(t.head_output)}{mean}"]
    if t.wo_part is None:
        lines.append(f"no W_O: output = concatenation of the heads = {fv(t.output)}")
    else:
        d_v = t.head_output.size
        first, last = t.head * d_v + 1, (t.head + 1) * d_v  # counted from 1, as on screen
        rows = f"rows {first}–{last}" if last > first else f"row {first}"
        bias = " + b_O" if t.output_bias else ""
        lines.append(f"W_O part = o · W_O[{rows}] = {fv(t.wo_part)};  output = Σ over "
                     f"{t.n_heads} head(s) of the W_O parts{bias} = {fv(t.output)}")
    return lines


def step_formulas(table: StepTable, key: int) -> tuple[str, ...]:
    """The formulas of every step with the numbers of key ``key`` (plain text, one per step)."""
    label = table.key_labels[key] if key < len(table.key_labels) else str(key)
    head = f"head {table.head + 1}: " if table.n_heads > 1 else ""
    return (
        f"{head}query “{table.query_label}” q = {format_vector(table.query)}, "
        f"key “{label}” k = {format_vector(table.keys[key])}",
        _score_formula(table, key),
        _logit_formula(table, key),
        _weight_formula(table, key),
        *_output_formulas(table),
    )
