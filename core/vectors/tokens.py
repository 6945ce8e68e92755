"""Sentence -> tokens the vectors know, with case folding and an out-of-vocabulary policy.

The tokeniser keeps words (with inner hyphens and apostrophes, "red-wine", "don't") and single
punctuation marks as tokens, because GloVe and word2vec vocabularies contain ",", "." and the like.
Lookup tries the word as typed and then lower-cased, so one rule serves cased and uncased sets.
A hyphenated word the vectors do not know as one word ("red-wine" is not in GloVe 6B, "red"
and "wine" are) is its parts, when the vectors know every part: a real vector for each part
says more than leaving the word out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

# Words: letters/digits with inner - ' ’ ; anything else that is not space is one punctuation token.
_TOKEN_RE = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)

MAX_TOKENS = 512
"""Longer sentences are cut here with a notice: 512 x 512 weights per head still redraw live."""


class OutOfVocabularyError(ValueError):
    """Raised under the 'error' policy; the message lists the unknown words."""


@dataclass(frozen=True)
class Token:
    """One token of the sentence as typed, and how (or whether) it got a vector."""

    text: str  # as typed
    start: int  # character offsets in the sentence, for colouring the sentence
    end: int
    key: str | None  # the vocabulary key used, None when out of vocabulary
    source: str  # "vocab", "subword", "zero" or "skipped"
    reason: str = ""  # why the token is not a plain vocabulary word (for tooltips)
    # (start, end) offsets into ``text`` of words left out of its vector: a sentence's unknown
    # words in sentence mode, struck through on its chip.
    left_out: tuple[tuple[int, int], ...] = ()

    @property
    def used(self) -> bool:
        """True when the token takes part in attention (has a row in the vectors)."""
        return self.source != "skipped"


@dataclass(frozen=True)
class EmbeddedSentence:
    """The tokens of a sentence and the vectors of those that take part in attention."""

    tokens: tuple[Token, ...]  # every token, in order, including skipped ones
    vectors: np.ndarray  # (n, d): one row per used token, in order
    warnings: tuple[str, ...]

    # Cached: the pipeline reuses one sentence while a slider moves and reads these several
    # times per update. The fields are frozen, so they cannot go stale.
    @cached_property
    def used_tokens(self) -> tuple[Token, ...]:
        return tuple(t for t in self.tokens if t.used)

    @cached_property
    def labels(self) -> list[str]:
        """Display names of the used tokens (the rows/columns of every heatmap); do not modify."""
        return [t.text for t in self.used_tokens]


def split_tokens(sentence: str) -> list[tuple[str, int, int]]:
    """Split ``sentence`` into (text, start, end) word and punctuation tokens."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(sentence)]


def lookup_key(kv: KeyedVectors, word: str) -> str | None:
    """The vocabulary key for ``word``: as typed, else lower-cased; None if neither is known.

    ``key_to_index`` is used rather than ``in kv`` because fastText vectors answer True for every
    string (their n-gram buckets make up a vector for anything).
    """
    for candidate in (word, word.lower()):
        if candidate in kv.key_to_index:
            return candidate
    return None


def has_subwords(kv: KeyedVectors) -> bool:
    """True for fastText vectors, which can build a vector for an unknown word from n-grams."""
    return getattr(kv, "bucket", 0) > 0 and hasattr(kv, "vectors_ngrams")


