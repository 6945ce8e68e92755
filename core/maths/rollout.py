"""Attention across layers: rollout and flow (Abnar & Zuidema 2020, "Quantifying Attention Flow
in Transformers").

One layer's attention says how each token mixes the layer's inputs; across layers those mixes
compose. Both methods first turn each layer into one row-stochastic matrix, the layer graph::

    reduced = mean over kept heads of attentions[l]             # (n, n)
    graph   = residual * I + (1 - residual) * reduced           # (n, n), rows renormalised

(the residual connection carries each token's own representation past the attention, so half
of it, by default, stays where it was). Then

- rollout multiplies them: R_1 = graph_1, R_l = graph_l @ R_(l-1); row i of R_l is how much of
  token i's representation after layer l comes from each input token;
- flow treats the graphs as a network of pipes and asks how much can flow from input token j
  to token i after layer l at most (a maximum flow), every pair on its own.

Shape legend
------------
L   layers (all of the model's, or the first ``layer + 1`` for flow)
h   heads per layer
n   tokens (rows = query tokens, as in ``TransformerRun.attentions``)
V   nodes of one pair's flow network

Inputs are ``(L, h, n, n)`` attentions whose rows sum to 1 (GPT-2's causal rows included: their
upper triangle is exactly 0, and stays exactly 0 in the rollout and the flow).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # SciPy's sparse package costs ~0.2 s to import: only flow needs it
    from scipy.sparse import csr_array

__all__ = ["CAVEAT", "FLOW_SCALE", "HEAD_REDUCTIONS", "MAX_FLOW_TOKENS", "FlowTooLarge",
           "attention_flow", "attention_rollout", "flow_note", "layer_graphs"]

Array = NDArray[np.floating[Any]]
Capacities = NDArray[np.int64]

CAVEAT = ("Attention weights show where each layer looked, not why the model decided: "
          "they are not an explanation.")
MAX_FLOW_TOKENS = 64  #: flow costs n^2 maximum flows of ~L*n^2 edges each: past 64 it is slow
FLOW_SCALE = 10**6  #: capacities are multiplied by this and rounded (SciPy wants integers)
FLOW_SCALES = (10**3, 10**7)  #: the scales allowed; 10**7 keeps every sum inside int32
HEAD_REDUCTIONS = ("mean", "max")  #: mean is the paper's; max keeps each pair's strongest head
ROW_SUM_TOLERANCE = 1e-3  #: float32 softmax rows sum to 1 within ~1e-6; 1e-3 flags real errors


class FlowTooLarge(ValueError):
    """The text has more tokens than attention flow is computed for (MAX_FLOW_TOKENS)."""


# ----------------------------------------------------------------------------- input checks


def _where(index: tuple[int, ...]) -> str:
    layer, head, row = (int(i) for i in index[:3])
    return f"layer {layer}, head {head}, row {row}"


def _check_attentions(attentions: ArrayLike) -> Array:
    """The attentions as a floating array (L, h, n, n), or a ValueError saying what is wrong."""
    att = np.asarray(attentions)
    if att.dtype == np.bool_ or not np.issubdtype(att.dtype, np.number) \
            or np.issubdtype(att.dtype, np.complexfloating):
        raise ValueError(f"attentions must be real numbers, got dtype {att.dtype}")
    if att.ndim != 4 or att.shape[-1] != att.shape[-2] or 0 in att.shape:
        raise ValueError("attentions must have shape (layers, heads, n, n) with at least one "
                         f"layer, head and token, got shape {att.shape}")
    att = att if np.issubdtype(att.dtype, np.floating) else att.astype(np.float64)
    bad = ~np.isfinite(att)
    if bad.any():
        raise ValueError(f"attentions contain NaN or infinity (first at "
                         f"{_where(np.argwhere(bad)[0])})")
    if (att < 0).any():
        first = np.argwhere(att < 0)[0]
        raise ValueError(f"attention weights must be >= 0; {_where(first)} has "
                         f"{att[tuple(first)]:g}")
    sums = att.sum(axis=-1)  # (L, h, n)
    off = np.abs(sums - 1) > ROW_SUM_TOLERANCE
    if off.any():
        first = np.argwhere(off)[0]
        raise ValueError("each attention row (one query token) must sum to 1; "
                         f"{_where(first)} sums to {sums[tuple(first)]:g}")
    return att


def _check_heads(heads: ArrayLike | None, shape: tuple[int, int]) -> NDArray[np.bool_] | None:
    if heads is None:
        return None
    keep = np.asarray(heads)
    if keep.dtype != np.bool_ or keep.shape != shape:
        raise ValueError(f"heads must be a boolean (layers, heads) = {shape} mask of the heads "
                         f"kept, got dtype {keep.dtype} and shape {keep.shape}")
    return keep


def _check_residual(residual: float) -> float:
    r = float(residual)
    if not 0.0 <= r <= 1.0:  # also False for NaN
        raise ValueError(f"residual must be between 0 and 1, got {residual!r}")
    return r


# ----------------------------------------------------------------------------- the layer graphs


def _reduce_heads(att: Array, keep: NDArray[np.bool_] | None, how: str) -> Array:
    """One (n, n) matrix per layer from its kept heads: (L, h, n, n) -> (L, n, n).

    A layer whose every head is ablated mixes nothing: its matrix is the identity, so only the
    residual stream carries each token through it.
    """
    if how not in HEAD_REDUCTIONS:
        raise ValueError(f"unknown head_reduce {how!r}; valid names are "
                         f"{', '.join(HEAD_REDUCTIONS)}")
    if keep is None:
        return att.mean(axis=1) if how == "mean" else att.max(axis=1)  # (L, n, n)
    # A left-out head's weights become 0: nothing to a sum, and, weights being >= 0, never
    # more than a kept head's in a max.
    kept = np.where(keep[:, :, None, None], att, 0)  # (L, h, n, n)
    counts = keep.sum(axis=1)  # (L,)
    if how == "mean":
        divisors = np.maximum(counts, 1).astype(att.dtype)[:, None, None]  # (L, 1, 1)
        reduced = kept.sum(axis=1) / divisors  # (L, n, n)
    else:
        reduced = kept.max(axis=1)  # (L, n, n)
    reduced[counts == 0] = np.eye(att.shape[-1], dtype=att.dtype)
    return reduced


def layer_graphs(attentions: ArrayLike, *, residual: float = 0.5, head_reduce: str = "mean",
                 heads: ArrayLike | None = None) -> Array:
    """Each layer's residual-augmented attention, the matrices rollout multiplies and flow uses.

    Parameters
    ----------
    attentions : array_like, (L, h, n, n)
        Per layer and head, rows = query tokens, each row summing to 1.
    residual : float
        Weight of the identity (the residual connection) in ``residual*I + (1-residual)*A``;
        0.5 is the paper's ``(A + I) / 2``.
    head_reduce : {"mean", "max"}
        How a layer's kept heads become one matrix.
    heads : array_like of bool, (L, h), optional
        True for the heads kept (an ablation leaves heads out); all heads when omitted.

    Returns
    -------
    ndarray, (L, n, n)
        Row-stochastic: rows renormalised to sum to 1 (a no-op up to rounding for the mean;
        needed for the max, whose rows sum to more than 1). Float32 in gives float32 out.

    Raises
    ------
    ValueError
        A shape that is not (L, h, n, n), NaN or infinity, a negative weight, a row not summing
        to 1, a residual outside [0, 1], an unknown ``head_reduce``, a bad ``heads`` mask.
    """
    att = _check_attentions(attentions)  # (L, h, n, n)
    keep = _check_heads(heads, att.shape[:2])  # (L, h)
    r = _check_residual(residual)
    reduced = _reduce_heads(att, keep, head_reduce)  # (L, n, n)
    eye = np.eye(att.shape[-1], dtype=att.dtype)  # (n, n)
    graphs = r * eye + (1 - r) * reduced  # (L, n, n)
    # Never a division by zero: a row of the reduced heads sums to ~1 or more (the mean or the
    # max of rows summing to 1), so a row of the mix sums to ~1 or more too.
    return graphs / graphs.sum(axis=-1, keepdims=True)  # (L, n, n)


# ----------------------------------------------------------------------------- rollout


def attention_rollout(attentions: ArrayLike, *, residual: float = 0.5, head_reduce: str = "mean",
                      heads: ArrayLike | None = None) -> Array:
    """Attention rollout up to every layer: R_1 = G_1, R_l = G_l @ R_(l-1).

    ``G_l`` is layer l's matrix from `layer_graphs` (the residual-augmented, renormalised head
    mean), layers counted from 1 here: ``result[l - 1]`` is R_l.

    Parameters
    ----------
    attentions, residual, head_reduce, heads
        As in `layer_graphs`.

    Returns
    -------
    ndarray, (L, n, n)
        ``[k]`` is the rollout through the first k + 1 layers, so a view can stop at any layer.
        Row i of ``[k]`` says how much of token i's representation after those layers comes
        from each input token. Every row sums to 1, and a causal model's upper triangle stays
        exactly 0 (a product of lower-triangular matrices is lower-triangular).

    Raises
    ------
    ValueError
        As `layer_graphs`.
    """
    graphs = layer_graphs(attentions, residual=residual, head_reduce=head_reduce, heads=heads)
    rollout = np.empty_like(graphs)  # (L, n, n)
    rollout[0] = graphs[0]
    for layer in range(1, len(graphs)):
        # Token i after layer l is sum_k G_l[i, k] * (token k after layer l - 1).
        rollout[layer] = graphs[layer] @ rollout[layer - 1]  # (n, n)
    return rollout


# ----------------------------------------------------------------------------- flow


def flow_note(scale: int = FLOW_SCALE) -> str:
    """What a view should say next to `attention_flow`'s result computed at ``scale``."""
    return (f"Attention flow: SciPy's maximum_flow needs integer capacities, so each was "
            f"multiplied by {scale:,} and rounded (off by at most {0.5 / scale:.1g}); each "
            f"output token's flows were then divided by their sum, as the paper's code does.")


