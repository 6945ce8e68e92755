"""Every lesson reproduces the numbers its worked example publishes (float64, 1e-9), run the way
the window runs it: ``lesson_settings`` -> ``Pipeline.run`` -> ``Analysis``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import analysis_inputs, run_lesson_analysis

from core.explain.lessons import DRINK_PLANE, LESSONS, lesson
from core.inputs import sentence_vectors
from core.pipeline import AnalysisError, Pipeline
from core.settings import Settings, ToySpec
from core.toy import ToyInputError, make_toy

TOL = 1e-9
TOY_LESSONS = [item for item in LESSONS if item.settings is None]


def softmax_by_hand(xs):
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


def lesson_numbers(item, a):
    """The quantities a lesson's ``expected`` and ``rounded`` may name, read from the analysis:
    its one head at the query row (every row for a self-attention lesson, ``query`` None);
    ``output`` is the head's output, the weighted sum of the values (before any W_O)."""
    assert a.result.weights.shape[0] == 1, "a toy lesson has one head"
    r, rows = a.result, slice(None) if item.query is None else a.query_row
    queries = r.queries[0, rows]
    return {"inputs": a.sentence.vectors, "query": queries, "queries": queries,
            "keys": r.keys[0], "values": r.values[0], "scores": r.scores[0, rows],
            "logits": r.logits[0, rows], "weights": r.weights[0, rows],
            "output": r.head_outputs[0, rows]}


@pytest.mark.parametrize("item", TOY_LESSONS, ids=lambda item: item.id)
def test_lesson_reproduces_published_numbers(item):
    numbers = lesson_numbers(item, run_lesson_analysis(item.id))
    assert item.expected or item.rounded
    for name, expected in item.expected.items():
        np.testing.assert_allclose(np.asarray(numbers[name], np.float64),
                                   np.asarray(expected, np.float64), rtol=0, atol=TOL,
                                   err_msg=f"{item.id}: {name}")
    for name, rounded in item.rounded.items():
        np.testing.assert_allclose(numbers[name], rounded, rtol=0, atol=item.rounded_tolerance,
                                   err_msg=f"{item.id}: {name} (rounded)")


def test_every_lesson_has_text_and_a_unique_id():
    assert len({item.id for item in LESSONS}) == len(LESSONS) == 8
    for item in LESSONS:
        assert item.title and len(item.explanation) > 80


