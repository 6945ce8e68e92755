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
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.attention import MultiHeadResult
from core.heads import HeadProjections
from core.masks import entropy

__all__ = ["HeadStatistics", "MatrixViewData", "NamedMatrix", "StepTable", "computation_steps",
           "format_number", "format_vector", "head_statistics", "matrix_view", "step_formulas"]

Array = NDArray[np.floating[Any]]

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
    value = float(x)  # plain float tests: np.isneginf on a scalar costs ~4 µs, per table cell
    if value == -math.inf:
        return "masked"
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


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
    head_output: Array  #: (d_v,) the sum of weighted_values = this head's output
    wo_part: Array | None  #: (d_out,) head_output @ W_O[this head's rows]; None without W_O
    output: Array  #: (d_out,) the full output row: the sum of every head's W_O part
    empty: bool  #: True when every weight of the row is zero
    note: str  #: e.g. why head 0 is shown when the mean of heads was selected
    formulas: tuple[str, ...]  #: the formulas with numbers, for the strongest key

    @property
    def focus_key(self) -> int:
        """The key the default formulas are written for: the one with the largest weight."""
        return int(np.argmax(self.weights))


def _per_row(result: MultiHeadResult) -> dict[str, Any]:
    """The per-head arrays with a query axis, also for a 1-D query (which drops it)."""
    names = ("weights", "scores", "logits", "queries", "head_outputs")
    one_query = result.weights.ndim == 2  # (h, n) instead of (h, r, n)
    arrays = {name: getattr(result, name) for name in names}
    if one_query:
        arrays = {name: a[:, None] for name, a in arrays.items()}  # (h, ...) -> (h, 1, ...)
    arrays["output"] = np.atleast_2d(result.output)  # (r, d_out)
    return arrays


def _wo_block(heads: HeadProjections | None, head: int, d_v: int) -> Array | None:
    """The rows of W_O that multiply head ``head``'s output in the concatenation."""
    if heads is None or heads.w_o is None:
        return None
    return np.asarray(heads.w_o)[head * d_v:(head + 1) * d_v]  # (d_v, d_out)


