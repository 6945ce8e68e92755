"""The rows of sentence mode and toy mode: where the vectors come from when they are not words.

The pipeline's word mode embeds the sentence's words; the two other modes only change where the
rows come from, and then share every later step (heads, attention, masks, the latent map):

sentences  each context sentence is one key row, the mean of its word vectors
           (`sentence_vectors`); the query sentence is one more row, like an outside
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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.maths.heads import HeadProjections
from core.settings import Settings
from core.toy import ToyInputs
from core.vectors.projection import Projection2D
from core.vectors.tokens import EmbeddedSentence, QueryChoice, Token, embed_sentence

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

__all__ = ["SentenceVectors", "computed_heads", "identity_projection", "sentence_query",
           "sentence_rows", "sentence_vectors", "toy_head_count", "toy_heads",
           "toy_keyed_vectors", "toy_output_is_concat", "toy_query", "toy_rows", "uses_toy"]



def uses_toy(s: Settings) -> bool:
    """True when the rows or the word vectors come from the toy table."""
    return s.toy is not None and (s.mode == "toy" or (s.mode == "sentences" and
                                                      s.sentences_use_toy))


# ----------------------------------------------------------------------------- rows


def _units(texts: Sequence[str], vectors: np.ndarray, source: str = "vocab",
           found: SentenceVectors | None = None) -> EmbeddedSentence:
    """Rows that are not words of a typed sentence (toy tokens, sentences) as an
    `EmbeddedSentence`; character offsets are those in the texts joined by " | ". ``found``:
    what each sentence's vector is made of (its chip's tooltip) and which words it left out."""
    tokens, start = [], 0
    for i, text in enumerate(texts):
        reason, left_out = (found.reasons[i], found.left_out[i]) if found is not None else ("", ())
        tokens.append(Token(text, start, start + len(text), text, source, reason, left_out))
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


def toy_head_count(n_heads: int, cols: int, v_cols: int) -> int:
    """The heads a toy table's W matrices give: ``n_heads`` when it divides both W_Q's
    ``cols`` and W_V's ``v_cols`` columns, else one."""
    return n_heads if cols % n_heads == 0 and v_cols % n_heads == 0 else 1


def computed_heads(s: Settings) -> int:
    """The heads ``s`` computes: ``n_heads``, or what a toy table's matrices give."""
    if not uses_toy(s) or s.toy is None or not s.toy.w_q or not s.toy.w_v:
        return s.n_heads
    return toy_head_count(s.n_heads, len(s.toy.w_q[0]), len(s.toy.w_v[0]))


def toy_heads(toy: ToyInputs, n_heads: int) -> tuple[HeadProjections, list[str]]:
    """The toy's W matrices as heads: ``n_heads`` when it divides the columns, else one."""
    d, cols, v_cols = toy.d, toy.w_q.shape[1], toy.w_v.shape[1]
    h = toy_head_count(n_heads, cols, v_cols)
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
    from gensim.models import KeyedVectors  # here: gensim imports SciPy, about a second

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
    units = _units(found.labels, found.vectors, found=found)
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
    return Projection2D(np.zeros(2), np.eye(2), ("dimension 1", "dimension 2"))  # from 1


# ----------------------------------------------------------------------------- sentence vectors


@dataclass(frozen=True)
class SentenceVectors:
    """Sentences as vectors: each the mean of the vectors of its known words."""

    labels: tuple[str, ...]  #: (m,) the sentences that got a vector
    vectors: np.ndarray  #: (m, d)
    warnings: tuple[str, ...]
    reasons: tuple[str, ...] = ()  #: (m,) which words each mean is of, which were left out
    left_out: tuple[tuple[tuple[int, int], ...], ...] = ()  #: (m,) spans of the left-out words


def sentence_vectors(
    sentences: Sequence[str], kv: KeyedVectors, oov_policy: str = "skip"
) -> SentenceVectors:
    """Each sentence → the mean of its word vectors (`core.vectors.tokens.embed_sentence`).

    A sentence with no known word has no vector: it is left out with a warning.
    """
    labels: list[str] = []
    rows: list[np.ndarray] = []
    warnings: list[str] = []
    reasons: list[str] = []
    left_out: list[tuple[tuple[int, int], ...]] = []
    for sentence in sentences:
        embedded = embed_sentence(sentence, kv, oov_policy)
        warnings += [f"{sentence!r}: {w}" for w in embedded.warnings]
        if len(embedded.vectors) == 0:
            warnings.append(f"{sentence!r} has no word these vectors know; left out")
            continue
        labels.append(sentence)
        rows.append(embedded.vectors.mean(axis=0))  # (n_words, d) -> (d,)
        reasons.append(_made_of(embedded))
        left_out.append(tuple((t.start, t.end) for t in embedded.tokens if not t.used))
    d = int(kv.vector_size)
    matrix = np.array(rows, dtype=kv.vectors.dtype).reshape(-1, d)  # (m, d)
    return SentenceVectors(tuple(labels), matrix, tuple(warnings), tuple(reasons),
                           tuple(left_out))


def _made_of(embedded: EmbeddedSentence) -> str:
    """What a sentence's vector is the mean of, and which of its words it leaves out (the
    sentence is shown whole: its chip's tooltip says what it stands for)."""
    def words(source: str) -> str:
        return ", ".join(t.text for t in embedded.tokens if t.source == source)

    used = [text for text in (words("vocab"), _prefixed("zero vectors for ", words("zero")),
                              _prefixed("n-gram vectors for ", words("subword"))) if text]
    text = f"the mean of the vectors of: {'; '.join(used)}"
    left_out = words("skipped")
    return text + f"; left out, not in the vectors: {left_out}" if left_out else text


def _prefixed(prefix: str, text: str) -> str:
    return prefix + text if text else ""
