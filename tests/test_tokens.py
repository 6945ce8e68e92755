"""Sentence -> tokens: punctuation, case folding, the out-of-vocabulary policies, the query."""

import numpy as np
import pytest

from core.vectors.tokens import (
    OutOfVocabularyError,
    embed_sentence,
    resolve_query,
    split_tokens,
)


def test_split_keeps_punctuation_and_inner_hyphens():
    assert [t for t, _, _ in split_tokens("I drink red-wine, don't you?")] == [
        "I",
        "drink",
        "red-wine",
        ",",
        "don't",
        "you",
        "?",
    ]


def test_a_hyphenated_word_the_vectors_do_not_know_is_its_known_parts(glove, tiny_kv):
    # GloVe 6B has "red" and "wine" but no "red-wine": the sentence-mode example's words.
    assert "red-wine" not in glove.key_to_index
    text = "I drink red-wine"
    sentence = embed_sentence(text, glove)
    assert [t.key for t in sentence.tokens] == ["i", "drink", "red", "wine"]
    assert sentence.warnings == ()  # nothing is out of vocabulary, nothing left out
    assert [text[t.start:t.end] for t in sentence.tokens] == ["I", "drink", "red", "wine"]
    assert "part of 'red-wine'" in sentence.tokens[2].reason  # the chip's tooltip says why
    np.testing.assert_array_equal(sentence.vectors[3], glove["wine"])
    # A set that knows the whole word keeps it whole; an unknown part keeps it one OOV word.
    assert [t.key for t in embed_sentence(text, tiny_kv).tokens][-1] == "red-wine"
    unknown = embed_sentence("red-qqzx", glove)
    assert [t.text for t in unknown.tokens] == ["red-qqzx"] and not unknown.tokens[0].used
    assert unknown.warnings == ("Out of vocabulary: red-qqzx",)


def test_offsets_point_into_the_sentence():
    text = "The cat  sat."
    for token, start, end in split_tokens(text):
        assert text[start:end] == token


def test_case_folding_finds_lower_case_keys(tiny_kv):
    sentence = embed_sentence("The Cat SAT", tiny_kv)
    assert [t.key for t in sentence.tokens] == ["the", "cat", "sat"]
    np.testing.assert_array_equal(sentence.vectors[1], tiny_kv["cat"])


@pytest.mark.parametrize(
    ("policy", "rows", "source"),
    [("skip", 2, "skipped"), ("zero", 3, "zero"), ("subword", 2, "skipped")],
)
def test_oov_policies(tiny_kv, policy, rows, source):
    sentence = embed_sentence("the zyzzyva cat", tiny_kv, policy)
    assert sentence.vectors.shape == (rows, tiny_kv.vector_size)
    assert sentence.tokens[1].source == source
    assert "zyzzyva" in sentence.warnings[0]
    assert sentence.tokens[1].reason.startswith("not in the vocabulary")
    if policy == "zero":
        assert not sentence.vectors[1].any()


def test_oov_error_policy_names_the_words(tiny_kv):
    with pytest.raises(OutOfVocabularyError, match="zyzzyva, qwxz"):
        embed_sentence("zyzzyva the qwxz", tiny_kv, "error")


def test_long_sentences_are_capped_with_a_notice(tiny_kv):
    sentence = embed_sentence("the cat " * 300, tiny_kv, max_tokens=100)
    assert len(sentence.tokens) == 100
    assert "600 tokens" in sentence.warnings[0]


def test_empty_and_punctuation_only_sentences(tiny_kv):
    assert embed_sentence("", tiny_kv).vectors.shape == (0, tiny_kv.vector_size)
    assert embed_sentence("?!", tiny_kv).vectors.shape == (0, tiny_kv.vector_size)


def test_query_inside_the_sentence_is_a_row(tiny_kv):
    sentence = embed_sentence("the cat sat on the mat", tiny_kv)
    query = resolve_query("THE", sentence, tiny_kv, occurrence=4)
    assert query.position == 4
    assert resolve_query("the", sentence, tiny_kv).position == 0


def test_query_outside_the_sentence_uses_the_vocabulary(tiny_kv):
    sentence = embed_sentence("the cat sat", tiny_kv)
    query = resolve_query("wine", sentence, tiny_kv)
    assert query.position is None
    np.testing.assert_array_equal(query.vector, tiny_kv["wine"])


@pytest.mark.parametrize("word", ["", "   ", "zyzzyva"])
def test_unknown_query_is_an_error(tiny_kv, word):
    sentence = embed_sentence("the cat", tiny_kv)
    with pytest.raises(OutOfVocabularyError):
        resolve_query(word, sentence, tiny_kv)


def test_fasttext_subwords_give_unknown_words_a_vector():
    from gensim.models import FastText

    model = FastText(vector_size=8, min_count=1, epochs=1, seed=1, workers=1)
    corpus = [["the", "cat", "sat", "on", "the", "mat"]] * 5
    model.build_vocab(corpus)
    model.train(corpus, total_examples=len(corpus), epochs=1)
    sentence = embed_sentence("the cats", model.wv, "subword")
    assert [t.source for t in sentence.tokens] == ["vocab", "subword"]
    np.testing.assert_allclose(sentence.vectors[1], model.wv.get_vector("cats"))
