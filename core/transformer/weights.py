"""A checkpoint's tensors by what they do, in the core's row-vector layout, checked.

The core multiplies row vectors on the left (``Q = X @ W_Q``), so every projection here is
(d_in, d_out). torch's ``Linear`` (BERT) stores (d_out, d_in): its weights are transposed once,
into memory (`SafetensorsFile.load` says why not a view of the map). GPT-2's ``Conv1D`` already
stores (d_in, d_out), and its ``c_attn`` holds W_Q, W_K and W_V side by side: three column
blocks of width d_model.

Shape legend: d model width, f feed-forward width, V vocabulary, P positions, T token types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.transformer.config import TransformerConfig
from core.transformer.errors import ModelError
from core.transformer.safetensors_file import SafetensorsFile

__all__ = ["LayerWeights", "ModelWeights", "read_weights"]

Array = np.ndarray


@dataclass(frozen=True, eq=False)
class LayerWeights:
    """One transformer layer. BERT normalises after each residual, GPT-2 before each block."""

    w_q: Array  #: (d, d), head h in columns h*d_k:(h+1)*d_k
    w_k: Array  #: (d, d)
    w_v: Array  #: (d, d)
    w_o: Array  #: (d, d), head h's output uses rows h*d_k:(h+1)*d_k
    b_q: Array  #: (d,)
    b_k: Array  #: (d,)
    b_v: Array  #: (d,)
    b_o: Array  #: (d,)
    ln_attention: tuple[Array, Array]  #: (gain (d,), bias (d,)): BERT after, GPT-2 before
    w_in: Array  #: (d, f) feed-forward in
    b_in: Array  #: (f,)
    w_out: Array  #: (f, d) feed-forward out
    b_out: Array  #: (d,)
    ln_feed_forward: tuple[Array, Array]  #: (d,), (d,)

    def astype(self, dtype: np.dtype) -> LayerWeights:
        """The same weights in ``dtype`` (no copy when they already are)."""
        def cast(a: Array) -> Array:
            return a.astype(dtype, copy=False)

        cast_fields: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            cast_fields[f.name] = tuple(cast(a) for a in value) if isinstance(value, tuple) \
                else cast(value)
        return LayerWeights(**cast_fields)


@dataclass(frozen=True, eq=False)
class ModelWeights:
    """Every weight the forward pass uses."""

    token_embeddings: Array  #: (V, d)
    position_embeddings: Array  #: (P, d)
    type_embeddings: Array | None  #: (T, d) for BERT, None for GPT-2
    ln_embeddings: tuple[Array, Array] | None  #: BERT's LayerNorm of the embeddings
    layers: tuple[LayerWeights, ...]
    ln_final: tuple[Array, Array] | None  #: GPT-2's LayerNorm after the last layer


class _Reader:
    """Fetch named tensors with their expected shapes, naming the file on any mismatch."""

    def __init__(self, file: SafetensorsFile, prefix: str) -> None:
        self.file, self.prefix = file, prefix

    def _checked(self, name: str, shape: tuple[int, ...]) -> str:
        full = self.prefix + name
        if full not in self.file.names:
            raise ModelError(f"{self.file.path}: tensor {full} is missing")
        found = self.file.shape(full)
        if found != shape:
            raise ModelError(f"{self.file.path}: tensor {full} has shape {found}; expected {shape}")
        return full

    def mapped(self, name: str, shape: tuple[int, ...]) -> Array:
        """A memory-mapped tensor: for the embeddings, of which a run reads a few rows."""
        return self.file.array(self._checked(name, shape))

    def get(self, name: str, shape: tuple[int, ...], transpose: bool = False) -> Array:
        """A tensor in memory, C-contiguous (transposed when asked): for the layer weights."""
        return self.file.load(self._checked(name, shape), transpose)

    def norm(self, name: str, d: int) -> tuple[Array, Array]:
        return self.get(f"{name}.weight", (d,)), self.get(f"{name}.bias", (d,))


def _prefix(file: SafetensorsFile, marker: str, candidates: tuple[str, ...]) -> str:
    """Checkpoints of the bare model have no prefix; those saved with a task head do."""
    for prefix in candidates:
        if prefix + marker in file.names:
            return prefix
    raise ModelError(f"{file.path}: no tensor {marker} (nor with a prefix "
                     f"{', '.join(p for p in candidates if p)}): not a checkpoint of this "
                     "architecture")


def _bert_layer(r: _Reader, i: int, c: TransformerConfig) -> LayerWeights:
    d, f = c.d_model, c.d_ff
    p = f"encoder.layer.{i}."

    def linear(name: str, d_in: int, d_out: int) -> tuple[Array, Array]:
        w = r.get(f"{p}{name}.weight", (d_out, d_in), transpose=True)  # (out, in) -> (in, out)
        return w, r.get(f"{p}{name}.bias", (d_out,))

    (w_q, b_q), (w_k, b_k), (w_v, b_v) = (linear(f"attention.self.{n}", d, d)
                                          for n in ("query", "key", "value"))
    w_o, b_o = linear("attention.output.dense", d, d)
    w_in, b_in = linear("intermediate.dense", d, f)
    w_out, b_out = linear("output.dense", f, d)
    return LayerWeights(w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o,
                        r.norm(f"{p}attention.output.LayerNorm", d), w_in, b_in, w_out, b_out,
                        r.norm(f"{p}output.LayerNorm", d))


def _gpt2_layer(r: _Reader, i: int, c: TransformerConfig) -> LayerWeights:
    d, f = c.d_model, c.d_ff
    p = f"h.{i}."
    qkv = r.get(f"{p}attn.c_attn.weight", (d, 3 * d))  # (d, 3d): Q | K | V column blocks
    b_qkv = r.get(f"{p}attn.c_attn.bias", (3 * d,))
    w_q, w_k, w_v = (np.ascontiguousarray(qkv[:, j * d:(j + 1) * d]) for j in range(3))  # (d, d)
    b_q, b_k, b_v = (b_qkv[j * d:(j + 1) * d] for j in range(3))  # each (d,)
    return LayerWeights(
        w_q, w_k, w_v, r.get(f"{p}attn.c_proj.weight", (d, d)), b_q, b_k, b_v,
        r.get(f"{p}attn.c_proj.bias", (d,)), r.norm(f"{p}ln_1", d),
        r.get(f"{p}mlp.c_fc.weight", (d, f)), r.get(f"{p}mlp.c_fc.bias", (f,)),
        r.get(f"{p}mlp.c_proj.weight", (f, d)), r.get(f"{p}mlp.c_proj.bias", (d,)),
        r.norm(f"{p}ln_2", d))


def read_weights(file: SafetensorsFile, config: TransformerConfig) -> ModelWeights:
    """Every weight of ``config``'s architecture from ``file``, shapes checked, all finite.

    Raises
    ------
    ModelError
        A tensor is missing, has another shape or a non-floating dtype, or holds NaN or inf.
    """
    c = config
    if c.architecture == "bert":
        r = _Reader(file, _prefix(file, "embeddings.word_embeddings.weight", ("", "bert.")))
        weights = ModelWeights(
            r.mapped("embeddings.word_embeddings.weight", (c.vocab_size, c.d_model)),
            r.mapped("embeddings.position_embeddings.weight", (c.max_positions, c.d_model)),
            r.mapped("embeddings.token_type_embeddings.weight", (c.type_vocab_size, c.d_model)),
            r.norm("embeddings.LayerNorm", c.d_model),
            tuple(_bert_layer(r, i, c) for i in range(c.n_layers)), None)
    else:
        r = _Reader(file, _prefix(file, "wte.weight", ("", "transformer.")))
        weights = ModelWeights(
            r.mapped("wte.weight", (c.vocab_size, c.d_model)),
            r.mapped("wpe.weight", (c.max_positions, c.d_model)), None, None,
            tuple(_gpt2_layer(r, i, c) for i in range(c.n_layers)), r.norm("ln_f", c.d_model))
    _check_finite(file.path, weights)
    file.release_pages()
    return weights


def _check_finite(path: str, weights: ModelWeights) -> None:
    named: list[tuple[str, Array]] = [("token embeddings", weights.token_embeddings),
                                      ("position embeddings", weights.position_embeddings)]
    if weights.type_embeddings is not None:
        named.append(("token-type embeddings", weights.type_embeddings))
    for i, layer in enumerate(weights.layers):
        named += [(f"layer {i + 1} {field}", getattr(layer, field)) for field in
                  ("w_q", "w_k", "w_v", "w_o", "w_in", "w_out", "b_q", "b_k", "b_v", "b_o",
                   "b_in", "b_out")]
        named += [(f"layer {i + 1} LayerNorm", a) for a in (*layer.ln_attention,
                                                            *layer.ln_feed_forward)]
    for norm in (weights.ln_embeddings, weights.ln_final):
        named += [("LayerNorm", a) for a in norm or ()]
    for what, a in named:
        if not np.isfinite(a).all():
            raise ModelError(f"{path}: the {what} weights hold NaN or infinite values")