def computation_steps(
    result: MultiHeadResult, heads: HeadProjections | None, head: int | None, row: int,
    row_labels: Sequence[str], col_labels: Sequence[str], *, scoring: str = "scaled_dot",
    normalization: str = "softmax",
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
    scoring, normalization : str
        The names ``result`` was computed with (the result does not record them); they choose
        the formulas shown.

    Returns
    -------
    StepTable
    """
    a = _per_row(result)
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
    with np.errstate(over="ignore"):  # the same division (and overflow limit) as the core
        scaled = raw / result.scale  # (n,)
        tempered = raw / (result.scale * result.temperature)  # (n,)
    weighted = weights[:, None] * values  # (n, 1) * (n, d_v) -> (n, d_v)
    head_output = a["head_outputs"][head, row]  # (d_v,)
    w_o = _wo_block(heads, head, values.shape[1])
    wo_part = None if w_o is None else head_output @ w_o  # (d_v,) @ (d_v, d_out) -> (d_out,)
    table = StepTable(
        head=head, n_heads=n_heads, row=row, query_label=str(row_labels[row]),
        key_labels=tuple(str(c) for c in col_labels), scoring=scoring,
        normalization=normalization, scale=result.scale, temperature=result.temperature,
        query=a["queries"][head, row], keys=result.keys[head], values=values, raw_scores=raw,
        scaled=scaled, tempered=tempered, logits=logits,
        masked=np.isneginf(logits) & ~np.isneginf(tempered), weights=weights,
        weighted_values=weighted, head_output=head_output, wo_part=wo_part,
        output=a["output"][row], empty=not np.any(weights), note=note, formulas=(),
    )
    return _with_formulas(table)


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


def _weight_formula(t: StepTable, j: int) -> str:
    f = format_number
    lj, w = float(t.logits[j]), float(t.weights[j])
    live = ~np.isneginf(t.logits)
    if t.empty:
        return "weight = 0: every key is masked or ≤ 0, so the row gives no weight at all"
    if t.normalization == "softmax":
        top = float(np.max(t.logits[live]))
        total = float(np.sum(np.exp(t.logits[live] - top)))
        return (f"weight = exp(l_j − max l) / Σ exp(l − max l) = exp({f(lj)} − {f(top)}) / "
                f"{f(total)} = {f(w)}")
    if t.normalization == "relu":
        total = float(np.sum(np.maximum(t.logits[live], 0)))
        positive = f(max(lj, 0.0))
        return f"weight = max(l_j, 0) / Σ max(l, 0) = {positive} / {f(total)} = {f(w)}"
    support = t.weights > 0
    tau = float(np.mean(t.logits[support] - t.weights[support]))  # l - w is tau on the support
    return (f"weight = max(l_j − τ, 0) with τ = {f(tau)} chosen so the weights sum to 1: "
            f"max({f(lj)} − {f(tau)}, 0) = {f(w)}")


def _output_formulas(t: StepTable) -> list[str]:
    f, fv = format_number, format_vector
    top = np.argsort(-t.weights, kind="stable")[:3]
    terms = " + ".join(f"{f(t.weights[j])}·{fv(t.values[j], 3)}" for j in top)
    more = " + …" if t.weights.size > 3 else ""
    lines = [f"head output o = Σ_j w_j v_j = {terms}{more} = {fv(t.head_output)}"]
    if t.wo_part is None:
        lines.append(f"no W_O: output = concatenation of the heads = {fv(t.output)}")
    else:
        d_v = t.head_output.size
        rows = f"{t.head * d_v}:{(t.head + 1) * d_v}"
        lines.append(f"W_O part = o · W_O[rows {rows}] = {fv(t.wo_part)};  output = Σ over "
                     f"{t.n_heads} head(s) of the W_O parts = {fv(t.output)}")
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


# ----------------------------------------------------------------------------- matrix view


@dataclass(frozen=True, eq=False)
class NamedMatrix:
    """One matrix of the matrix view, tokens as columns."""

    symbol: str  #: "I", "Q", "K", "V", "A", "A′", "O"
    description: str  #: what it is, e.g. "scores Kᵀ Q"
    array: Array  #: (rows, cols)
    row_names: str  #: what the rows are, e.g. "d_k"
    row_labels: tuple[str, ...]  #: one per row (token names for A/A′, else dimension numbers)
    col_labels: tuple[str, ...]  #: one per column
    col_names: str = "n"  #: what the columns are: "n" tokens, or "r" query rows

    @property
    def title(self) -> str:
        """E.g. ``Q: d_k×n = 12×15``."""
        rows, cols = self.array.shape
        return f"{self.symbol}: {self.row_names}×{self.col_names} = {rows}×{cols}"


@dataclass(frozen=True, eq=False)
class MatrixViewData:
    """I → Q, K, V → A, A′ → O for one head, and one query/key pair as vectors."""

    head: int
    matrices: tuple[NamedMatrix, ...]  #: I (and I_q for outside queries), Q, K, V, A, A′, O
    query_row: int  #: which column of Q is the chosen query
    key_index: int  #: which column of K the vector perspective shows
    query_vector: Array  #: (d_k,)
    key_vector: Array  #: (d_k,)
    score: float  #: A[key_index, query_row]
    weight: float  #: A′[key_index, query_row]

    def by_symbol(self, symbol: str) -> NamedMatrix:
        """The matrix named ``symbol``."""
        return next(m for m in self.matrices if m.symbol == symbol)


def _dims(count: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(count))


def matrix_view(
    result: MultiHeadResult, heads: HeadProjections | None, x_q: ArrayLike, x_kv: ArrayLike,
    head: int | None, *, row: int = 0, row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None, key: int | None = None,
) -> MatrixViewData:
    """The matrices of one head with tokens as columns: I (d×n) → Q, K, V → A, A′ → O.

    ``A = Kᵀ Q`` holds the scores with keys as rows and queries as columns (``A[j, i]`` is
    query i's score for key j), ``A′`` the weights, and ``O = V A′`` the head's outputs. When the
    queries are not the keys' tokens (an outside query word) ``I_q`` is shown as well. ``heads``
    is accepted for symmetry with `computation_steps`; the matrices come from ``result``.
    """
    a = _per_row(result)
    h = 0 if head is None else head
    xq, xkv = np.atleast_2d(np.asarray(x_q)), np.asarray(x_kv)  # (r, d), (n, d)
    r, n = a["weights"].shape[1:]
    rows = tuple(row_labels) if row_labels is not None else _dims(r)
    cols = tuple(col_labels) if col_labels is not None else _dims(n)
    q = a["queries"][h].T  # (r, d_k) -> (d_k, r)
    k = result.keys[h].T  # (n, d_k) -> (d_k, n)
    v = result.values[h].T  # (n, d_v) -> (d_v, n)
    scores = a["scores"][h].T  # (r, n) -> (n, r): keys as rows
    weights = a["weights"][h].T  # (n, r)
    out = a["head_outputs"][h].T  # (r, d_v) -> (d_v, r)
    mats = [NamedMatrix("I", "inputs, one column per token", xkv.T, "d", _dims(xkv.shape[1]),
                        cols)]
    # Self-attention: the queries are the tokens (n columns); else r query rows of their own.
    r_name = "n"
    if xq.shape != xkv.shape or not np.array_equal(xq, xkv):
        r_name = "r"
        mats.append(NamedMatrix("I_q", "query inputs", xq.T, "d", _dims(xq.shape[1]), rows,
                                r_name))
    mats += [
        NamedMatrix("Q", "queries W_Qᵀ I", q, "d_k", _dims(q.shape[0]), rows, r_name),
        NamedMatrix("K", "keys W_Kᵀ I", k, "d_k", _dims(k.shape[0]), cols),
        NamedMatrix("V", "values W_Vᵀ I", v, "d_v", _dims(v.shape[0]), cols),
        NamedMatrix("A", "scores Kᵀ Q (rows keys, columns queries)", scores, "n", cols, rows,
                    r_name),
        NamedMatrix("A′", "weights: A normalised per column", weights, "n", cols, rows, r_name),
        NamedMatrix("O", "head outputs V A′", out, "d_v", _dims(out.shape[0]), rows, r_name),
    ]
    j = int(np.argmax(weights[:, row])) if key is None else key
    return MatrixViewData(h, tuple(mats), row, j, q[:, row], k[:, j], float(scores[j, row]),
                          float(weights[j, row]))


# ----------------------------------------------------------------------------- head statistics


@dataclass(frozen=True, eq=False)
class HeadStatistics:
    """How each head spreads the query row's weight, and how alike the heads are."""

    row: int
    entropy: Array  #: (h,) nats; 0 = all weight on one key, log(n) = uniform
    max_entropy: float  #: log(n)
    max_weight: Array  #: (h,)
    max_key: NDArray[np.intp]  #: (h,) index of the key with the max weight
    max_key_labels: tuple[str, ...]  #: (h,) its name ("—" for a row with no weight)
    similarity: Array  #: (h, h) 1 − Jensen–Shannon divergence (base 2); NaN for an empty row
    similarity_name: str = "1 − Jensen–Shannon divergence (log base 2): 1 = same weights, " \
                           "0 = no key in common"


def _jensen_shannon_similarity(p: Array) -> Array:
    """1 − JSD between every pair of rows of ``p`` (h, n); NaN where a row sums to 0."""
    totals = p.sum(axis=-1)  # (h,)
    m = (p[:, None, :] + p[None, :, :]) / 2  # (h, h, n) the mixture of each pair
    # JSD = H(m) − (H(p) + H(q)) / 2; dividing by log 2 puts it in [0, 1].
    own = entropy(p)  # (h,)
    jsd = (entropy(m) - (own[:, None] + own[None, :]) / 2) / math.log(2)  # (h, h)
    similarity = np.clip(1 - jsd, 0.0, 1.0)
    empty = np.isclose(totals, 0)  # an all-zero row is not a distribution
    similarity[empty, :] = np.nan
    similarity[:, empty] = np.nan
    return similarity


def head_statistics(
    weights: ArrayLike, row: int, col_labels: Sequence[str] | None = None
) -> HeadStatistics:
    """Entropy, strongest key and head×head similarity of query row ``row``.

    Parameters
    ----------
    weights : (h, r, n) array
        Every head's weights (``MultiHeadResult.weights``).
    row : int
        The query row.
    col_labels : sequence of str, optional
        Key names (n,), for ``max_key_labels``.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 2:
        w = w[:, None, :]  # (h, n) -> (h, 1, n): a single query
    p = w[:, row, :]  # (h, n)
    n = p.shape[1]
    labels = tuple(col_labels) if col_labels is not None else _dims(n)
    max_key = np.argmax(p, axis=1)  # (h,)
    max_weight = p.max(axis=1)  # (h,)
    return HeadStatistics(
        row=row, entropy=entropy(p), max_entropy=math.log(n) if n else 0.0,
        max_weight=max_weight, max_key=max_key,
        max_key_labels=tuple(labels[j] if wt > 0 else "—" for j, wt in zip(max_key, max_weight,
                                                                           strict=True)),
        similarity=_jensen_shannon_similarity(p),
    )
