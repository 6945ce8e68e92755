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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.maths.attention import MultiHeadResult, causal_mask, multi_head_attention
from core.maths.threads import single_blas_thread
from core.transformer.config import TransformerConfig
from core.transformer.layers import ACTIVATION_FUNCTIONS, layer_norm
from core.transformer.weights import LayerWeights, ModelWeights

__all__ = ["ForwardPass", "attention_of_layer", "forward"]

Array = NDArray[np.floating[Any]]


@dataclass(frozen=True, eq=False)
class ForwardPass:
    """Everything one forward pass computed that the views show."""

    attentions: Array  #: (L, H, n, n) softmax weights, rows sum to 1
    hidden_states: Array  #: (L + 1, n, d); [0] the embedding output, [L] the final output
    attention_inputs: Array  #: (L, n, d) what each layer's attention read (GPT-2: after ln_1)
    queries: Array  #: (L, H, n, d_k) x W_Q + b_Q, before the 1/sqrt(d_k) scale
    keys: Array  #: (L, H, n, d_k)
    values: Array  #: (L, H, n, d_k)


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

    ``options`` are the core's (scoring, normalization, temperature, mask); GPT-2's causal mask
    is added unless a mask is given.
    """
    if config.architecture == "gpt2" and options.get("mask") is None:
        options["mask"] = causal_mask(x.shape[0])  # (n, n), True on and below the diagonal
    return multi_head_attention(
        x, x, layer.w_q, layer.w_k, layer.w_v, layer.w_o, config.n_heads,
        b_q=layer.b_q, b_k=layer.b_k, b_v=layer.b_v, b_o=layer.b_o, **options)


def _feed_forward(layer: LayerWeights, config: TransformerConfig, x: Array) -> Array:
    """(n, d) -> (n, f) -> (n, d): activation(x W_in + b_in) W_out + b_out."""
    hidden = x @ layer.w_in  # (n, d) @ (d, f) -> (n, f)
    hidden += layer.b_in
    hidden = ACTIVATION_FUNCTIONS[config.activation](hidden)
    out = hidden @ layer.w_out  # (n, f) @ (f, d) -> (n, d)
    out += layer.b_out
    return out


def forward(weights: ModelWeights, config: TransformerConfig, ids: np.ndarray,
            type_ids: np.ndarray, dtype: np.dtype,
            layers: tuple[LayerWeights, ...] | None = None) -> ForwardPass:
    """Run the model on token ids (n,) and keep what every layer's attention did.

    ``layers`` are the layer weights already cast to ``dtype`` (the model caches them).
    """
    with single_blas_thread():  # one BLAS thread: see core/maths/threads.py
        return _forward(weights, config, ids, type_ids, dtype,
                        weights.layers if layers is None else layers)


def _forward(weights: ModelWeights, config: TransformerConfig, ids: np.ndarray,
             type_ids: np.ndarray, dtype: np.dtype, layers: tuple[LayerWeights, ...]
             ) -> ForwardPass:
    c = config
    eps = c.layer_norm_eps
    x = _embed(weights, c, ids, type_ids, dtype)  # (n, d)
    hidden, inputs, results = [x], [], []
    for layer in layers:
        a_in = x if c.architecture == "bert" else layer_norm(x, *layer.ln_attention, eps)
        attention = attention_of_layer(layer, c, a_in)  # output (n, d), weights (H, n, n)
        if c.architecture == "bert":
            x = layer_norm(x + attention.output, *layer.ln_attention, eps)
            x = layer_norm(x + _feed_forward(layer, c, x), *layer.ln_feed_forward, eps)
        else:
            x = x + attention.output
            x = x + _feed_forward(layer, c, layer_norm(x, *layer.ln_feed_forward, eps))
        hidden.append(x)
        inputs.append(a_in)
        results.append(attention)
    if weights.ln_final is not None:  # GPT-2: the last hidden state is after ln_f (as in HF)
        hidden[-1] = layer_norm(x, *weights.ln_final, eps)
    return ForwardPass(
        attentions=np.stack([r.weights for r in results]),  # (L, H, n, n)
        hidden_states=np.stack(hidden),  # (L + 1, n, d)
        attention_inputs=np.stack(inputs),  # (L, n, d)
        queries=np.stack([r.queries for r in results]),  # (L, H, n, d_k)
        keys=np.stack([r.keys for r in results]),
        values=np.stack([r.values for r in results]))
