"""Scaled dot-product attention and its variants, in plain NumPy.

One readable path, in the spirit of minGPT's ``CausalSelfAttention.forward``::

    scores  = score(Q, K)                       # (..., n_q, n_kv)
    logits  = scores / scale / temperature      # (..., n_q, n_kv), masked entries -> -inf
    weights = normalise(logits)                 # (..., n_q, n_kv), rows sum to 1 (or 0 if empty)
    output  = weights @ V                       # (..., n_q, d_v)

Every step works on stacked heads (leading batch dimensions ``...``), so multi-head attention is
the same code as single-head attention with a head axis in front: no Python loop per head.

Shape legend
------------
n_q   number of queries (tokens asking)
n_kv  number of keys / values (tokens being looked at)
h     number of heads
d     model width (the word-vector dimension)
d_k   head width of queries and keys
d_v   head width of values
d_a   hidden width of the additive scorer
...   leading batch dimensions (the head axis in multi-head attention)

Conventions: row vectors throughout (``Q = X @ W_Q``); a mask is boolean with True meaning
"may attend". Float32 in gives float32 out, float64 gives float64, integers become float64.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.maths.masks import causal_mask, exclude_self_mask, padding_mask
from core.maths.normalize import NORMALIZATIONS, NORMALIZERS, softmax_into
from core.maths.scoring import SCORERS, SCORINGS
from core.maths.threads import over_head_groups, single_blas_thread

__all__ = ["NORMALIZATIONS", "SCORINGS", "AttentionResult", "MultiHeadResult", "attend",
           "causal_mask", "exclude_self_mask", "multi_head_attention", "padding_mask"]

Array = NDArray[np.floating[Any]]


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class AttentionResult:
    """Every intermediate of one attention computation (arrays are read-only).

    A 1-D query gives 1-D scores/logits/weights/output and a 0-d ``empty_rows``.
    """

    scores: Array  #: (n_q, n_kv) raw scores: q.k for dot/scaled_dot, else the scoring function
    logits: Array  #: (n_q, n_kv) scores / scale / temperature; masked entries are -inf
    weights: Array  #: (n_q, n_kv) each row sums to 1, or is all zero if empty
    output: Array  #: (n_q, d_v) weights @ values
    empty_rows: NDArray[np.bool_]  #: (n_q,) True where a row got all-zero weights
    scale: float  #: the divisor of the scores: sqrt(d_k) for scaled_dot, else 1.0
    temperature: float  #: the logits were also divided by this
    scoring: str  #: how the scores were made (one of SCORINGS)
    normalization: str  #: how the logits became weights (one of NORMALIZATIONS)


@dataclass(frozen=True, eq=False)
class MultiHeadResult:
    """Every intermediate of multi-head attention (arrays are read-only).

    A 1-D query drops the n_q axis everywhere (e.g. ``weights`` is (h, n_kv)).
    """

    output: Array  #: (n_q, d_out) concat @ w_o, or concat when w_o is None
    weights: Array  #: (h, n_q, n_kv) per head, as in AttentionResult
    scores: Array  #: (h, n_q, n_kv)
    logits: Array  #: (h, n_q, n_kv)
    queries: Array  #: (h, n_q, d_k) projected queries
    keys: Array  #: (h, n_kv, d_k) projected keys
    values: Array  #: (h, n_kv, d_v) projected values
    head_outputs: Array  #: (h, n_q, d_v) each head's weights @ values
    concat: Array  #: (n_q, h*d_v) head i in columns i*d_v:(i+1)*d_v
    empty_rows: NDArray[np.bool_]  #: (h, n_q) True where a head's row got all-zero weights
    scale: float  #: as in AttentionResult
    temperature: float  #: as in AttentionResult
    scoring: str  #: as in AttentionResult
    normalization: str  #: as in AttentionResult


# ----------------------------------------------------------------------------- input checks


def _common_float_dtype(*arrays: np.ndarray) -> np.dtype[Any]:
    """The dtype to compute in: the floating inputs' common type, float64 if none is floating.

    Only floating inputs vote, so an integer mask or index never up-casts float32 to float64.
    """
    floats = [a.dtype for a in arrays if np.issubdtype(a.dtype, np.floating)]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


def _check_name(name: str, valid: tuple[str, ...], what: str) -> None:
    if name not in valid:
        raise ValueError(f"unknown {what} {name!r}; valid names are {', '.join(valid)}")


def _check_temperature(temperature: float) -> float:
    t = float(temperature)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"temperature must be finite and > 0, got {temperature!r}")
    return t


def _check_mask(mask: ArrayLike | None, scores_shape: tuple[int, ...]) -> NDArray[np.bool_] | None:
    """Validate a boolean mask and broadcast it to the scores' shape."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        raise ValueError(f"mask must be boolean (True = may attend), got dtype {m.dtype}")
    try:
        return np.broadcast_to(m, scores_shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {m.shape} does not broadcast to the scores' shape {scores_shape}"
        ) from None


