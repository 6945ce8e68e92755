"""core.vectors.byte_sort orders words exactly as Python's str comparison does, stably, and finds
repeats: the vocabulary's word look-up (KeyIndex) and the query completer rely on both."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from core.vectors.byte_sort import byte_order
from core.vectors.vocabulary import KeyIndex, Vocabulary


def buffers(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [w.encode("utf-8") for w in words]
    offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded], dtype=np.int64)])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def expected(words: list[str]) -> tuple[list[int], list[bool]]:
    order = sorted(range(len(words)), key=words.__getitem__)  # stable, like ours must be
    repeat = [p > 0 and words[order[p]] == words[order[p - 1]] for p in range(len(order))]
    return order, repeat


# Few letters, so words share long prefixes (several 8-byte passes) and repeat often; NUL and
# multi-byte characters, where zero padding and byte order could go wrong.
letters = st.sampled_from(["a", "b", "\0", "é", "東", "z"])
word_lists = st.lists(st.text(letters, max_size=30), max_size=60)


@given(word_lists)
def test_byte_order_is_python_sorted_order_with_its_repeats(words: list[str]) -> None:
    order, repeat = byte_order(*buffers(words))
    assert (order.tolist(), repeat.tolist()) == expected(words)


@given(st.lists(st.text(st.sampled_from("ab"), min_size=7, max_size=17), max_size=40))
def test_words_ending_at_a_pass_boundary_come_before_their_continuations(words) -> None:
    order, repeat = byte_order(*buffers(words))
    assert (order.tolist(), repeat.tolist()) == expected(words)


def test_byte_order_of_the_default_vocabulary_matches_python(glove) -> None:
    words = glove.index_to_key[:]
    order, repeat = glove.index_to_key.byte_order()
    assert order.tolist() == sorted(range(len(words)), key=words.__getitem__)
    assert not repeat.any()  # GloVe's 400,000 words are distinct


def test_key_index_finds_every_word_of_a_vocabulary_with_shared_prefixes() -> None:
    words = [f"{p}{s}" for p in ("international", "internationalis", "a\0") for s in
             ("", "m", "t", "ts", "ation", "\0", "é")] + ["international", "a\0"]
    index = KeyIndex(Vocabulary(words))
    for row, word in enumerate(words):
        assert index[word] == words.index(word), (row, word)
    assert "internationa" not in index and "a" not in index and "\ud800" not in index
    assert len(index) == len(set(words))