def test_three_inputs_weights_and_output_by_hand():
    a = run_lesson_analysis("three_inputs")
    weights = [math.exp(2) / (math.exp(2) + 2 * math.exp(4))] + \
        [math.exp(4) / (math.exp(2) + 2 * math.exp(4))] * 2
    values = [[1, 2, 3], [2, 8, 0], [2, 6, 3]]
    output = [sum(w * v[j] for w, v in zip(weights, values, strict=True)) for j in range(3)]
    np.testing.assert_allclose(a.result.weights[0, a.query_row], weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(a.result.head_outputs[0, a.query_row], output, rtol=0, atol=TOL)


def test_cat_sat_mat_scaled_softmax_by_hand():
    item = lesson("cat_sat_mat")
    a = run_lesson_analysis(item.id)
    weights = softmax_by_hand([s / math.sqrt(2) for s in (0.3, 1.2, 2.0, 0.1, 0.3, 1.4)])
    np.testing.assert_allclose(a.query_weights[0], weights, rtol=0, atol=TOL)
    assert a.result.scale == pytest.approx(math.sqrt(2))
    vectors = item.inputs
    output = [sum(w * v[j] for w, v in zip(weights, vectors, strict=True)) for j in range(2)]
    np.testing.assert_allclose(a.result.output[a.query_row], output, rtol=0, atol=TOL)


def test_attention_function_by_hand():
    a = run_lesson_analysis("attention_function")
    weights = softmax_by_hand([4, 10, 16])
    np.testing.assert_allclose(a.query_weights[0], weights, rtol=0, atol=TOL)
    assert a.result.output[a.query_row, 0] == pytest.approx(
        0.1 * weights[0] + 0.4 * weights[1] + 0.7 * weights[2], abs=TOL)


def test_matrix_lesson_all_outputs_by_hand():
    a = run_lesson_analysis("matrix_view")
    values = [[1, 2, 3], [2, 8, 0], [2, 6, 3]]
    for i, scores in enumerate([(2, 4, 4), (4, 16, 12), (4, 12, 10)]):
        w = softmax_by_hand(scores)
        expected = [sum(wj * v[c] for wj, v in zip(w, values, strict=True)) for c in range(3)]
        np.testing.assert_allclose(a.result.head_outputs[0, i], expected, rtol=0, atol=TOL)


def test_drink_water_cosine_prefers_the_water_sentence_and_dot_the_longer_one():
    cos_run = run_lesson_analysis("drink_water_cosine")
    cos = cos_run.query_weights[0]
    dot = run_lesson_analysis("drink_water_dot").query_weights[0]
    assert np.argmax(cos) == 3  # "I drink water"
    assert np.argmax(dot) == 2  # "I drink red-wine"
    assert min(cos[2:]) > max(cos[:2])
    scores = cos_run.result.scores[0, cos_run.query_row]
    np.testing.assert_allclose(cos, softmax_by_hand(list(scores)), atol=TOL)


def _plane_kv():
    from gensim.models import KeyedVectors

    kv = KeyedVectors(2)
    kv.add_vectors(list(DRINK_PLANE), np.array(list(DRINK_PLANE.values()), dtype=np.float64))
    return kv


def sentence_settings(query: str, context, scoring: str = "cosine") -> Settings:
    """Sentence mode on word vectors with the textbook's attention: one head on the raw
    sentence vectors (identity projections), T = 1."""
    return Settings(mode="sentences", query_sentence=query, context_sentences=tuple(context),
                    scoring=scoring, head_strategy="identity", n_heads=1, temperature=1.0)


def test_sentence_mode_in_the_plane_matches_the_lesson():
    item = lesson("drink_water_cosine")
    vectors = sentence_vectors(list(item.tokens), _plane_kv())
    assert vectors.labels == item.tokens and vectors.warnings == ()
    np.testing.assert_allclose(vectors.vectors, item.expected["inputs"], atol=TOL)
    a = Pipeline(_plane_kv()).run(sentence_settings(item.query_label, item.tokens))
    assert a.col_labels == list(item.tokens)
    np.testing.assert_allclose(a.result.scores[0, a.query_row], item.expected["scores"],
                               atol=TOL)


def test_sentence_vectors_on_word_vectors(tiny_kv):
    vectors = sentence_vectors(["I drink water", "zzz qqq", "I eat salmon"], tiny_kv)
    assert vectors.labels == ("I drink water", "I eat salmon")
    assert any("left out" in w for w in vectors.warnings)
    expected = np.mean([tiny_kv["i"], tiny_kv["drink"], tiny_kv["water"]], axis=0)
    np.testing.assert_allclose(vectors.vectors[0], expected, atol=1e-6)
    context = ["I eat salmon", "I drink water"]
    a = Pipeline(tiny_kv).run(sentence_settings("I drink water with fine", context, "dot"))
    weights = a.query_weights[0]
    assert weights.shape == (2,) and weights.sum() == pytest.approx(1)

    def mean(sentence):
        return np.mean([tiny_kv[w.lower()] for w in sentence.split()], axis=0)

    query = mean("I drink water with fine")
    by_hand = softmax_by_hand([float(query @ mean(s)) for s in context])
    np.testing.assert_allclose(weights, by_hand, atol=1e-6)
    with pytest.raises(AnalysisError, match="query sentence"):
        Pipeline(tiny_kv).run(sentence_settings("zzz", ["I eat salmon"]))


def test_word_vector_lesson_runs_on_vectors(tiny_kv):
    a = run_lesson_analysis("animal_it", tiny_kv)
    assert a.weights.shape[0] == 4
    assert a.heads.n_heads == 4 and a.heads.strategy == "axes"
    assert a.row_labels[a.query_row] == "it"
    # The mean over the heads, as the exports write it: computed once per analysis, read-only.
    np.testing.assert_allclose(a.mean_weights, a.weights.mean(axis=0), rtol=0, atol=1e-7)
    assert a.mean_weights is a.mean_weights and not a.mean_weights.flags.writeable


@pytest.mark.parametrize("item", TOY_LESSONS, ids=lambda item: item.id)
def test_lesson_analyses_have_a_query_axis(item):
    a = run_lesson_analysis(item.id)
    h, r, n = a.result.weights.shape
    x_q, _ = analysis_inputs(a)
    assert (h, n) == (1, len(item.tokens)) and r == len(a.row_labels) == len(x_q)
    assert a.col_labels == list(item.tokens)
    assert a.row_labels[a.query_row].startswith(item.query_label)


def test_toy_inputs_validate_and_run(tiny_kv):
    item = lesson("three_inputs")
    toy = make_toy(item.tokens, item.inputs, item.w_q, item.w_k, item.w_v)
    a = Pipeline(tiny_kv).run(Settings(mode="toy", toy=ToySpec.from_inputs(toy), query="x1",
                                       n_heads=1, scoring="dot", temperature=1.0))
    np.testing.assert_array_equal(a.result.scores[0, 0], [2, 4, 4])
    with pytest.raises(ToyInputError, match="different lengths") as error:
        make_toy(["a", "b"], [[1, 2], [3]], [[1], [1]], [[1], [1]], [[1], [1]])
    assert error.value.matrix == "X"
    with pytest.raises(ToyInputError, match="W_K is 2×2; expected 2×1"):
        make_toy(["a"], [[1, 2]], [[1], [1]], [[1, 0], [0, 1]], [[1], [1]])
    with pytest.raises(ToyInputError, match="2 to 8"):
        make_toy(["a"], [[1]], [[1]], [[1]], [[1]])
