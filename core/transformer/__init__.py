"""Trained transformers (BERT encoders, GPT-2 decoders) run by the core's own attention.

No torch, no transformers, no network: weights are memory-mapped from ``model.safetensors``,
text is tokenised by Hugging Face's ``tokenizers``, and every layer's self-attention is
`core.maths.attention.multi_head_attention` with the checkpoint's biases.

The names below are imported on first use: the settings need only `interventions`, and static
word vectors should not pay for the rest (the zip, hash and tokenizer modules) at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.transformer.bundled import ATTRIBUTION, BUNDLED_NAME
    from core.transformer.config import TransformerConfig
    from core.transformer.errors import ModelError
    from core.transformer.interventions import ABLATIONS, Interventions, LayerChange
    from core.transformer.model import TransformerModel, TransformerRun, load_model

_WHERE = {
    "ATTRIBUTION": "bundled", "BUNDLED_NAME": "bundled", "TransformerConfig": "config",
    "ModelError": "errors", "ABLATIONS": "interventions", "Interventions": "interventions",
    "LayerChange": "interventions", "TransformerModel": "model", "TransformerRun": "model",
    "load_model": "model",
}

__all__ = ["ABLATIONS", "ATTRIBUTION", "BUNDLED_NAME", "Interventions", "LayerChange",
           "ModelError", "TransformerConfig", "TransformerModel", "TransformerRun", "load_model"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'core.transformer' has no attribute {name!r}")
    return getattr(importlib.import_module(f"core.transformer.{_WHERE[name]}"), name)
