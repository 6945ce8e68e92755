"""Trained transformers (BERT encoders, GPT-2 decoders) run by the core's own attention.

No torch, no transformers, no network: weights are memory-mapped from ``model.safetensors``,
text is tokenised by Hugging Face's ``tokenizers`` from ``tokenizer.json``, and every layer's
self-attention is `core.maths.attention.multi_head_attention` with the checkpoint's biases.
"""

from core.transformer.bundled import ATTRIBUTION, BUNDLED_NAME
from core.transformer.config import TransformerConfig
from core.transformer.errors import ModelError
from core.transformer.interventions import ABLATIONS, Interventions, LayerChange
from core.transformer.model import TransformerModel, TransformerRun, load_model

__all__ = ["ABLATIONS", "ATTRIBUTION", "BUNDLED_NAME", "Interventions", "LayerChange",
           "ModelError", "TransformerConfig", "TransformerModel", "TransformerRun", "load_model"]