def _check_flow_options(n: int, layers: int, layer: int | None, scale: int,
                        rows: Sequence[int] | None) -> tuple[int, int, NDArray[np.intp]]:
    """The last layer's index, the scale and the output rows, all checked."""
    if n > MAX_FLOW_TOKENS:
        raise FlowTooLarge(f"attention flow is computed for up to {MAX_FLOW_TOKENS} tokens; "
                           f"this text has {n}")
    last = layers - 1 if layer is None else _integer(layer)
    if last is None or not -layers <= last < layers:
        raise ValueError(f"layer {layer!r} does not exist: the model has {layers} layers "
                         f"(0 to {layers - 1})")
    checked = _integer(scale)
    if checked is None or not FLOW_SCALES[0] <= checked <= FLOW_SCALES[1]:
        raise ValueError(f"scale must be an integer from {FLOW_SCALES[0]:,} to "
                         f"{FLOW_SCALES[1]:,}, got {scale!r}")
    picked = np.arange(n) if rows is None else np.asarray(rows)
    if picked.ndim != 1 or not np.issubdtype(picked.dtype, np.integer) \
            or not ((picked >= 0) & (picked < n)).all():
        raise ValueError(f"rows must be a list of token indices from 0 to {n - 1}, "
                         f"got {np.asarray(rows).tolist()}")
    return last % layers, checked, picked.astype(np.intp)


