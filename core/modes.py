"""The inputs of sentence mode and toy mode, and the worked examples (lessons) as settings.

The pipeline's word mode embeds the sentence's words; the two other modes only change where the
rows come from, and then share every later step (heads, attention, masks, the latent map):

sentences  each context sentence is one key row, the mean of its word vectors
           (`core.lessons.sentence_vectors`); the query sentence is one more row, like an outside
           query word. A context sentence can be the query too (``query_index``).
toy        the rows are a hand-typed table (`core.settings.ToySpec`): tokens, 2- to 8-dimensional
           vectors, W_Q, W_K, W_V and optionally W_O. Sentence mode can take its word vectors
           (and W matrices) from the toy table too: the "I drink water" plane lesson does.

W_O of a toy table without one: when W_V has d columns (h*d_v = d) the output is the heads'
concatenation itself (W_O = I, and the computation panel says "no W_O"); otherwise
W_O = pinv(W_V), which maps a value back to the input vector that would produce it (exactly, when
W_V has full row rank), so the output can be drawn on the latent map next to the tokens.

The toy's columns are split into ``n_heads`` heads when ``n_heads`` divides them; otherwise the
toy has one head (with a warning).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from core.heads import HeadProjections
from core.lessons import DRINK_PLANE, Lesson, lesson, sentence_vectors
from core.projection import Projection2D
from core.settings import Settings, ToySpec
from core.tokens import EmbeddedSentence, QueryChoice, Token
from core.toy import ToyInputs

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

__all__ = ["SENTENCE_LESSONS", "identity_projection", "lesson_settings", "lesson_toy",
           "sentence_query", "sentence_rows", "toy_heads", "toy_keyed_vectors",
           "toy_output_is_concat", "toy_query", "toy_rows", "uses_toy"]

SENTENCE_LESSONS: dict[str, dict[str, tuple[float, float]]] = {
    "drink_water_cosine": DRINK_PLANE, "drink_water_dot": DRINK_PLANE}
"""Lessons that run in sentence mode, with the word table their sentences are made of."""


def uses_toy(s: Settings) -> bool:
    """True when the rows or the word vectors come from the toy table."""
    return s.toy is not None and (s.mode == "toy" or (s.mode == "sentences" and
                                                      s.sentences_use_toy))


# ----------------------------------------------------------------------------- rows


def _units(texts: Sequence[str], vectors: np.ndarray, source: str = "vocab") -> EmbeddedSentence:
    """Rows that are not words of a typed sentence (toy tokens, sentences) as an
    `EmbeddedSentence`; character offsets are those in the texts joined by " | "."""
    tokens, start = [], 0
    for text in texts:
        tokens.append(Token(text, start, start + len(text), text, source))
        start += len(text) + 3
    return EmbeddedSentence(tuple(tokens), vectors, ())


def toy_rows(toy: ToyInputs) -> EmbeddedSentence:
    """The toy tokens and their vectors X (n, d)."""
    return _units(toy.tokens, toy.x)


def toy_query(s: Settings, toy: ToyInputs) -> QueryChoice:
    """The query token (by name, ``query_index`` for repeats), else the toy's outside query."""
    word = s.query.strip().lower()
    matches = [i for i, t in enumerate(toy.tokens) if t.lower() == word]
    if matches:
        position = s.query_index if s.query_index in matches else matches[0]
        return QueryChoice(toy.tokens[position], toy.x[position], position)
    spec = s.toy
    if spec is not None and spec.query is not None:
        return QueryChoice(spec.query_label, np.asarray(spec.query, np.float64), None)
    raise ValueError(f"the query {s.query!r} is not a toy token; click one of "
                     f"{', '.join(toy.tokens)}")


