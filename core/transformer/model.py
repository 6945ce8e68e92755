"""A trained transformer, opened from a checkpoint folder, run by the core's own attention.

    from core.transformer import load_model
    model = load_model()                 # the bundled all-MiniLM-L6-v2
    run = model.run("The animal was not swimming in the sea because it was running.")
    run.attentions                       # (layers, heads, n, n)

A checkpoint folder is what Hugging Face writes: ``config.json``, ``model.safetensors`` and
``tokenizer.json`` (a snapshot folder of the Hugging Face cache works, and so does the model's
``models--owner--name`` folder there, which holds its snapshots).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.maths.attention import MultiHeadResult
from core.transformer.bundled import BUNDLED_NAME, Progress, bundled_folder
from core.transformer.config import TransformerConfig, read_config
from core.transformer.errors import ModelError
from core.transformer.forward import ForwardPass, attention_of_layer, forward
from core.transformer.interventions import Interventions
from core.transformer.safetensors_file import SafetensorsFile
from core.transformer.tokenizer import Encoding, TextTokenizer
from core.transformer.weights import LayerWeights, ModelWeights, read_weights

__all__ = ["TransformerModel", "TransformerRun", "load_model"]

Array = NDArray[np.floating[Any]]
DTYPES = ("float32", "float64")
_FILES = ("config.json", "tokenizer.json", "model.safetensors")
_CONVERT = ("python -c \"from transformers import AutoModel; m = AutoModel.from_pretrained('{0}');"
            " m.save_pretrained('{0}', safe_serialization=True)\" (where transformers and torch "
            "are installed)")


@dataclass(frozen=True, eq=False)
class TransformerRun:
    """One text through the model: the tokens and what every layer and head did."""

    text: str
    pair: str | None
    encoding: Encoding
    dtype: str
    interventions: Interventions
    passed: ForwardPass

    @property
    def tokens(self) -> list[str]:
        """The tokenizer's strings, special tokens included ([CLS] ... [SEP])."""
        return list(self.encoding.tokens)

    @property
    def token_texts(self) -> tuple[str, ...]:
        """Each token as the person typed it (accents and case kept); specials by name."""
        return self.encoding.texts

    @property
    def input_ids(self) -> np.ndarray:
        """(n,)"""
        return self.encoding.ids

    @property
    def type_ids(self) -> np.ndarray:
        """(n,) 0, or 1 for the second segment of a pair."""
        return self.encoding.type_ids

    @property
    def special(self) -> np.ndarray:
        """(n,) bool, True for [CLS], [SEP] and such."""
        return self.encoding.special

    @property
    def truncated(self) -> bool:
        """The text was longer than the positions and was cut."""
        return self.encoding.truncated

    @property
    def attentions(self) -> Array:
        """(layers, heads, n, n)"""
        return self.passed.attentions

    @property
    def hidden_states(self) -> Array:
        """(layers + 1, n, d_model); [0] is the embedding output."""
        return self.passed.hidden_states

    @property
    def attention_inputs(self) -> Array:
        """(layers, n, d_model) what each layer's attention read."""
        return self.passed.attention_inputs

    @property
    def queries(self) -> Array:
        """(layers, heads, n, d_k), biases included, before the 1/sqrt(d_k) scale."""
        return self.passed.queries

    @property
    def keys(self) -> Array:
        """(layers, heads, n, d_k)"""
        return self.passed.keys

    @property
    def values(self) -> Array:
        """(layers, heads, n, d_k)"""
        return self.passed.values

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the person should know about this run."""
        if self.truncated:
            return (f"the text was cut to {len(self.encoding.tokens)} tokens, the most the "
                    "model takes (special tokens included)",)
        return ()


class TransformerModel:
    """A checkpoint's config, weights (memory-mapped) and tokenizer."""

    def __init__(self, folder: Path, config: TransformerConfig, weights: ModelWeights,
                 tokenizer: TextTokenizer) -> None:
        self.folder, self.config, self.weights, self.tokenizer = folder, config, weights, tokenizer
        self._cast: dict[str, tuple[LayerWeights, ...]] = {"float32": weights.layers}

    def layers_in(self, dtype: str) -> tuple[LayerWeights, ...]:
        """The layer weights in ``dtype``, cast once and kept (float64 doubles their memory)."""
        if dtype not in self._cast:
            self._cast[dtype] = tuple(layer.astype(np.dtype(dtype)) for layer in
                                      self.weights.layers)
        return self._cast[dtype]

    def encode(self, text: str, pair: str | None = None,
               max_length: int | None = None) -> Encoding:
        """The tokens the model would see (no forward pass)."""
        return self.tokenizer.encode(text, pair, max_length)

    def run(self, text: str, pair: str | None = None, dtype: str = "float32",
            max_length: int | None = None, interventions: Interventions | None = None,
            reuse: TransformerRun | None = None) -> TransformerRun:
        """Tokenise ``text`` (with BERT's second segment ``pair``) and run every layer.

        ``interventions`` ablate heads or change layers; ``reuse``, a run of the same text
        without interventions, lends the layers before the first changed one.

        Raises
        ------
        ModelError
            An unknown dtype, a text with no tokens, a pair for GPT-2, a bad ``max_length``,
            an intervention on a layer or head the model does not have.
        """
        if dtype not in DTYPES:
            raise ModelError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        interventions = interventions or Interventions()
        interventions.check(self.config)
        enc = self.encode(text, pair, max_length)
        earlier = reuse.passed if reuse is not None and not reuse.interventions.ablated \
            and not reuse.interventions.changes and reuse.dtype == dtype else None
        passed = forward(self.weights, self.config, enc.ids, enc.type_ids, np.dtype(dtype),
                         self.layers_in(dtype), interventions, earlier)
        return TransformerRun(text, pair, enc, dtype, interventions, passed)

    def layer_attention(self, run: TransformerRun, layer: int, **options: Any) -> MultiHeadResult:
        """Layer ``layer`` (from 0) of ``run`` again, every intermediate kept (scores, logits,
        head outputs), for the step panel; ``options`` as the core's multi_head_attention (by
        default the run's own interventions on that layer)."""
        kept = run.passed.layer_results
        result = kept[layer] if not options and layer < len(kept) else None
        if result is not None:
            return result  # what the pass computed: the same numbers, not made again
        weights = self.layers_in(run.dtype)[layer]
        x = run.passed.layer_inputs[layer]  # (n, d)
        if not options:
            options = run.interventions.attention_options(layer, self.config, x.shape[0])
        return attention_of_layer(weights, self.config, x, **options)


