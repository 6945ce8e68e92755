"""Text -> token ids with Hugging Face's own tokenizer (``tokenizers``, from ``tokenizer.json``).

Two settings of a shipped ``tokenizer.json`` change the attention and are switched off here:
all-MiniLM-L6-v2's file pads every text to 128 tokens (padding tokens take part in attention
and move real tokens' weights by up to 0.83) and truncates at 128; we never pad, and truncate at
the model's positions (512 for BERT, special tokens included) or a smaller ``max_length``.

The normaliser lower-cases and strips accents (naïve -> naive), so tokens are shown through
their character offsets into the person's own text (`Encoding.texts`), not as token strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.transformer.config import TransformerConfig
from core.transformer.errors import ModelError, read_bounded

__all__ = ["Encoding", "TextTokenizer"]

MAX_TOKENIZER_BYTES = 64 << 20  # GPT-2's tokenizer.json is 1.4 MB, bert-base's 0.7 MB
MAX_CHARS_PER_POSITION = 64
"""Text beyond this many characters per position is cut before tokenising: it could not fit."""


@dataclass(frozen=True, eq=False)
class Encoding:
    """One tokenised text (and its pair), as the model sees it."""

    ids: np.ndarray  #: (n,) int64 vocabulary ids
    type_ids: np.ndarray  #: (n,) int64 segment of each token: 0, or 1 in a BERT pair's second
    tokens: tuple[str, ...]  #: the tokenizer's strings ("[CLS]", "##ing", "Ġthe")
    texts: tuple[str, ...]  #: each token's span of the person's text ("[CLS]" for specials)
    offsets: tuple[tuple[int, int], ...]  #: character spans in the text (or the pair)
    special: np.ndarray  #: (n,) bool, True for [CLS], [SEP] and other added special tokens
    segments: tuple[int | None, ...]  #: 0 text, 1 pair, None special
    truncated: bool  #: the text (or pair) was cut to fit the positions


class TextTokenizer:
    """The tokenizer of one checkpoint, set for exact, unpadded runs."""

    def __init__(self, path: str, config: TransformerConfig) -> None:
        from tokenizers import Tokenizer

        text = read_bounded(path, MAX_TOKENIZER_BYTES, "tokenizer.json")
        try:
            self._tokenizer = Tokenizer.from_str(text)
        except Exception as error:  # the Rust side raises plain Exception for any bad file
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ModelError(f"{path}: not a tokenizer this library can read ({first})") from None
        size = self._tokenizer.get_vocab_size(with_added_tokens=True)
        if size > config.vocab_size:
            raise ModelError(f"{path}: the tokenizer knows {size:,} tokens but the model's "
                             f"embeddings have {config.vocab_size:,}: they do not belong together")
        self._tokenizer.no_padding()
        self.path, self.config = path, config

    def vocabulary(self) -> list[str]:
        """Every token string, by id (ids the tokenizer does not name get a placeholder)."""
        words = [f"[id {i}]" for i in range(self._tokenizer.get_vocab_size(True))]
        for token, i in self._tokenizer.get_vocab(with_added_tokens=True).items():
            words[i] = token
        return words

    def encode(self, text: str, pair: str | None = None,
               max_length: int | None = None) -> Encoding:
        """Tokenise ``text`` (and BERT's second segment ``pair``), cut to the positions."""
        c = self.config
        if pair is not None and c.architecture != "bert":
            raise ModelError(f"a sentence pair needs a BERT model; {c.name} is {c.architecture}")
        limit = c.max_positions if max_length is None else max_length
        if not 1 <= limit <= c.max_positions:
            raise ModelError(f"max_length must be 1..{c.max_positions}, got {max_length}")
        cap = MAX_CHARS_PER_POSITION * limit
        cut = len(text) > cap or (pair is not None and len(pair) > cap)
        text, pair = text[:cap], None if pair is None else pair[:cap]
        self._tokenizer.enable_truncation(limit)
        try:
            enc = self._tokenizer.encode(text, pair)
        except Exception as error:  # e.g. the limit is smaller than the special tokens
            raise ModelError(f"cannot tokenise this text with {self.path}: {error}") from None
        if not enc.ids:
            raise ModelError("the text has no tokens: type something for the model to read")
        return Encoding(
            np.asarray(enc.ids, np.int64), np.asarray(enc.type_ids, np.int64),
            tuple(enc.tokens), _texts(enc, text, pair), tuple(enc.offsets),
            np.asarray(enc.special_tokens_mask, bool), tuple(enc.sequence_ids),
            cut or bool(enc.overflowing))


def _texts(enc: object, text: str, pair: str | None) -> tuple[str, ...]:
    """The person's own characters for each token; a special token keeps its name."""
    out = []
    for token, (start, end), segment, special in zip(
            enc.tokens, enc.offsets, enc.sequence_ids, enc.special_tokens_mask,  # type: ignore
            strict=True):
        source = pair if segment == 1 and pair is not None else text
        out.append(token if special or segment is None or end <= start
                   else source[start:end])
    return tuple(out)