# ----------------------------------------------------------------------------- the one path


def _attend_batched(
    q: Array, k: Array, v: Array, scoring: str, normalization: str, temperature: float,
    mask: ArrayLike | None, params: dict[str, Any],
) -> AttentionResult:
    """Attention on stacked heads: q (..., n_q, d_k), k (..., n_kv, d_k), v (..., n_kv, d_v).

    Inputs already share one floating dtype; names and temperature are already checked.
    The arrays of the result keep their batch axes and are not yet read-only.
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries have width d_k={q.shape[-1]} but keys have {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{k.shape[-2]} keys but {v.shape[-2]} values; need one value per key")
    # Dividing by sqrt(d_k) keeps the variance of q.k near 1 whatever the width, so softmax
    # does not saturate into a one-hot row just because vectors are long (Vaswani et al. 2017).
    scale = float(np.sqrt(q.shape[-1])) if scoring == "scaled_dot" else 1.0
    fast = q.ndim == k.ndim == v.ndim == 3 and q.shape[0] == k.shape[0] == v.shape[0] \
        and scoring in ("dot", "scaled_dot") and normalization == "softmax"
    if fast:
        # The common multi-head case, (h, n, d_k): the same steps as below, written into arrays
        # allocated once, with groups of heads on a few threads (NumPy drops the GIL in them).
        allowed = _check_mask(mask, (q.shape[0], q.shape[1], k.shape[1]))
        return _softmax_over_heads(q, k, v, scoring, scale, temperature, allowed)
    scores = SCORERS[scoring](q, k, params)  # (..., n_q, n_kv)
    with np.errstate(over="ignore"):  # a logit past the largest float is +inf, handled below
        logits = scores / (scale * temperature)  # (..., n_q, n_kv)
    allowed = _check_mask(mask, logits.shape)
    if allowed is not None:  # in place: logits is this call's own fresh array
        np.copyto(logits, -np.inf, where=~allowed)
    weights, empty_rows = NORMALIZERS[normalization](logits)  # (..., n_q, n_kv), (..., n_q)
    output = weights @ v  # (..., n_q, n_kv) @ (..., n_kv, d_v) -> (..., n_q, d_v)
    return AttentionResult(scores, logits, weights, output, empty_rows, scale, temperature,
                           scoring, normalization)


def _softmax_over_heads(
    q: Array, k: Array, v: Array, scoring: str, scale: float, temperature: float,
    allowed: NDArray[np.bool_] | None,
) -> AttentionResult:
    """``_attend_batched`` for dot/scaled_dot + softmax on q (h, n_q, d_k), k (h, n_kv, d_k),
    v (h, n_kv, d_v): each group of heads writes its slice of the results, so nothing is
    concatenated afterwards and every head's numbers equal the one-thread path's."""
    h, n_q, n_kv = q.shape[0], q.shape[1], k.shape[1]
    scores = np.empty((h, n_q, n_kv), q.dtype)  # (h, n_q, n_kv)
    logits = np.empty_like(scores)
    weights = np.empty_like(scores)
    output = np.empty((h, n_q, v.shape[2]), q.dtype)  # (h, n_q, d_v)
    empty = np.empty((h, n_q), np.bool_)

    def steps(heads: slice) -> None:
        np.matmul(q[heads], np.swapaxes(k[heads], -1, -2), out=scores[heads])  # (., n_q, n_kv)
        with np.errstate(over="ignore"):  # errstate is per thread: a logit past the float max
            np.divide(scores[heads], scale * temperature, out=logits[heads])  # is +inf: softmax
        if allowed is not None:
            np.copyto(logits[heads], -np.inf, where=~allowed[heads])
        empty[heads] = softmax_into(logits[heads], weights[heads])
        np.matmul(weights[heads], v[heads], out=output[heads])  # (., n_q, d_v)

    over_head_groups(steps, h, n_q, n_kv)
    return AttentionResult(scores, logits, weights, output, empty, scale, temperature, scoring,
                           "softmax")


def _prepare(
    scoring: str, normalization: str, temperature: float, *arrays: ArrayLike | None
) -> tuple[float, list[Any]]:
    """Check the option names and temperature; cast the arrays to one floating dtype."""
    _check_name(scoring, SCORINGS, "scoring")
    _check_name(normalization, NORMALIZATIONS, "normalization")
    t = _check_temperature(temperature)
    given = [np.asarray(a) for a in arrays if a is not None]
    dtype = _common_float_dtype(*given)
    return t, [None if a is None else np.asarray(a).astype(dtype, copy=False) for a in arrays]


def _frozen(a: Any) -> Any:
    """A read-only array, so results handed to views cannot be changed behind their back."""
    # Views (and 0-d scalars from indexing) are copied so no writable base is left behind.
    if not isinstance(a, np.ndarray) or not a.flags.owndata:
        a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def attend(
    queries: ArrayLike, keys: ArrayLike, values: ArrayLike, *, scoring: str = "scaled_dot",
    normalization: str = "softmax", temperature: float = 1.0, mask: ArrayLike | None = None,
    **scoring_params: Any,
) -> AttentionResult:
    """Single-head attention of queries over keys, returning every intermediate.

    Parameters
    ----------
    queries : (n_q, d_k) or (d_k,) array
        One query per row; a 1-D query gives 1-D results.
    keys : (n_kv, d_k) array
    values : (n_kv, d_v) array
    scoring : {"dot", "scaled_dot", "cosine", "general", "additive"}
        How a query and a key become a score. ``general`` needs ``W`` (d_k, d_k);
        ``additive`` needs ``W1`` (d_a, d_k), ``W2`` (d_a, d_k) and ``v`` (d_a,).
    normalization : {"softmax", "relu", "sparsemax"}
        How a row of logits becomes weights.
    temperature : float
        Divides the logits before normalisation; finite and > 0.
    mask : bool array broadcastable to (n_q, n_kv), optional
        True where a query may attend a key; masked logits become ``-inf``.
    **scoring_params
        Parameters of the scoring function (see ``scoring``).

    Returns
    -------
    AttentionResult

    Raises
    ------
    ValueError
        Unknown names, bad temperature, mismatched shapes, missing or ill-shaped parameters.
    """
    t, (q, k, v) = _prepare(scoring, normalization, temperature, queries, keys, values)
    single = q.ndim == 1
    if single:
        q = q[None, :]  # (d_k,) -> (1, d_k)
    if q.ndim != 2 or k.ndim != 2 or v.ndim != 2:
        raise ValueError(
            "expected queries (n_q, d_k) or (d_k,), keys (n_kv, d_k), values (n_kv, d_v); "
            f"got shapes {q.shape}, {k.shape}, {v.shape}"
        )
    with single_blas_thread():  # small products: see core/maths/threads.py
        steps = _attend_batched(q, k, v, scoring, normalization, t, mask, scoring_params)
    pick = (lambda a: a[0]) if single else (lambda a: a)  # (1, ...) -> (...) for a 1-D query
    fields = ("scores", "logits", "weights", "output", "empty_rows")
    return replace(steps, **{name: _frozen(pick(getattr(steps, name))) for name in fields})


# ----------------------------------------------------------------------------- multi-head


def _split_heads(x: Array, n_heads: int) -> Array:
    """(n, h*d_head) -> (h, n, d_head): head i takes columns ``i*d_head:(i+1)*d_head``.

    Copied to contiguous memory once: the batched ``q @ k.T`` of strided per-head views falls
    back from BLAS to a slow generic loop (about 20x slower at n=512, h=12).
    """
    n, width = x.shape
    return np.ascontiguousarray(x.reshape(n, n_heads, width // n_heads).transpose(1, 0, 2))


def _check_projections(
    d_model: int, w_q: Array, w_k: Array, w_v: Array, w_o: Array | None, n_heads: int
) -> None:
    if not 1 <= n_heads:
        raise ValueError(f"n_heads must be >= 1, got {n_heads}")
    for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v)):
        if w.ndim != 2 or w.shape[0] != d_model or w.shape[1] % n_heads:
            raise ValueError(
                f"{name} has shape {w.shape}; expected ({d_model}, {n_heads}*d_head) "
                f"(d_model rows, a multiple of n_heads={n_heads} columns)"
            )
    if w_k.shape != w_q.shape:
        raise ValueError(f"w_k has shape {w_k.shape}; expected {w_q.shape}, the shape of w_q")
    if w_o is not None and (w_o.ndim != 2 or w_o.shape[0] != w_v.shape[1]):
        raise ValueError(
            f"w_o has shape {w_o.shape}; expected ({w_v.shape[1]}, d_out) (rows = w_v columns)"
        )


def _project(x: Array, w: Array, b: Array | None) -> Array:
    """x @ w, plus the bias in place when there is one: (n, d) @ (d, m) + (m,) -> (n, m)."""
    out = x @ w
    if b is not None:
        out += b
    return out


def _check_biases(
    w_q: Array, w_v: Array, w_o: Array | None, *biases: Array | None
) -> None:
    widths = {"b_q": w_q.shape[1], "b_k": w_q.shape[1], "b_v": w_v.shape[1],
              "b_o": None if w_o is None else w_o.shape[1]}
    for (name, width), b in zip(widths.items(), biases, strict=True):
        if b is None:
            continue
        if width is None:
            raise ValueError("b_o is given but w_o is None: an output bias needs W_O")
        if b.shape != (width,):
            raise ValueError(f"{name} has shape {b.shape}; expected ({width},)")


def multi_head_attention(
    x_q: ArrayLike, x_kv: ArrayLike, w_q: ArrayLike, w_k: ArrayLike, w_v: ArrayLike,
    w_o: ArrayLike | None, n_heads: int, *, scoring: str = "scaled_dot",
    normalization: str = "softmax", temperature: float = 1.0, mask: ArrayLike | None = None,
    b_q: ArrayLike | None = None, b_k: ArrayLike | None = None, b_v: ArrayLike | None = None,
    b_o: ArrayLike | None = None, **scoring_params: Any,
) -> MultiHeadResult:
    """Multi-head attention: project, attend per head (all heads at once), concatenate, project.

    Static word vectors use no biases; a trained transformer's projections have them
    (``Q = X @ W_Q + b_Q``), and its layers call this same function.

    Parameters
    ----------
    x_q : (n_q, d) or (d,) array
        Query-side inputs (rows are tokens); 1-D means a single query.
    x_kv : (n_kv, d) array
        Key/value-side inputs.
    w_q, w_k : (d, h*d_k) arrays
        Projections; head i uses columns ``i*d_k:(i+1)*d_k``.
    w_v : (d, h*d_v) array
    w_o : (h*d_v, d_out) array or None
        Output projection; None means the output is the concatenation itself.
    n_heads : int
        h, the number of heads.
    b_q, b_k : (h*d_k,) arrays, optional
        Biases added to the projected queries and keys (``queries`` and ``keys`` include them).
    b_v : (h*d_v,) array, optional
    b_o : (d_out,) array, optional
        Bias of the output projection; needs ``w_o``.
    scoring, normalization, temperature, mask, **scoring_params
        As in `attend`; ``mask`` may be (n_q, n_kv) for all heads or (h, n_q, n_kv);
        ``general``'s ``W`` may be (d_k, d_k) shared or (h, d_k, d_k) per head.

    Returns
    -------
    MultiHeadResult
    """
    options = (scoring, normalization, temperature)
    t, (xq, xkv, wq, wk, wv, o, bq, bk, bv, bo) = _prepare(
        *options, x_q, x_kv, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o)
    single = xq.ndim == 1
    if single:
        xq = xq[None, :]  # (d,) -> (1, d)
    if xq.ndim != 2 or xkv.ndim != 2 or xq.shape[1] != xkv.shape[1]:
        raise ValueError(f"expected x_q (n_q, d) and x_kv (n_kv, d); got {xq.shape}, {xkv.shape}")
    _check_projections(xq.shape[1], wq, wk, wv, o, n_heads)
    _check_biases(wq, wv, o, bq, bk, bv, bo)

    with single_blas_thread():  # many small products: see core/maths/threads.py
        q = _split_heads(_project(xq, wq, bq), n_heads)  # (n_q, d) @ (d, h*d_k) -> (h, n_q, d_k)
        k = _split_heads(_project(xkv, wk, bk), n_heads)  # (n_kv, d) -> (h, n_kv, d_k)
        v = _split_heads(_project(xkv, wv, bv), n_heads)  # (n_kv, d) -> (h, n_kv, d_v)
        steps = _attend_batched(q, k, v, scoring, normalization, t, mask, scoring_params)
        n_q = xq.shape[0]
        concat = steps.output.transpose(1, 0, 2).reshape(n_q, -1)  # (h, n_q, d_v) -> (n_q, h*d_v)
        output = concat if o is None else _project(concat, o, bo)  # (n_q, h*d_v) -> (n_q, d_out)

    per_head = dict(weights=steps.weights, scores=steps.scores, logits=steps.logits, queries=q,
                    head_outputs=steps.output, empty_rows=steps.empty_rows)
    # A 1-D query drops the n_q axis: axis 1 of per-head arrays, axis 0 of concat and output.
    return MultiHeadResult(
        **{name: _frozen(a[:, 0] if single else a) for name, a in per_head.items()},
        output=_frozen(output[0] if single else output),
        concat=_frozen(concat[0] if single else concat),
        keys=_frozen(k), values=_frozen(v), scale=steps.scale, temperature=t,
        scoring=scoring, normalization=normalization,
    )