def toy_heads(toy: ToyInputs, n_heads: int) -> tuple[HeadProjections, list[str]]:
    """The toy's W matrices as heads: ``n_heads`` when it divides the columns, else one."""
    d, cols, v_cols = toy.d, toy.w_q.shape[1], toy.w_v.shape[1]
    h = n_heads if cols % n_heads == 0 and v_cols % n_heads == 0 else 1
    warnings = [] if h == n_heads else [
        f"{n_heads} heads do not divide W_Q's {cols} / W_V's {v_cols} columns: one head."]
    note = f"toy table: {h} head{'s' if h != 1 else ''} x d_k={cols // h}, d_v={v_cols // h}"
    w_o: np.ndarray
    if toy.w_o is not None:
        w_o = toy.w_o
    elif v_cols == d:
        w_o, note = np.eye(d), note + "; no W_O (output = the heads' concatenation)"
    else:
        w_o, note = np.linalg.pinv(toy.w_v), note + "; W_O = pinv(W_V) maps values back to X"
    heads = HeadProjections(toy.w_q, toy.w_k, toy.w_v, np.asarray(w_o, np.float64), h,
                            cols // h, v_cols // h, "toy", note)
    return heads, warnings


def toy_output_is_concat(s: Settings) -> bool:
    """True when the toy has no W_O and the output is the heads' concatenation (W_O = I)."""
    if not uses_toy(s) or s.toy is None or s.toy.w_o is not None:
        return False
    return len(s.toy.w_v[0]) == len(s.toy.x[0])


def toy_keyed_vectors(toy: ToyInputs) -> KeyedVectors:
    """A tiny gensim table of the toy tokens (the first row of a repeated token wins)."""
    from gensim.models import KeyedVectors  # imported lazily (PITFALLS 13)

    first = {t.lower(): i for i, t in reversed(list(enumerate(toy.tokens)))}
    kv = KeyedVectors(toy.d, dtype=np.float64)  # exact lesson numbers: not float32
    kv.add_vectors(list(first), np.array([toy.x[i] for i in first.values()], np.float64))
    return kv


def sentence_rows(sentences: Sequence[str], kv: KeyedVectors,
                  oov_policy: str) -> EmbeddedSentence:
    """Each context sentence as one row: the mean of its word vectors."""
    found = sentence_vectors([t for t in sentences if t.strip()], kv, oov_policy)
    if len(found.labels) == 0:
        raise ValueError("no context sentence has a word these vectors know: type sentences, "
                         "one per line")
    units = _units(found.labels, found.vectors)
    return EmbeddedSentence(units.tokens, units.vectors, found.warnings)


def sentence_query(s: Settings, rows: EmbeddedSentence, kv: KeyedVectors) -> QueryChoice:
    """Context sentence ``query_index`` when one is picked, else the query sentence's mean."""
    if s.query_index is not None and 0 <= s.query_index < len(rows.vectors):
        return QueryChoice(rows.labels[s.query_index], rows.vectors[s.query_index],
                           s.query_index)
    found = sentence_vectors([s.query_sentence], kv, s.oov_policy)
    if len(found.labels) == 0:
        raise ValueError(f"the query sentence {s.query_sentence!r} has no word these vectors "
                         "know")
    return QueryChoice(s.query_sentence, found.vectors[0], None)


def identity_projection(d: int) -> Projection2D | None:
    """Two-dimensional toy vectors are drawn as they are (no PCA); None for other widths."""
    if d != 2:
        return None
    return Projection2D(np.zeros(2), np.eye(2), ("dimension 0", "dimension 1"))


# ----------------------------------------------------------------------------- lessons


def _rows(m: Any) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in m)


def _value_projection(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A W_V with X @ W_V = values: c·I when the values are c·X, else least squares."""
    c = float(np.sum(x * values) / np.sum(x * x))
    if np.allclose(c * x, values, rtol=0, atol=1e-12):
        return c * np.eye(x.shape[1])
    return np.linalg.lstsq(x, values, rcond=None)[0]


def lesson_toy(item: Lesson) -> ToySpec:
    """A toy lesson's table: its inputs and W matrices (the identity where it has none)."""
    if item.id in SENTENCE_LESSONS:
        plane = SENTENCE_LESSONS[item.id]
        plain = _rows(np.eye(2))
        return ToySpec(tuple(plane), _rows(plane.values()), plain, plain, plain)
    assert item.inputs is not None, f"lesson {item.id!r} is not a toy lesson"
    x = np.asarray(item.inputs, np.float64)
    eye = np.eye(x.shape[1])
    w_q = eye if item.w_q is None else np.asarray(item.w_q, np.float64)
    w_k = eye if item.w_k is None else np.asarray(item.w_k, np.float64)
    w_v = eye if item.w_v is None else np.asarray(item.w_v, np.float64)
    if item.values is not None:
        w_v = _value_projection(x, np.asarray(item.values, np.float64))
    query, label = None, "query"
    if item.query is not None and not isinstance(item.query, int):
        query, label = tuple(float(v) for v in item.query), item.query_label or "query"
    return ToySpec(item.tokens, _rows(x), _rows(w_q), _rows(w_k), _rows(w_v),
                   None if item.w_o is None else _rows(item.w_o), query, label)


def lesson_settings(item: Lesson | str, base: Settings | None = None) -> Settings:
    """The settings that put a lesson's numbers on screen (keeping ``base``'s vector file)."""
    item = lesson(item) if isinstance(item, str) else item
    base = base if base is not None else Settings()
    keep = {"vectors_path": base.vectors_path, "vectors_format": base.vectors_format,
            "toy": base.toy}
    if item.settings is not None:
        return item.settings.updated(**keep)
    spec = lesson_toy(item)
    common = dict(keep, toy=spec, scoring=item.scoring, normalization=item.normalization,
                  temperature=item.temperature, n_heads=1, d_k=None, selected_head=None)
    if item.id in SENTENCE_LESSONS:
        return Settings(**common, mode="sentences", sentences_use_toy=True,  # type: ignore[arg-type]
                        context_sentences=tuple(item.tokens), query_sentence=item.query_label)
    if isinstance(item.query, int) or item.query is None:
        index = item.query or 0  # self-attention lessons show the first token's row
        return Settings(**common, mode="toy", query=item.tokens[index],  # type: ignore[arg-type]
                        query_index=index)
    return Settings(**common, mode="toy", query=spec.query_label)  # type: ignore[arg-type]
