"""Sentence mode with a trained model (core.model_sentences): each sentence is the model's
sentence embedding, checked against the reference torch and sentence-transformers' pooling made,
and memoised per sentence so typing in one sentence re-runs only that one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core import model_sentences
from core.model_sentences import (
    model_sentence,
    sentence_query_from_model,
    sentence_rows_from_model,
)
from core.settings import Settings
from core.transformer import ModelError, load_model
from core.transformer.analysis import sentence_embedding

DATA = Path(__file__).parent / "data" / "transformer"
FACTS = json.loads((DATA / "reference_cases.json").read_text(encoding="utf-8"))
SENTENCES = FACTS["models"]["minilm"]["sentence_embeddings"]["sentences"]  # query first
F32 = FACTS["tolerances"]["float32"]["max_abs"]


@pytest.fixture(scope="module")
def minilm():
    return load_model()


@pytest.fixture
def tiny():
    """A fresh tiny BERT per test: its own, empty memo."""
    return load_model(str(DATA / "tiny-bert"))


class CountingModel:
    """A model whose forward passes are counted, per text."""

    def __init__(self, model):
        self.model, self.texts = model, []

    def run(self, text, *args, **kwargs):
        self.texts.append(text)
        return self.model.run(text, *args, **kwargs)


def test_rows_and_query_are_the_sentence_embeddings_torch_made(minilm):
    reference = np.load(DATA / "minilm_reference.npz")["sentence_embeddings_f32"]  # (6, d)
    query_sentence, *context = SENTENCES
    rows = sentence_rows_from_model(minilm, context)
    assert rows.labels == context and rows.warnings == ()
    assert rows.vectors.shape == (5, minilm.config.d_model)
    np.testing.assert_allclose(rows.vectors, reference[1:], rtol=0, atol=F32)
    query = sentence_query_from_model(minilm, Settings(query_sentence=query_sentence), rows)
    assert (query.text, query.position) == (query_sentence, None)
    np.testing.assert_allclose(query.vector, reference[0], rtol=0, atol=F32)
    np.testing.assert_allclose(np.linalg.norm(rows.vectors, axis=1), 1, atol=1e-6)


def test_rows_are_labelled_like_static_sentences(tiny):
    rows = sentence_rows_from_model(tiny, ["I eat salmon", "", "   ", "I drink water"])
    assert rows.labels == ["I eat salmon", "I drink water"]  # blank lines ignored, no warning
    assert rows.warnings == ()
    first, second = rows.tokens
    assert (first.start, first.end, second.start, second.end) == (0, 12, 15, 28)
    assert first.key == first.text and first.source == "vocab" and first.used
    assert "mean of its 5 tokens" in first.reason  # [CLS] i eat salmon [SEP]
    np.testing.assert_array_equal(rows.vectors[1], sentence_embedding(tiny.run("I drink water")))


def test_a_sentence_the_model_reads_nothing_of_is_left_out(tiny):
    assert len(tiny.run("\u200b").tokens) == 2  # only [CLS] and [SEP]
    rows = sentence_rows_from_model(tiny, ["I eat salmon", "\u200b"])
    assert rows.labels == ["I eat salmon"]
    assert any("left out" in w and "'\\u200b'" in w for w in rows.warnings)
    with pytest.raises(ModelError, match="no context sentence"):
        sentence_rows_from_model(tiny, ["\u200b", " "])
    with pytest.raises(ModelError, match="query sentence"):
        sentence_query_from_model(tiny, Settings(query_sentence="\u200b"), rows)


def test_a_picked_context_sentence_is_the_query(tiny):
    rows = sentence_rows_from_model(tiny, ["I eat salmon", "I drink water"])
    picked = Settings(query_sentence="I drink water with fine", query_index=1)
    query = sentence_query_from_model(tiny, picked, rows)
    assert (query.text, query.position) == ("I drink water", 1)
    np.testing.assert_array_equal(query.vector, rows.vectors[1])
    beyond = sentence_query_from_model(tiny, picked.updated(query_index=5), rows)
    assert (beyond.text, beyond.position) == ("I drink water with fine", None)


def test_typing_one_sentence_reruns_only_that_one(tiny):
    counting = CountingModel(tiny)
    first = sentence_rows_from_model(counting, ["I eat salmon", "I eat steak", "I drink"])
    assert counting.texts == ["I eat salmon", "I eat steak", "I drink"]
    typed = sentence_rows_from_model(counting, ["I eat salmon", "I eat steak", "I drink w"])
    assert counting.texts[3:] == ["I drink w"]
    np.testing.assert_array_equal(typed.vectors[:2], first.vectors[:2])
    query = Settings(query_sentence="I eat salmon")
    sentence_query_from_model(counting, query, typed)  # a context sentence's text: no new run
    assert len(counting.texts) == 4
    with pytest.raises(ValueError, match="read-only"):
        model_sentence(counting, "I eat salmon").vector[0] = 1.0  # shared by later calls


def test_the_memo_forgets_the_least_recently_used(tiny, monkeypatch):
    counting = CountingModel(tiny)
    monkeypatch.setattr(model_sentences, "CACHE_SIZE", 2)
    for text in ("one", "two", "one", "three"):  # "two" is the oldest when "three" comes
        model_sentence(counting, text)
    assert counting.texts == ["one", "two", "three"]
    model_sentence(counting, "one")
    model_sentence(counting, "two")
    assert counting.texts == ["one", "two", "three", "two"]


def test_each_model_keeps_its_own_sentences(tiny, minilm):
    small = model_sentence(tiny, "I drink water").vector
    big = model_sentence(minilm, "I drink water").vector
    assert small.shape == (tiny.config.d_model,) and big.shape == (minilm.config.d_model,)


def test_a_long_sentence_is_cut_with_a_warning(tiny):
    long_text = " ".join(["water"] * (tiny.config.max_positions + 10))
    rows = sentence_rows_from_model(tiny, [long_text])
    assert len(rows.labels) == 1
    assert any("cut" in w for w in rows.warnings)
