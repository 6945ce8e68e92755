"""The classic worked examples of attention (the lessons of core.explain.lessons), checked against
hand-written formulas (float64, 1e-9).

Expected values are computed here with `math` and explicit sums, never with the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.maths.attention import attend, multi_head_attention

TOL = 1e-9


def softmax_by_hand(xs: list[float]) -> list[float]:
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


def weighted_sum_by_hand(weights: list[float], rows: list[list[float]]) -> list[float]:
    return [sum(w * row[j] for w, row in zip(weights, rows, strict=True))
            for j in range(len(rows[0]))]


# --- 1. three 4-dimensional inputs with 4x3 weight matrices ------------------------------------

X = [[1, 0, 1, 0], [0, 2, 0, 2], [1, 1, 1, 1]]
W_KEY = [[0, 0, 1], [1, 1, 0], [0, 1, 0], [1, 1, 0]]
W_QUERY = [[1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 1]]
W_VALUE = [[0, 2, 0], [0, 3, 0], [1, 0, 3], [1, 1, 0]]


def matmul_by_hand(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    return [[sum(a[i][t] * b[t][j] for t in range(len(b))) for j in range(len(b[0]))]
            for i in range(len(a))]


def test_three_inputs_first_query_scores_weights_output():
    queries = matmul_by_hand(X, W_QUERY)
    keys = matmul_by_hand(X, W_KEY)
    values = matmul_by_hand(X, W_VALUE)
    assert queries[0] == [1, 0, 2]
    assert keys == [[0, 1, 1], [4, 4, 0], [2, 3, 1]]
    assert values == [[1, 2, 3], [2, 8, 0], [2, 6, 3]]
    weights = softmax_by_hand([2, 4, 4])
    expected_output = weighted_sum_by_hand(weights, values)

    result = attend(np.array(queries[0], dtype=float), np.array(keys, dtype=float),
                    np.array(values, dtype=float), scoring="dot")
    np.testing.assert_allclose(result.scores, [2, 4, 4], rtol=0, atol=TOL)
    np.testing.assert_allclose(result.weights, weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(result.output, expected_output, rtol=0, atol=TOL)
    # Weights 0.0634, 0.4683, 0.4683 and output about [1.94, 6.68, 1.60], as in the lesson.
    np.testing.assert_allclose(result.output, [1.9366, 6.6831, 1.5951], atol=1e-4)


def test_three_inputs_as_one_head_of_multi_head_attention():
    x = np.array(X, dtype=float)
    result = multi_head_attention(x, x, np.array(W_QUERY, float), np.array(W_KEY, float),
                                  np.array(W_VALUE, float), None, 1, scoring="dot")
    values = matmul_by_hand(X, W_VALUE)
    keys = matmul_by_hand(X, W_KEY)
    for i, query in enumerate(matmul_by_hand(X, W_QUERY)):
        scores = [sum(q * k for q, k in zip(query, key, strict=True)) for key in keys]
        np.testing.assert_allclose(result.scores[0, i], scores, rtol=0, atol=TOL)
        expected = weighted_sum_by_hand(softmax_by_hand(scores), values)
        np.testing.assert_allclose(result.output[i], expected, rtol=0, atol=TOL)


# --- 2. "The cat sat on the mat" with 2-dimensional vectors, query "sat" = [1, 1] --------------

SENTENCE = {"the": [0.1, 0.2], "cat": [0.9, 0.3], "sat": [1.0, 1.0], "on": [0.2, -0.1],
            "mat": [0.6, 0.8]}
TOKENS = ["the", "cat", "sat", "on", "the", "mat"]


def test_cat_sat_on_the_mat_scaled_dot_product():
    vectors = [SENTENCE[t] for t in TOKENS]
    query = SENTENCE["sat"]
    dots = [query[0] * v[0] + query[1] * v[1] for v in vectors]
    scaled = [d / math.sqrt(2) for d in dots]
    weights = softmax_by_hand(scaled)
    expected = weighted_sum_by_hand(weights, vectors)

    result = attend(np.array(query), np.array(vectors), np.array(vectors))
    np.testing.assert_allclose(result.scores, dots, rtol=0, atol=TOL)
    assert result.scale == pytest.approx(math.sqrt(2))
    np.testing.assert_allclose(result.logits, scaled, rtol=0, atol=TOL)
    np.testing.assert_allclose(result.weights, weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(result.output, expected, rtol=0, atol=TOL)
    # "sat" attends most to itself, then "cat" and "mat"; the two "the" tie.
    order = np.argsort(-result.weights)
    assert TOKENS[order[0]] == "sat"
    assert result.weights[0] == pytest.approx(result.weights[4], abs=TOL)


# --- 3. attention(query, keys, values) with unscaled dot-product scores ------------------------


def test_unscaled_dot_attention_function():
    keys = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    values = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]
    weights = softmax_by_hand([4, 10, 16])
    expected = weighted_sum_by_hand(weights, values)

    result = attend(np.array([1.0, 0, 1]), np.array(keys, float), np.array(values), scoring="dot")
    np.testing.assert_allclose(result.scores, [4, 10, 16], rtol=0, atol=TOL)
    assert result.scale == 1.0
    np.testing.assert_allclose(result.weights, weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(result.output, expected, rtol=0, atol=TOL)
    # Integers in, float64 out.
    from_ints = attend([1, 0, 1], keys, [[1, 2], [3, 4], [5, 6]], scoring="dot")
    assert from_ints.output.dtype == np.float64


# --- 4. cosine similarity and the "I drink water" sentence example -----------------------------


def test_cosine_of_two_vectors():
    expected = 11 / (math.sqrt(13) * math.sqrt(17))
    result = attend(np.array([2.0, 3.0]), np.array([[4.0, 1.0]]), np.array([[1.0]]),
                    scoring="cosine")
    assert result.scores[0] == pytest.approx(expected, abs=TOL)
    assert result.weights[0] == pytest.approx(1.0, abs=TOL)  # one key takes all the weight


def test_drink_water_sentence_attention_in_eat_drink_plane():
    # Axes: x = eat (-) .. drink (+), y = food (-) .. drinks (+); a sentence = mean of its words.
    words = {"i": [0.0, 0.0], "eat": [-1.0, -0.5], "drink": [1.0, 0.5], "salmon": [-0.5, -1.0],
             "steak": [-0.6, -1.0], "red-wine": [0.5, 1.0], "water": [0.4, 1.0],
             "a": [0.0, 0.0], "white-wine": [0.5, 0.9], "mix": [0.1, 0.2], "with": [0.0, 0.1],
             "fine": [0.1, 0.1]}
    sentences = ["i eat salmon", "i eat steak", "i drink red-wine", "i drink water",
                 "i drink a white-wine mix"]
    means = [[sum(words[w][j] for w in s.split()) / len(s.split()) for j in range(2)]
             for s in sentences]
    query_words = "i drink water with fine".split()
    query = [sum(words[w][j] for w in query_words) / len(query_words) for j in range(2)]
    dots = [query[0] * m[0] + query[1] * m[1] for m in means]
    weights = softmax_by_hand([d / math.sqrt(2) for d in dots])

    result = attend(np.array(query), np.array(means), np.array(means))
    np.testing.assert_allclose(result.weights, weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(result.output, weighted_sum_by_hand(weights, means), atol=TOL)
    # The drink sentences outweigh the eat sentences.
    assert min(result.weights[2:]) > max(result.weights[:2])
