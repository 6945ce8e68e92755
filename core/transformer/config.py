"""A checkpoint's ``config.json``: the few numbers the forward pass needs, checked.

Two architectures are supported, both as Hugging Face writes them:

bert  an encoder: token + position + token-type embeddings, LayerNorm; per layer attention,
      residual, LayerNorm (after), GELU feed-forward, residual, LayerNorm (after).
gpt2  a decoder: token + position embeddings; per layer LayerNorm (before) and causal attention,
      residual, LayerNorm (before) and GELU feed-forward, residual; a final LayerNorm.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from core.transformer.errors import ModelError, read_bounded

__all__ = ["ARCHITECTURES", "ACTIVATIONS", "TransformerConfig", "read_config"]

ARCHITECTURES = ("bert", "gpt2")
ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
"""``gelu`` is the exact erf form; ``gelu_new`` and ``gelu_pytorch_tanh`` the tanh form."""

MAX_CONFIG_BYTES = 1 << 20
# Far above any released BERT or GPT-2 (GPT-2 XL: 48 layers x 25 heads, width 1600), low enough
# that a mistyped config cannot ask for terabytes before the weights are read.
_LIMITS = {"n_layers": 256, "n_heads": 256, "d_model": 16384, "d_ff": 65536,
           "vocab_size": 1 << 20, "max_positions": 1 << 16, "type_vocab_size": 64}


@dataclass(frozen=True)
class TransformerConfig:
    """What the forward pass needs to know about a checkpoint."""

    architecture: str  #: "bert" or "gpt2"
    n_layers: int  #: L
    n_heads: int  #: H, heads per layer
    d_model: int  #: width of the hidden states
    d_ff: int  #: width of the feed-forward layer
    vocab_size: int
    max_positions: int  #: tokens the model can take, special tokens included
    type_vocab_size: int  #: token types (segments): 2 for BERT, 0 for GPT-2
    layer_norm_eps: float
    activation: str  #: one of ACTIVATIONS
    name: str  #: shown to the person, e.g. "all-MiniLM-L6-v2"

    @property
    def d_k(self) -> int:
        """Width of one head's queries, keys and values."""
        return self.d_model // self.n_heads

    @property
    def summary(self) -> str:
        """E.g. ``all-MiniLM-L6-v2 · 6 layers x 12 heads · 384 dims``."""
        return f"{self.name} · {self.n_layers} layers x {self.n_heads} heads · {self.d_model} dims"


# What each number is, in the person's words (the messages name the key and say what it means).
_MEANINGS = {"n_layers": "the number of layers", "n_heads": "the heads per layer",
             "d_model": "the hidden size", "d_ff": "the feed-forward width",
             "vocab_size": "the vocabulary size", "max_positions": "the most tokens it takes",
             "type_vocab_size": "the number of token types"}
_NAMES = {"bert": "BERT", "gpt2": "GPT-2"}


def _int(raw: dict[str, Any], key: str, what: str, path: str, *, low: int = 1) -> int:
    value = raw.get(key)
    meaning = _MEANINGS[what]
    if value is None:
        needs = _NAMES.get(str(raw.get("model_type")), "the model")
        raise ModelError(f"{path} has no '{key}' ({needs} needs it: {meaning})")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"{path}: '{key}' ({meaning}) must be a whole number, got {value!r}")
    if not low <= value <= _LIMITS[what]:
        raise ModelError(f"{path}: '{key}' = {value} is out of range for {meaning} "
                         f"({low}..{_LIMITS[what]})")
    return value


def _eps(raw: dict[str, Any], key: str, default: float, path: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or not 0 < value < 1:
        raise ModelError(f"{path}: '{key}' must be a small positive number, got {value!r}")
    return float(value)


def _bert(raw: dict[str, Any], path: str, name: str) -> TransformerConfig:
    if raw.get("position_embedding_type", "absolute") != "absolute":
        raise ModelError(f"{path}: position_embedding_type "
                         f"{raw['position_embedding_type']!r} is not supported (only 'absolute')")
    return TransformerConfig(
        "bert", _int(raw, "num_hidden_layers", "n_layers", path),
        _int(raw, "num_attention_heads", "n_heads", path),
        _int(raw, "hidden_size", "d_model", path),
        _int(raw, "intermediate_size", "d_ff", path), _int(raw, "vocab_size", "vocab_size", path),
        _int(raw, "max_position_embeddings", "max_positions", path),
        _int(raw, "type_vocab_size", "type_vocab_size", path, low=0),
        _eps(raw, "layer_norm_eps", 1e-12, path), _activation(raw, "hidden_act", "gelu", path),
        name)


def _gpt2(raw: dict[str, Any], path: str, name: str) -> TransformerConfig:
    for flag in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"):
        if raw.get(flag):
            raise ModelError(f"{path}: '{flag}' is set; this GPT-2 variant is not supported")
    if raw.get("scale_attn_weights", True) is not True:
        raise ModelError(f"{path}: 'scale_attn_weights' false is not supported")
    d_model = _int(raw, "n_embd", "d_model", path)
    inner = raw.get("n_inner")
    d_ff = 4 * d_model if inner is None else _int(raw, "n_inner", "d_ff", path)
    return TransformerConfig(
        "gpt2", _int(raw, "n_layer", "n_layers", path), _int(raw, "n_head", "n_heads", path),
        d_model, d_ff, _int(raw, "vocab_size", "vocab_size", path),
        _int(raw, "n_positions", "max_positions", path), 0,
        _eps(raw, "layer_norm_epsilon", 1e-5, path),
        _activation(raw, "activation_function", "gelu_new", path), name)


def _activation(raw: dict[str, Any], key: str, default: str, path: str) -> str:
    value = raw.get(key, default)
    if value not in ACTIVATIONS:
        raise ModelError(f"{path}: activation {key} = {value!r} is not supported; "
                         f"supported: {', '.join(ACTIVATIONS)}")
    return str(value)


def read_config(path: str | os.PathLike[str], name: str | None = None) -> TransformerConfig:
    """Read and check a ``config.json``.

    Raises
    ------
    ModelError
        The file is missing, too large, not JSON, of another architecture, or its sizes are
        absurd or inconsistent (d_model not a multiple of the heads).
    """
    path = os.fspath(path)
    text = read_bounded(path, MAX_CONFIG_BYTES, "config.json")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ModelError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise ModelError(f"{path}: expected a JSON object of settings")
    model_type = raw.get("model_type")
    label = name or os.path.basename(os.path.dirname(os.path.abspath(path))) or "model"
    if model_type == "bert":
        config = _bert(raw, path, label)
    elif model_type == "gpt2":
        config = _gpt2(raw, path, label)
    else:
        raise ModelError(f"{path}: model_type {model_type!r} is not supported; supported: "
                         f"{', '.join(ARCHITECTURES)} (BERT encoders and GPT-2 decoders)")
    if config.d_model % config.n_heads:
        raise ModelError(f"{path}: hidden size {config.d_model} is not a multiple of "
                         f"{config.n_heads} heads")
    return config