def _checkpoint_folder(path: str | os.PathLike[str]) -> Path:
    """The folder holding the files: ``path`` itself, or the newest snapshot of a Hugging Face
    cache folder ``models--owner--name``."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise ModelError(f"{folder}: {what}; a checkpoint is a folder with {', '.join(_FILES)}")
    snapshots = folder / "snapshots"
    if not (folder / "config.json").exists() and snapshots.is_dir():
        found = sorted((p for p in snapshots.iterdir() if (p / "config.json").exists()),
                       key=lambda p: p.stat().st_mtime)
        if found:
            return found[-1]
    return folder


def _check_files(folder: Path) -> None:
    if not (folder / "model.safetensors").exists():
        if (folder / "model.safetensors.index.json").exists():
            raise ModelError(f"{folder}: the weights are split over several safetensors files; "
                             "only a single model.safetensors is supported")
        if (folder / "pytorch_model.bin").exists():
            raise ModelError(
                f"{folder}: holds only pytorch_model.bin, a pickle that can run any code when it "
                "is loaded, so it is never opened. Convert it to model.safetensors with "
                + _CONVERT.format(folder))
    for name in _FILES:
        if not (folder / name).exists():
            raise ModelError(f"{folder / name}: missing; a checkpoint folder needs "
                             f"{', '.join(_FILES)}")


def load_model(path: str | os.PathLike[str] | None = None, *, cache_dir: str | None = None,
               progress: Progress | None = None) -> TransformerModel:
    """Open the bundled all-MiniLM-L6-v2 (``path`` None) or a checkpoint folder.

    Parameters
    ----------
    path
        A checkpoint folder (config.json, model.safetensors, tokenizer.json); None for the
        bundled model, which is extracted into ``cache_dir`` on first use.
    cache_dir
        Where the bundled model is extracted; the per-user cache folder by default.
    progress
        Called with (bytes done, bytes in all) while the bundled model is extracted.

    Raises
    ------
    ModelError
        Any file missing, damaged, of an unsupported architecture or inconsistent; the message
        names the file and what is wrong.
    """
    if path is None:
        from core.vectors.cache import default_cache_dir

        folder = bundled_folder(cache_dir or default_cache_dir(), progress)
        name = BUNDLED_NAME
    else:
        folder = _checkpoint_folder(path)
        name = folder.name if folder.parent.name != "snapshots" else \
            folder.parent.parent.name.removeprefix("models--").replace("--", "/")
    _check_files(folder)
    config = read_config(folder / "config.json", name)
    tokenizer = TextTokenizer(str(folder / "tokenizer.json"), config)
    weights = read_weights(SafetensorsFile(str(folder / "model.safetensors")), config)
    return TransformerModel(folder, config, weights, tokenizer)