def _integer(value: Any) -> int | None:
    """``value`` as an int if it is one (a NumPy integer too, but not a bool), else None."""
    if isinstance(value, bool | np.bool_):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _on_paths(links: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which nodes some pair's flow can use: ``fed[l][j, m]``, node (l, m) can be reached from
    input node (0, j); ``feeds[l][i, m]``, node (l, m) can reach output node (L, i).

    ``links[l - 1][i, j]`` is the edge (l - 1, j) -> (l, i). Both results are (L + 1, n, n).
    A node off every path between a pair carries none of its flow, so leaving it out of the
    pair's network changes nothing; in a causal model that is most of them (from input j only
    tokens >= j are reached, and output i is fed only by tokens <= i).
    """
    layers, n = links.shape[:2]
    hops = links.astype(np.float64)  # (L, n, n); products count paths, only "> 0" is kept
    fed = np.zeros((layers + 1, n, n), dtype=bool)  # (L + 1, n, n)
    feeds = np.zeros((layers + 1, n, n), dtype=bool)  # (L + 1, n, n)
    fed[0] = feeds[layers] = np.eye(n, dtype=bool)
    for layer in range(1, layers + 1):
        fed[layer] = fed[layer - 1] @ hops[layer - 1].T > 0  # (n, n)
    for layer in range(layers, 0, -1):
        feeds[layer - 1] = feeds[layer] @ hops[layer - 1] > 0  # (n, n)
    return fed, feeds


def _pair_network(caps: Capacities, levels: list[NDArray[np.intp]]) -> csr_array:
    """One pair's network as CSR: node 0 the source (0, j), the last node the sink (L, i).

    ``levels[l]`` are the tokens kept at layer l, numbered in that order; every edge goes from
    one level to the next, so each CSR row is one row of a block of ``caps`` transposed.
    """
    from scipy.sparse import csr_array

    starts = np.cumsum([0] + [len(level) for level in levels])  # (L + 2,)
    data, indices, counts = [], [], []
    for layer in range(1, len(levels)):  # the edges (layer - 1, p) -> (layer, m)
        block = caps[layer - 1][np.ix_(levels[layer], levels[layer - 1])].T  # (|p|, |m|)
        nonzero = block > 0  # a zero capacity is no edge
        targets = starts[layer] + np.arange(len(levels[layer]))  # (|m|,)
        data.append(block[nonzero])
        indices.append(np.broadcast_to(targets, block.shape)[nonzero])
        counts.append(nonzero.sum(axis=1))  # (|p|,)
    counts.append(np.zeros(1, dtype=np.intp))  # the sink has no edge out
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))])  # (V + 1,)
    size = int(starts[-1])
    return csr_array((np.concatenate(data).astype(np.int32), np.concatenate(indices), indptr),
                     shape=(size, size))


def _max_flows(caps: Capacities, rows: NDArray[np.intp]) -> NDArray[np.float64]:
    """Max-flow value from input node (0, j) to output node (L, i): (len(rows), n) integers."""
    layers, n = caps.shape[:2]
    if layers == 1:  # one edge per pair
        return caps[0][rows].astype(np.float64)  # (r, n)
    if layers == 2:
        # The paths j -> k -> i through different middle tokens k share no edge, so the max
        # flow is the sum over k of each path's narrowest edge: no max-flow call needed.
        narrowest = np.minimum(caps[1][rows][:, :, None], caps[0][None, :, :])  # (r, n_k, n_j)
        return narrowest.sum(axis=1).astype(np.float64)  # (r, n)
    from scipy.sparse.csgraph import maximum_flow

    fed, feeds = _on_paths(caps > 0)  # (L + 1, n, n) each
    flows = np.zeros((len(rows), n))  # (r, n)
    for r, i in enumerate(rows):
        for j in np.flatnonzero(feeds[0][i]):  # an input that cannot reach i gets no flow
            middle = [np.flatnonzero(fed[layer][j] & feeds[layer][i])
                      for layer in range(1, layers)]
            network = _pair_network(caps, [np.array([j]), *middle, np.array([i])])
            flows[r, j] = maximum_flow(network, 0, network.shape[0] - 1).flow_value
    return flows


def attention_flow(attentions: ArrayLike, *, residual: float = 0.5, layer: int | None = None,
                   scale: int = FLOW_SCALE, head_reduce: str = "mean",
                   heads: ArrayLike | None = None, rows: Sequence[int] | None = None) -> Array:
    """Attention flow up to ``layer``: each pair's maximum flow through the layer graphs.

    The network is the paper's: a node (l, t) per layer l = 0..L and token t, and an edge
    from (l - 1, j) to (l, i) with capacity ``G_l[i, j]``, the same `layer_graphs` that
    rollout multiplies. The value for (output token i, input token j) is the maximum flow
    between (0, j) and (L, i), each pair on its own (pairs compete for no capacity), and each
    output row is then divided by its sum, as the authors' ``compute_flows`` does. Their code
    points the edges down, from (L, i) to (0, j); reversing every edge and swapping source and
    sink keeps every cut's capacity, so the values are the same (and SciPy's Dinic runs ~10%
    faster on the upward networks). Each pair's network keeps only the nodes on some path
    between its two ends, which changes no flow either.

    SciPy's ``maximum_flow`` needs integer capacities: they are ``round(G * scale)``, each off
    by at most ``0.5 / scale`` (`flow_note` says so for a view). The flows are exact for those.

    Cost: n**2 maximum flows (one and two layers have closed forms). At 64 tokens and 6 layers
    the whole matrix takes seconds (``benchmarks/rollout_bench.py``) and one row tens of
    milliseconds: compute it off the UI thread, or only the ``rows`` shown. One flow per output
    token from a super-source joined to every input would be n flows, but not this quantity:
    all inputs would then share the network, so their flows add up to at most 1 and their
    split is not unique, where here each pair has the whole network to itself.

    Parameters
    ----------
    attentions, residual, head_reduce, heads
        As in `layer_graphs`.
    layer : int, optional
        The last layer included, indexed like the first axis of `attention_rollout`'s result
        (negative counts from the end); the last layer when omitted.
    scale : int
        From 10**3 to 10**7 (beyond that the sums could leave SciPy's int32).
    rows : sequence of int, optional
        Only these output tokens (rows of the result), e.g. the one a view shows: each row
        costs n maximum flows, and the whole matrix n**2.

    Returns
    -------
    ndarray, (n, n) or (len(rows), n)
        Float64, rows = output tokens after ``layer``, columns = input tokens; each row sums
        to 1. A causal model's upper triangle is exactly 0.

    Raises
    ------
    FlowTooLarge
        More than MAX_FLOW_TOKENS tokens (a ValueError).
    ValueError
        As `layer_graphs`; a layer the model does not have; a scale outside 10**3..10**7;
        a row that is not a token index.
    """
    att = _check_attentions(attentions).astype(np.float64, copy=False)  # (L, h, n, n)
    keep = _check_heads(heads, att.shape[:2])  # (L, h)
    last, scale, picked = _check_flow_options(att.shape[-1], len(att), layer, scale, rows)
    graphs = layer_graphs(att[:last + 1], residual=residual, head_reduce=head_reduce,
                          heads=None if keep is None else keep[:last + 1])  # (L, n, n)
    caps = np.rint(graphs * scale).astype(np.int64)  # (L, n, n)
    flows = _max_flows(caps, picked)  # (r, n)
    totals = flows.sum(axis=1, keepdims=True)  # (r, 1)
    return np.divide(flows, totals, out=np.zeros_like(flows), where=totals > 0)  # (r, n)