def embed_sentence(
    sentence: str, kv: KeyedVectors, oov_policy: str = "skip", max_tokens: int = MAX_TOKENS
) -> EmbeddedSentence:
    """Tokenise ``sentence`` and look up each token under ``oov_policy``.

    Parameters
    ----------
    oov_policy : {"skip", "zero", "subword", "error"}
        skip: leave unknown words out of attention; zero: give them a zero vector; subword:
        fastText n-gram vector (falls back to skip for sets without sub-words); error: raise.

    Raises
    ------
    OutOfVocabularyError
        Under the "error" policy, when any word is unknown.
    """
    pieces = [part for piece in split_tokens(sentence) for part in _known_parts(*piece, kv)]
    warnings: list[str] = []
    if len(pieces) > max_tokens:
        warnings.append(
            f"The sentence has {len(pieces)} tokens; only the first {max_tokens} are used."
        )
        pieces = pieces[:max_tokens]
    tokens = [_make_token(text, start, end, kv, oov_policy, whole)
              for text, start, end, whole in pieces]
    unknown = [t.text for t in tokens if t.key is None]
    if unknown and oov_policy == "error":
        raise OutOfVocabularyError(f"not in the vocabulary: {', '.join(unknown)}")
    if unknown:
        warnings.append(f"Out of vocabulary: {', '.join(unknown)}")
    rows = [_token_vector(t, kv) for t in tokens if t.used]
    dim = int(kv.vector_size)
    vectors = np.array(rows, dtype=kv.vectors.dtype) if rows else np.zeros((0, dim), np.float32)
    return EmbeddedSentence(tuple(tokens), vectors.reshape(-1, dim), tuple(warnings))


def _known_parts(text: str, start: int, end: int,
                 kv: KeyedVectors) -> list[tuple[str, int, int, str]]:
    """``(text, start, end, whole)`` pieces of one token: the token itself (``whole`` "") or,
    for a hyphenated word the vectors do not know but whose every part they know, its parts
    (``whole`` the word they come from)."""
    if "-" not in text or lookup_key(kv, text) is not None:
        return [(text, start, end, "")]
    parts, offset = [], start
    for part in text.split("-"):
        parts.append((part, offset, offset + len(part), text))
        offset += len(part) + 1
    if any(lookup_key(kv, part) is None for part, *_ in parts):
        return [(text, start, end, "")]  # out of vocabulary as a whole (the policy decides)
    return parts


def _make_token(text: str, start: int, end: int, kv: KeyedVectors, policy: str,
                whole: str = "") -> Token:
    key = lookup_key(kv, text)
    if key is not None:
        reason = (f"part of '{whole}', which these vectors do not know as one word"
                  if whole else "")
        return Token(text, start, end, key, "vocab", reason)
    if policy == "subword" and has_subwords(kv):
        return Token(text, start, end, None, "subword", "not in the vocabulary: built from n-grams")
    if policy == "zero":
        return Token(text, start, end, None, "zero", "not in the vocabulary: zero vector")
    reason = "not in the vocabulary: left out"
    if policy == "subword":
        reason += " (these vectors have no sub-word information)"
    return Token(text, start, end, None, "skipped", reason)


def _token_vector(token: Token, kv: KeyedVectors) -> np.ndarray:
    if token.source == "vocab":
        return np.asarray(kv.vectors[kv.key_to_index[token.key]])
    if token.source == "subword":
        return np.asarray(kv.get_vector(token.text))
    return np.zeros(kv.vector_size, dtype=kv.vectors.dtype)


@dataclass(frozen=True)
class QueryChoice:
    """Where the query comes from: a row of the sentence (self-attention) or an outside word."""

    text: str
    vector: np.ndarray  # (d,)
    position: int | None  # index among the used tokens, None for an outside word


def resolve_query(
    query: str, sentence: EmbeddedSentence, kv: KeyedVectors, occurrence: int | None = None
) -> QueryChoice:
    """Find the query among the used tokens (case-insensitive), else look it up in the vocabulary.

    ``occurrence`` picks a specific used-token position when the word occurs more than once.

    Raises
    ------
    OutOfVocabularyError
        When the query is neither a sentence token nor a vocabulary word (or is empty).
    """
    word = query.strip()
    if not word:
        raise OutOfVocabularyError("the query word is empty")
    used = sentence.used_tokens
    matches = [i for i, t in enumerate(used) if t.text.lower() == word.lower()]
    if matches:
        position = occurrence if occurrence in matches else matches[0]
        return QueryChoice(used[position].text, sentence.vectors[position], position)
    key = lookup_key(kv, word)
    if key is not None:
        return QueryChoice(word, np.asarray(kv.vectors[kv.key_to_index[key]]), None)
    if has_subwords(kv):
        return QueryChoice(word, np.asarray(kv.get_vector(word)), None)
    raise OutOfVocabularyError(f"the query {word!r} is not in the vocabulary")
