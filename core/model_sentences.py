"""Sentence mode with a trained model: each sentence is the model's sentence embedding.

The static sentence mode (`core.inputs.sentence_rows`) makes a sentence the mean of its word
vectors. With a trained encoder such as all-MiniLM-L6-v2 a sentence is what sentence-transformers
makes of it: the whole sentence through every layer, the mean of the last hidden states over
every token ([CLS] and [SEP] included), scaled to unit length
(`core.transformer.analysis.sentence_embedding`). The rows and the query then go through the
same attention as static sentences (identity heads, the person's scoring, normalisation and
temperature), so cosine scoring shows exactly the cosine similarities sentence-transformers
reports.

Each sentence needs its own forward pass; they are memoised per model and text (the last
`CACHE_SIZE`), so typing in one sentence of the list re-runs only that sentence.

Shapes: m sentences, d model width.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import numpy as np

from core.settings import Settings
from core.transformer import ModelError, TransformerModel
from core.transformer.analysis import sentence_embedding
from core.vectors.tokens import EmbeddedSentence, QueryChoice, Token

__all__ = ["CACHE_SIZE", "ModelSentence", "model_sentence", "sentence_query_from_model",
           "sentence_rows_from_model"]

CACHE_SIZE = 256
"""Sentence embeddings kept per model (a few hundred sentences of 384 floats: ~0.4 MB)."""

_SEPARATOR = " | "  # the rows' character offsets are those in the sentences joined by this


@dataclass(frozen=True, eq=False)
class ModelSentence:
    """One text through the model, as sentence mode uses it."""

    text: str
    vector: np.ndarray | None  #: (d,) unit length, read-only; None: no token the model reads
    n_tokens: int  #: the tokens pooled, special tokens included
    warnings: tuple[str, ...]


_caches: WeakKeyDictionary[TransformerModel, OrderedDict[str, ModelSentence]] = \
    WeakKeyDictionary()  # a model that is closed takes its sentences with it
_lock = threading.Lock()  # the pipelines may run in a background thread


def model_sentence(model: TransformerModel, text: str) -> ModelSentence:
    """``text``'s sentence embedding by ``model`` (memoised: the last `CACHE_SIZE` texts)."""
    with _lock:
        cache = _caches.setdefault(model, OrderedDict())
        found = cache.get(text)
        if found is not None:
            cache.move_to_end(text)
            return found
    found = _embed(model, text)  # outside the lock: a forward pass takes milliseconds
    with _lock:
        cache[text] = found
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)  # the least recently used
    return found


def _embed(model: TransformerModel, text: str) -> ModelSentence:
    try:
        run = model.run(text)
    except ModelError:  # e.g. GPT-2 finds no token at all in the text
        return ModelSentence(text, None, 0, ())
    if not (~run.special).any():  # only [CLS] and [SEP]: nothing of the text was read
        return ModelSentence(text, None, len(run.tokens), ())
    vector = np.array(sentence_embedding(run))  # (n, d) -> (d,), its own copy
    vector.flags.writeable = False  # shared by every later call with this text
    return ModelSentence(text, vector, len(run.tokens),
                         tuple(f"{text!r}: {w}" for w in run.warnings))


def sentence_rows_from_model(model: TransformerModel,
                             sentences: Sequence[str]) -> EmbeddedSentence:
    """Each context sentence as one row: its sentence embedding by ``model``.

    Blank lines are ignored; a sentence with no token the model reads is left out with a
    warning, as the static sentence mode leaves out one with no known word.

    Returns
    -------
    EmbeddedSentence
        One `Token` per kept sentence (text and key = the sentence, offsets into the
        sentences joined by " | ") and ``vectors`` (m, d) in the model's dtype (float32).

    Raises
    ------
    ModelError
        No sentence has a token the model reads.
    """
    tokens: list[Token] = []
    rows: list[np.ndarray] = []
    warnings: list[str] = []
    start = 0
    for text in (t for t in sentences if t.strip()):
        found = model_sentence(model, text)
        warnings += found.warnings
        if found.vector is None:
            warnings.append(f"{text!r} has no token the model reads; left out")
            continue
        reason = (f"sentence embedding: the mean of its {found.n_tokens} tokens' last hidden "
                  "states (special tokens included), unit length")
        tokens.append(Token(text, start, start + len(text), text, "vocab", reason))
        rows.append(found.vector)
        start += len(text) + len(_SEPARATOR)
    if not rows:
        raise ModelError("no context sentence has a token the model reads: type sentences, "
                         "one per line")
    vectors = np.array(rows)  # (m, d)
    return EmbeddedSentence(tuple(tokens), vectors, tuple(warnings))


def sentence_query_from_model(model: TransformerModel, settings: Settings,
                              rows: EmbeddedSentence) -> QueryChoice:
    """Context sentence ``settings.query_index`` when one is picked (a row of ``rows``), else
    ``settings.query_sentence``'s embedding by ``model`` as an outside query row.

    Raises
    ------
    ModelError
        The query sentence has no token the model reads.
    """
    index = settings.query_index
    if index is not None and 0 <= index < len(rows.vectors):
        return QueryChoice(rows.labels[index], rows.vectors[index], index)
    found = model_sentence(model, settings.query_sentence)
    if found.vector is None:
        raise ModelError(f"the query sentence {settings.query_sentence!r} has no token the "
                         "model reads")
    return QueryChoice(settings.query_sentence, found.vector, None)
