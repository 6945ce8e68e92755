"""The step table, matrix view and head statistics repeat the core's numbers (no Qt)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import analysis_steps, run_lesson_analysis
from hypothesis import given, settings
from hypothesis import strategies as st

from core.explain.matrices import matrix_view
from core.explain.steps import computation_steps, format_number, format_vector, step_formulas
from core.maths.attention import NORMALIZATIONS, SCORINGS, multi_head_attention
from core.maths.heads import HeadProjections
from core.maths.statistics import entropy, head_statistics

TOL = 1e-9


def _random_case(seed: int, scoring: str, normalization: str, n_heads: int, masked: bool):
    """Random inputs, projections (with W_O) and scoring parameters, run through the core."""
    rng = np.random.default_rng(seed)
    n_q, n_kv, d_k, d_v = rng.integers(1, 5), rng.integers(1, 6), rng.integers(1, 4), 2
    d = int(rng.integers(2, 7))
    x_q, x_kv = rng.normal(size=(n_q, d)), rng.normal(size=(n_kv, d))
    w_q, w_k = rng.normal(size=(d, n_heads * d_k)), rng.normal(size=(d, n_heads * d_k))
    w_v, w_o = rng.normal(size=(d, n_heads * d_v)), rng.normal(size=(n_heads * d_v, d))
    params = {}
    if scoring == "general":
        params = {"W": rng.normal(size=(n_heads, d_k, d_k))}
    if scoring == "additive":
        params = {"W1": rng.normal(size=(3, d_k)), "W2": rng.normal(size=(3, d_k)),
                  "v": rng.normal(size=3)}
    mask = rng.random((n_q, n_kv)) < 0.7 if masked else None
    temperature = float(rng.choice([0.1, 0.5, 1.0, 3.0]))
    result = multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads, scoring=scoring,
                                  normalization=normalization, temperature=temperature,
                                  mask=mask, **params)
    heads = HeadProjections(w_q, w_k, w_v, w_o, n_heads, d_k, d_v, "file", "random test")
    return result, heads, x_q, x_kv, mask


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scoring=st.sampled_from(SCORINGS),
       normalization=st.sampled_from(NORMALIZATIONS), n_heads=st.integers(1, 4),
       masked=st.booleans(), data=st.data())
def test_step_table_repeats_core_numbers(seed, scoring, normalization, n_heads, masked, data):
    result, heads, x_q, x_kv, mask = _random_case(seed, scoring, normalization, n_heads, masked)
    n_q, n_kv = result.weights.shape[1:]
    row = data.draw(st.integers(0, n_q - 1))
    rows, cols = [f"q{i}" for i in range(n_q)], [f"k{j}" for j in range(n_kv)]
    wo_sum = np.zeros(x_q.shape[1])
    for head in range(n_heads):
        t = computation_steps(result, heads, head, row, rows, cols)
        assert (t.scoring, t.normalization) == (scoring, normalization)  # the result's own
        np.testing.assert_array_equal(t.raw_scores, result.scores[head, row])
        np.testing.assert_array_equal(t.logits, result.logits[head, row])
        np.testing.assert_array_equal(t.weights, result.weights[head, row])
        live = ~t.masked
        np.testing.assert_allclose(t.tempered[live], t.logits[live], rtol=1e-12, atol=0)
        np.testing.assert_allclose(t.scaled * (1 / result.temperature), t.tempered, rtol=1e-12)
        expected_masked = np.zeros(n_kv, bool) if mask is None else ~mask[row]
        np.testing.assert_array_equal(t.masked, expected_masked)
        np.testing.assert_allclose(t.weighted_values.sum(axis=0), t.head_output, atol=TOL)
        np.testing.assert_array_equal(t.head_output, result.head_outputs[head, row])
        assert t.empty == bool(result.empty_rows[head, row])
        wo_sum += t.wo_part
        for key in range(n_kv):  # every key's formulas can be written
            assert len(step_formulas(t, key)) == 6
    np.testing.assert_allclose(wo_sum, result.output[row], atol=TOL)
    np.testing.assert_array_equal(t.output, result.output[row])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_heads=st.integers(1, 4), masked=st.booleans())
def test_matrix_view_and_statistics_repeat_core_numbers(seed, n_heads, masked):
    result, heads, x_q, x_kv, _ = _random_case(seed, "scaled_dot", "softmax", n_heads, masked)
    head = n_heads - 1
    view = matrix_view(result, heads, x_q, x_kv, head, row=0)
    a, a2, o = view.by_symbol("A"), view.by_symbol("A′"), view.by_symbol("O")
    np.testing.assert_array_equal(a.array, result.scores[head].T)
    np.testing.assert_array_equal(a2.array, result.weights[head].T)
    np.testing.assert_allclose(view.by_symbol("V").array @ a2.array, o.array, atol=TOL)
    np.testing.assert_allclose(view.by_symbol("K").array.T @ view.by_symbol("Q").array,
                               a.array, atol=TOL)
    assert view.score == result.scores[head, 0, view.key_index]

    stats = head_statistics(result.weights, 0)
    np.testing.assert_allclose(stats.entropy, entropy(result.weights[:, 0]), atol=TOL)
    np.testing.assert_array_equal(stats.max_weight, result.weights[:, 0].max(axis=1))
    sim = stats.similarity
    live = ~result.empty_rows[:, 0]
    np.testing.assert_allclose(sim, sim.T, equal_nan=True)
    np.testing.assert_allclose(np.diag(sim)[live], 1.0, atol=1e-9)
    assert np.all((sim[np.ix_(live, live)] >= 0) & (sim[np.ix_(live, live)] <= 1))
    assert np.all(np.isnan(sim[~live]))


def test_head_statistics_by_hand():
    weights = np.array([[[1.0, 0.0]], [[0.5, 0.5]], [[0.0, 1.0]]])  # (h=3, r=1, n=2)
    stats = head_statistics(weights, 0, ["a", "b"])
    np.testing.assert_allclose(stats.entropy, [0, math.log(2), 0], atol=TOL)
    assert stats.max_key_labels == ("a", "a", "b")
    # Disjoint one-hot rows share nothing; one-hot vs uniform: JSD = 1.5 - 0.5*(0 + 1) - ...
    assert stats.similarity[0, 2] == pytest.approx(0.0, abs=TOL)
    jsd = (-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))) - 0.5 * (0 + 1)
    assert stats.similarity[0, 1] == pytest.approx(1 - jsd, abs=TOL)


def test_three_inputs_formulas_show_the_published_numbers():
    t = analysis_steps(run_lesson_analysis("three_inputs"))
    np.testing.assert_array_equal(t.raw_scores, [2, 4, 4])
    first = step_formulas(t, 0)
    assert "q = [1, 0, 2]" in first[0]
    assert "score = q·k = 1·0 + 0·1 + 2·1 = 2" in first[1]
    assert "exp(2 − 4)" in first[3] and "0.06338" in first[3]
    assert "head output o = " in first[4] and "= [1.937, 6.683, 1.595]" in first[4]
    # W_V makes 3-wide values from 4-wide inputs: W_O = pinv(W_V) maps the output back to X.
    assert "W_O part = o · W_O[rows 1–3]" in first[5] and t.note == ""
    # 2-wide values of 2-wide inputs: no W_O, the output is the heads' concatenation.
    cat = analysis_steps(run_lesson_analysis("cat_sat_mat"))
    assert "no W_O" in step_formulas(cat, 0)[5] and cat.wo_part is None


def test_scaled_and_masked_formulas():
    x = np.eye(3)
    mask = np.array([[True, False, True]])
    result = multi_head_attention(x[:1], x, np.eye(3), np.eye(3), np.eye(3), None, 1,
                                  mask=mask, temperature=2.0)
    t = computation_steps(result, None, 0, 0, ["q"], ["a", "b", "c"])
    assert "/ √3 = 0.5774" in step_formulas(t, 0)[1]
    # A caller that still names the scoring and normalisation gets the same table.
    named = computation_steps(result, None, 0, 0, ["q"], ["a", "b", "c"], scoring="scaled_dot",
                              normalization="softmax")
    assert named.formulas == t.formulas and named.scoring == "scaled_dot"
    assert "/ 2 = 0.2887" in step_formulas(t, 0)[2]
    assert "mask removes" in step_formulas(t, 1)[2]
    assert format_number(t.logits[1]) == "masked"


def test_mean_of_heads_shows_head_zero_and_says_so():
    x = run_lesson_analysis("three_inputs").sentence.vectors
    w = np.hstack([np.eye(4)] * 2)
    result = multi_head_attention(x, x, w, w, w, None, 2)
    t = computation_steps(result, None, None, 1, ["a", "b", "c"], ["a", "b", "c"])
    assert t.head == 0 and "head 1 of 2" in t.note


def test_format_vector():
    assert format_vector([1, 2.5, -3, 4, 5]) == "[1, 2.5, -3, 4, …]"
    assert format_vector([0.123456]) == "[0.1235]"


def test_a_one_dimension_head_names_its_single_w_o_row(tiny_kv):
    from core.pipeline import Pipeline
    from core.settings import Settings

    a = Pipeline(tiny_kv).run(Settings(sentence="i drink water", query="drink", n_heads=8,
                                       selected_head=6))  # 8 dims, 8 heads: d_v = 1
    lines = step_formulas(analysis_steps(a, head=6), 0)
    assert any("W_O[row 7]" in line for line in lines), lines  # not "rows 7–7"
