"""Every lesson reproduces the numbers its worked example publishes (float64, 1e-9)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.explain.lessons import (
    DRINK_PLANE,
    LESSONS,
    lesson,
    lesson_numbers,
    prepare_lesson,
    run_lesson,
    sentence_attention,
    sentence_vectors,
)
from core.toy import ToyInputError, make_toy, run_toy

TOL = 1e-9
TOY_LESSONS = [item for item in LESSONS if item.settings is None]


def softmax_by_hand(xs):
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


@pytest.mark.parametrize("item", TOY_LESSONS, ids=lambda item: item.id)
def test_lesson_reproduces_published_numbers(item):
    numbers = lesson_numbers(item, run_lesson(item))
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
    result = run_lesson(lesson("three_inputs"))
    weights = [math.exp(2) / (math.exp(2) + 2 * math.exp(4))] + \
        [math.exp(4) / (math.exp(2) + 2 * math.exp(4))] * 2
    values = [[1, 2, 3], [2, 8, 0], [2, 6, 3]]
    output = [sum(w * v[j] for w, v in zip(weights, values, strict=True)) for j in range(3)]
    np.testing.assert_allclose(result.weights[0], weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(result.output, output, rtol=0, atol=TOL)


def test_cat_sat_mat_scaled_softmax_by_hand():
    item = lesson("cat_sat_mat")
    result = run_lesson(item)
    weights = softmax_by_hand([s / math.sqrt(2) for s in (0.3, 1.2, 2.0, 0.1, 0.3, 1.4)])
    np.testing.assert_allclose(result.weights, weights, rtol=0, atol=TOL)
    assert result.scale == pytest.approx(math.sqrt(2))
    vectors = item.inputs
    output = [sum(w * v[j] for w, v in zip(weights, vectors, strict=True)) for j in range(2)]
    np.testing.assert_allclose(result.output, output, rtol=0, atol=TOL)


def test_attention_function_by_hand():
    result = run_lesson(lesson("attention_function"))
    weights = softmax_by_hand([4, 10, 16])
    np.testing.assert_allclose(result.weights, weights, rtol=0, atol=TOL)
    assert result.output[0] == pytest.approx(0.1 * weights[0] + 0.4 * weights[1]
                                             + 0.7 * weights[2], abs=TOL)


def test_matrix_lesson_all_outputs_by_hand():
    result = run_lesson(lesson("matrix_view"))
    values = [[1, 2, 3], [2, 8, 0], [2, 6, 3]]
    for i, scores in enumerate([(2, 4, 4), (4, 16, 12), (4, 12, 10)]):
        w = softmax_by_hand(scores)
        expected = [sum(wj * v[c] for wj, v in zip(w, values, strict=True)) for c in range(3)]
        np.testing.assert_allclose(result.output[i], expected, rtol=0, atol=TOL)


def test_drink_water_cosine_prefers_the_water_sentence_and_dot_the_longer_one():
    cos = run_lesson(lesson("drink_water_cosine"))
    dot = run_lesson(lesson("drink_water_dot"))
    assert np.argmax(cos.weights) == 3  # "I drink water"
    assert np.argmax(dot.weights) == 2  # "I drink red-wine"
    assert min(cos.weights[2:]) > max(cos.weights[:2])
    np.testing.assert_allclose(cos.weights, softmax_by_hand(list(cos.scores)), atol=TOL)


def _plane_kv():
    from gensim.models import KeyedVectors

    kv = KeyedVectors(2)
    kv.add_vectors(list(DRINK_PLANE), np.array(list(DRINK_PLANE.values()), dtype=np.float64))
    return kv


def test_sentence_mode_in_the_plane_matches_the_lesson():
    item = lesson("drink_water_cosine")
    vectors = sentence_vectors(list(item.tokens), _plane_kv())
    assert vectors.labels == item.tokens and vectors.warnings == ()
    np.testing.assert_allclose(vectors.vectors, item.expected["inputs"], atol=TOL)
    result = sentence_attention(item.query_label, list(item.tokens), _plane_kv())
    np.testing.assert_allclose(result.scores, item.expected["scores"], atol=TOL)


def test_sentence_vectors_on_word_vectors(tiny_kv):
    vectors = sentence_vectors(["I drink water", "zzz qqq", "I eat salmon"], tiny_kv)
    assert vectors.labels == ("I drink water", "I eat salmon")
    assert any("left out" in w for w in vectors.warnings)
    expected = np.mean([tiny_kv["i"], tiny_kv["drink"], tiny_kv["water"]], axis=0)
    np.testing.assert_allclose(vectors.vectors[0], expected, atol=1e-6)
    result = sentence_attention("I drink water with fine", ["I eat salmon", "I drink water"],
                                tiny_kv, scoring="dot")
    assert result.weights.shape == (2,) and result.weights.sum() == pytest.approx(1)
    with pytest.raises(ValueError, match="query sentence"):
        sentence_attention("zzz", ["I eat salmon"], tiny_kv)


def test_word_vector_lesson_runs_on_vectors(tiny_kv):
    item = lesson("animal_it")
    with pytest.raises(ValueError, match="kv"):
        run_lesson(item)
    result = run_lesson(item, tiny_kv)
    assert result.weights.shape[0] == 4
    run = prepare_lesson(item, tiny_kv)
    assert run.row_labels[run.row] == "it" and run.heads is not None


@pytest.mark.parametrize("item", TOY_LESSONS, ids=lambda item: item.id)
def test_prepared_lessons_have_a_query_axis(item):
    run = prepare_lesson(item)
    h, r, n = run.result.weights.shape
    assert (h, n) == (1, len(item.tokens)) and r == len(run.row_labels) == len(run.x_q)


def test_toy_inputs_validate_and_run():
    item = lesson("three_inputs")
    toy = make_toy(item.tokens, item.inputs, item.w_q, item.w_k, item.w_v)
    result = run_toy(toy, query=0)
    np.testing.assert_array_equal(result.scores[0, 0], [2, 4, 4])
    with pytest.raises(ToyInputError, match="different lengths") as error:
        make_toy(["a", "b"], [[1, 2], [3]], [[1], [1]], [[1], [1]], [[1], [1]])
    assert error.value.matrix == "X"
    with pytest.raises(ToyInputError, match="W_K is 2×2; expected 2×1"):
        make_toy(["a"], [[1, 2]], [[1], [1]], [[1, 0], [0, 1]], [[1], [1]])
    with pytest.raises(ToyInputError, match="2 to 8"):
        make_toy(["a"], [[1]], [[1]], [[1]], [[1]])
