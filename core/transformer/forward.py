"""The forward pass of a BERT encoder or a GPT-2 decoder, every layer's attention kept.

Shape legend
------------
L     layers
H     heads per layer
n     tokens (special tokens included)
d     model width (d_model)
d_k   head width, d / H
f     feed-forward width

Per layer, BERT (LayerNorm after each residual, as in the original Transformer)::

    r = attention(x)                    # (n, d), the core's multi_head_attention with biases
    x = LayerNorm(x + r)                # (n, d)
    x = LayerNorm(x + FFN(x))           # FFN(x) = GELU(x W_in + b_in) W_out + b_out

GPT-2 (LayerNorm before each block, causal mask, a final LayerNorm)::

    x = x + attention(LayerNorm(x))     # token i attends to tokens 0..i only
    x = x + FFN(LayerNorm(x))

Interventions (`core.transformer.interventions`) change what a layer's attention does; the
layers before the first changed one are taken from an earlier pass of the same tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.maths.attention import MultiHeadResult, causal_mask, multi_head_attention
from core.maths.threads import in_column_halves, single_blas_thread
from core.transformer.config import TransformerConfig
from core.transformer.interventions import Interventions
from core.transformer.layers import ACTIVATION_FUNCTIONS, layer_norm
from core.transformer.weights import LayerWeights, ModelWeights

__all__ = ["ForwardPass", "ablated_result", "attention_of_layer", "forward"]

Array = NDArray[np.floating[Any]]
NO_INTERVENTIONS = Interventions()
KEEP_RESULTS_TOKENS = 128
"""Up to this many tokens the pass keeps each layer's whole attention result (scores, logits,
head outputs: what the step panel shows), so showing a layer computes nothing again; a longer
text keeps weights, q, k and v only, since its scores and logits would add 2 x L x H x n x n
floats (226 MB for MiniLM at 512 tokens), and a shown layer is recomputed from its input."""
SPLIT_TOKENS = 64
"""Up to this many tokens (a short text, which the window runs on its own thread while it
waits) the feed-forward products are split over two threads; a longer text runs in the
background and leaves the other core to the window."""


@dataclass(frozen=True, eq=False)
class ForwardPass:
    """Everything one forward pass computed that the views show, layer by layer.

    The per-layer tuples are what the pass made (no copies); the stacked arrays are made from
    them on first use, as transformers hands back a tuple of per-layer tensors.
    """

    ids: np.ndarray  #: (n,) the token ids this pass ran on
    layer_attentions: tuple[Array, ...]  #: L x (H, n, n) softmax weights, rows sum to 1
    layer_hidden: tuple[Array, ...]  #: (L + 1) x (n, d); [0] the embeddings, [L] the output
    layer_inputs: tuple[Array, ...]  #: L x (n, d) what each attention read (GPT-2: after ln_1)
    layer_qkv: tuple[tuple[Array, Array, Array], ...]  #: L x (q, k, v), each (H, n, d_k)
    block_output: Array  #: (n, d) the last layer's output (GPT-2: before the final LayerNorm)
    #: L x the layer's attention with every intermediate, up to KEEP_RESULTS_TOKENS, else None;
    #: with ablated heads, as the layer used it (see ablated_result)
    layer_results: tuple[MultiHeadResult | None, ...] = ()

    @cached_property
    def attentions(self) -> Array:
        """(L, H, n, n)."""
        return _stacked(self.layer_attentions)

    @cached_property
    def hidden_states(self) -> Array:
        """(L + 1, n, d)."""
        return _stacked(self.layer_hidden)

    @cached_property
    def attention_inputs(self) -> Array:
        """(L, n, d)."""
        return _stacked(self.layer_inputs)

    @cached_property
    def queries(self) -> Array:
        """(L, H, n, d_k) x W_Q + b_Q, before the 1/sqrt(d_k) scale."""
        return _stacked([q for q, _, _ in self.layer_qkv])

    @cached_property
    def keys(self) -> Array:
        """(L, H, n, d_k)."""
        return _stacked([k for _, k, _ in self.layer_qkv])

    @cached_property
    def values(self) -> Array:
        """(L, H, n, d_k)."""
        return _stacked([v for _, _, v in self.layer_qkv])


def _stacked(arrays: Any) -> Array:
    out = np.stack(arrays)
    out.flags.writeable = False
    return out


def _embed(weights: ModelWeights, config: TransformerConfig, ids: np.ndarray,
           type_ids: np.ndarray, dtype: np.dtype) -> Array:
    """Token + position (+ token-type) embeddings: (n,) ids -> (n, d); BERT normalises them."""
    n = ids.shape[0]
    x = weights.token_embeddings[ids].astype(dtype)  # (n, d), a fresh array
    x += weights.position_embeddings[:n]  # positions 0..n-1
    if weights.type_embeddings is not None:
        x += weights.type_embeddings[type_ids]
    if weights.ln_embeddings is not None:
        x = layer_norm(x, *weights.ln_embeddings, config.layer_norm_eps)
    return x


def attention_of_layer(layer: LayerWeights, config: TransformerConfig, x: Array,
                       **options: Any) -> MultiHeadResult:
    """One layer's multi-head self-attention over its input x (n, d), every intermediate kept.

    ``options`` are the core's (scoring, normalization, temperature, mask); without a ``mask``
    entry GPT-2 gets its causal mask.
    """
    if "mask" not in options and config.architecture == "gpt2":
        options["mask"] = causal_mask(x.shape[0])  # (n, n), True on and below the diagonal
    return multi_head_attention(
        x, x, layer.w_q, layer.w_k, layer.w_v, layer.w_o, config.n_heads,
        b_q=layer.b_q, b_k=layer.b_k, b_v=layer.b_v, b_o=layer.b_o, **options)


def ablated_result(layer: LayerWeights, result: MultiHeadResult, heads: list[int],
                   mode: str) -> MultiHeadResult:
    """``result`` as the layer used it with ``heads`` ablated: their blocks of ``concat`` zeroed
    or set to their token mean, and ``output`` = concat W_O + b_O (n, d). The weights and the
    head outputs stay what the heads computed (ablation removes a head's output, not its
    pattern). The step panel shows this same result (core.model_pipeline)."""
    concat = np.array(result.concat)  # (n, H*d_k), a writable copy
    d_k = result.head_outputs.shape[-1]
    for h in heads:
        block = concat[:, h * d_k:(h + 1) * d_k]  # (n, d_k), a view
        block[...] = block.mean(axis=0) if mode == "mean" else 0.0
    out = concat @ layer.w_o  # (n, H*d_k) @ (H*d_k, d) -> (n, d)
    out += layer.b_o
    concat.flags.writeable = out.flags.writeable = False
    return replace(result, concat=concat, output=out)


def _feed_forward(layer: LayerWeights, config: TransformerConfig, x: Array) -> Array:
    """(n, d) -> (n, f) -> (n, d): activation(x W_in + b_in) W_out + b_out."""
    product = in_column_halves if x.shape[0] <= SPLIT_TOKENS else np.matmul
    hidden = product(x, layer.w_in)  # (n, d) @ (d, f) -> (n, f)
    hidden += layer.b_in
    hidden = ACTIVATION_FUNCTIONS[config.activation](hidden)
    out = product(hidden, layer.w_out)  # (n, f) @ (f, d) -> (n, d)
    out += layer.b_out
    return out


def _layer(layer: LayerWeights, index: int, config: TransformerConfig, x: Array,
           interventions: Interventions) -> tuple[Array, Array, MultiHeadResult]:
    """One layer: (input for attention, output, the attention's result as the layer used it:
    ablated heads' outputs replaced), the first two (n, d)."""
    eps = config.layer_norm_eps
    a_in = x if config.architecture == "bert" else layer_norm(x, *layer.ln_attention, eps)
    options = interventions.attention_options(index, config, x.shape[0])
    attention = attention_of_layer(layer, config, a_in, **options)  # weights (H, n, n)
    ablated = interventions.heads_ablated_in(index)
    if ablated:  # what the layer adds is the output without these heads'
        attention = ablated_result(layer, attention, ablated, interventions.ablation)
    r = attention.output  # (n, d)
    if config.architecture == "bert":
        x = layer_norm(x + r, *layer.ln_attention, eps)
        return a_in, layer_norm(x + _feed_forward(layer, config, x), *layer.ln_feed_forward,
                                eps), attention
    x = x + r
    return a_in, x + _feed_forward(layer, config, layer_norm(x, *layer.ln_feed_forward, eps)), \
        attention


def forward(weights: ModelWeights, config: TransformerConfig, ids: np.ndarray,
            type_ids: np.ndarray, dtype: np.dtype, layers: tuple[LayerWeights, ...],
            interventions: Interventions = NO_INTERVENTIONS,
            reuse: ForwardPass | None = None) -> ForwardPass:
    """Run the model on token ids (n,) and keep what every layer's attention did.

    ``layers`` are the layer weights already cast to ``dtype``. ``reuse`` is an earlier pass
    of the same ids and dtype without interventions: the layers before the first changed one
    are taken from it instead of being computed again.
    """
    first = interventions.first_layer(config)
    start = 0
    if reuse is not None and np.array_equal(reuse.ids, ids) and \
            reuse.layer_hidden[0].dtype == dtype:
        start = len(layers) if first is None else first
    with single_blas_thread():  # one BLAS thread: see core/maths/threads.py
        if start == len(layers) and reuse is not None:
            return reuse
        return _forward_from(start, reuse, weights, config, ids, type_ids, dtype, layers,
                             interventions)


def _forward_from(start: int, reuse: ForwardPass | None, weights: ModelWeights,
                  config: TransformerConfig, ids: np.ndarray, type_ids: np.ndarray,
                  dtype: np.dtype, layers: tuple[LayerWeights, ...],
                  interventions: Interventions) -> ForwardPass:
    if start and reuse is not None:
        hidden, inputs = list(reuse.layer_hidden[:start + 1]), list(reuse.layer_inputs[:start])
        attentions, qkv = list(reuse.layer_attentions[:start]), list(reuse.layer_qkv[:start])
        results = list(reuse.layer_results[:start])
    else:
        hidden = [_embed(weights, config, ids, type_ids, dtype)]
        inputs, attentions, qkv, results = [], [], [], []
    keep = ids.shape[0] <= KEEP_RESULTS_TOKENS
    x = hidden[-1]
    for index in range(start, len(layers)):
        a_in, x, attention = _layer(layers[index], index, config, x, interventions)
        hidden.append(x)
        inputs.append(a_in)
        attentions.append(attention.weights)
        qkv.append((attention.queries, attention.keys, attention.values))
        results.append(attention if keep else None)
    if weights.ln_final is not None:  # GPT-2: the last hidden state is after ln_f (as in HF)
        hidden[-1] = layer_norm(x, *weights.ln_final, config.layer_norm_eps)
    return ForwardPass(ids, tuple(attentions), tuple(hidden), tuple(inputs), tuple(qkv), x,
                       tuple(results))
