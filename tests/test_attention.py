"""Properties of core.maths.attention: scoring, normalisation, masks, multi-head, dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.maths.attention import (
    NORMALIZATIONS,
    SCORINGS,
    attend,
    causal_mask,
    exclude_self_mask,
    multi_head_attention,
    padding_mask,
)
from core.maths.statistics import entropy

FAST = settings(max_examples=30, deadline=None)
# No subnormal scores: q * c may underflow to exactly 0 where q / T stays > 0, and ReLU then
# tells "no positive score" from "a score of 1e-323": a limit of floating point, not of the
# maths. Tiny entries are flushed to 0, so no product of two entries (q.k) is subnormal either.
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                   width=64).map(lambda x: 0.0 if abs(x) < 1e-100 else x)


@st.composite
def qkv(draw, max_n: int = 6, max_d: int = 5):
    """Queries (n_q, d_k), keys (n_kv, d_k), values (n_kv, d_v) with moderate values."""
    n_q, n_kv = draw(st.integers(1, max_n)), draw(st.integers(1, max_n))
    d_k, d_v = draw(st.integers(1, max_d)), draw(st.integers(1, max_d))
    q = draw(arrays(np.float64, (n_q, d_k), elements=finite))
    k = draw(arrays(np.float64, (n_kv, d_k), elements=finite))
    v = draw(arrays(np.float64, (n_kv, d_v), elements=finite))
    return q, k, v


# ----------------------------------------------------------------------------- normalisation


@FAST
@given(qkv(), st.sampled_from(NORMALIZATIONS), st.sampled_from(("dot", "scaled_dot", "cosine")))
def test_rows_sum_to_one_unless_flagged(data, normalization, scoring):
    q, k, v = data
    result = attend(q, k, v, scoring=scoring, normalization=normalization)
    sums = result.weights.sum(axis=-1)
    assert np.all(result.weights >= 0)
    np.testing.assert_allclose(sums[~result.empty_rows], 1.0, atol=1e-9)
    np.testing.assert_array_equal(sums[result.empty_rows], 0.0)
    if normalization != "relu":
        assert not result.empty_rows.any()  # only relu can empty an unmasked row


@FAST
@given(qkv(), st.sampled_from(NORMALIZATIONS), st.randoms(use_true_random=False))
def test_permuting_keys_permutes_weights_and_keeps_output(data, normalization, rnd):
    q, k, v = data
    perm = np.array(rnd.sample(range(len(k)), len(k)))
    base = attend(q, k, v, normalization=normalization)
    permuted = attend(q, k[perm], v[perm], normalization=normalization)
    np.testing.assert_allclose(permuted.weights, base.weights[:, perm], atol=1e-9)
    np.testing.assert_allclose(permuted.output, base.output, atol=1e-9)


@FAST
@given(qkv(), st.sampled_from(NORMALIZATIONS))
def test_scaled_dot_equals_dot_with_temperature_sqrt_dk(data, normalization):
    q, k, v = data
    scaled = attend(q, k, v, scoring="scaled_dot", normalization=normalization)
    tempered = attend(q, k, v, scoring="dot", normalization=normalization,
                      temperature=math.sqrt(q.shape[1]))
    np.testing.assert_allclose(scaled.logits, tempered.logits, atol=1e-12)
    np.testing.assert_allclose(scaled.weights, tempered.weights, atol=1e-12)
    np.testing.assert_allclose(scaled.scores, q @ k.T, atol=1e-12)  # scores stay raw


@FAST
@given(qkv(), st.floats(0.1, 10), finite)
def test_softmax_shift_invariance_and_query_scaling_is_inverse_temperature(data, c, shift):
    q, k, v = data
    # Adding the same score to every key (a query component along a direction all keys share).
    q1 = np.hstack([q, np.full((len(q), 1), shift)])
    k1 = np.hstack([k, np.ones((len(k), 1))])
    np.testing.assert_allclose(attend(q1, k1, v, scoring="dot").weights,
                               attend(q, k, v, scoring="dot").weights, atol=1e-9)
    # Scaling q by c is temperature 1/c, for every normalisation.
    for normalization in NORMALIZATIONS:
        scaled = attend(q * c, k, v, scoring="dot", normalization=normalization)
        tempered = attend(q, k, v, scoring="dot", normalization=normalization, temperature=1 / c)
        np.testing.assert_allclose(scaled.weights, tempered.weights, atol=1e-9)


def test_temperature_extremes_sharpen_and_flatten():
    q, k, v = np.array([1.0, 0]), np.eye(2), np.eye(2)
    assert attend(q, k, v, temperature=1e-3).weights[0] == pytest.approx(1.0)
    np.testing.assert_allclose(attend(q, k, v, temperature=1e6).weights, [0.5, 0.5], atol=1e-6)


@pytest.mark.parametrize("temperature", [0, -1, math.inf, math.nan])
def test_bad_temperature_raises(temperature):
    with pytest.raises(ValueError, match="temperature"):
        attend(np.ones(2), np.ones((2, 2)), np.ones((2, 2)), temperature=temperature)


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_stay_finite(normalization, dtype):
    keys = np.array([[1e15], [-1e15], [0.9e15], [1e15]], dtype=dtype)  # scores up to 1e30
    result = attend(np.array([1e15], dtype=dtype), keys, np.eye(4, dtype=dtype),
                    scoring="dot", normalization=normalization)
    assert np.all(np.isfinite(result.weights)) and np.all(np.isfinite(result.output))
    assert result.weights.sum() == pytest.approx(1.0, abs=1e-6)
    assert result.weights[1] == 0


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_overflowing_logits_give_the_limit_not_nan(normalization, recwarn):
    # Temperature 1e-308 turns score 2 into +inf (past the largest float) but leaves 1 finite.
    result = attend(np.array([[1.0, 0], [1.0, 0]]), np.array([[2.0, 0], [1.0, 0], [-1.0, 0]]),
                    np.eye(3), scoring="dot", normalization=normalization, temperature=1e-308,
                    mask=np.array([[True, True, True], [False, True, True]]))
    np.testing.assert_array_equal(result.weights, [[1, 0, 0], [0, 1, 0]])
    assert not any(issubclass(w.category, RuntimeWarning) for w in recwarn)


def test_relu_all_negative_row_is_zero_and_flagged():
    q = np.array([[1.0, 0], [-1.0, 0]])
    k = np.array([[1.0, 0], [2.0, 0]])
    result = attend(q, k, np.eye(2), scoring="dot", normalization="relu")
    np.testing.assert_allclose(result.weights, [[1 / 3, 2 / 3], [0, 0]])
    np.testing.assert_array_equal(result.empty_rows, [False, True])
    np.testing.assert_array_equal(result.output[1], [0, 0])


def test_sparsemax_known_example():
    # Sorted z = [1, 0.5, -1]: k=2 is the largest k with 1 + k z_k > sum of top k
    # (1 + 2*0.5 = 2 > 1.5, but 1 + 3*(-1) = -2 < 0.5), so tau = (1 + 0.5 - 1) / 2 = 0.25.
    result = attend(np.array([1.0, 0.5, -1.0]), np.eye(3), np.eye(3), scoring="dot",
                    normalization="sparsemax")
    np.testing.assert_allclose(result.weights, [0.75, 0.25, 0.0], atol=1e-12)


@FAST
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 8)), elements=finite))
def test_sparsemax_is_a_sparse_projection_onto_the_simplex(logits):
    n_q, n_kv = logits.shape
    result = attend(logits, np.eye(n_kv), np.eye(n_kv), scoring="dot", normalization="sparsemax")
    w = result.weights
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(w >= 0)
    # The support holds the largest logits, and inside it weights are logits shifted by one tau.
    for row, z in zip(w, logits, strict=True):
        support = row > 0
        assert z[support].min() >= z[~support].max(initial=-np.inf) - 1e-9
        np.testing.assert_allclose(np.ptp(z[support] - row[support]), 0, atol=1e-9)
    spread = attend(np.array([10.0, 0, 0, -5]), np.eye(4), np.eye(4), scoring="dot",
                    normalization="sparsemax")
    np.testing.assert_array_equal(spread.weights, [1, 0, 0, 0])  # exactly sparse


# ----------------------------------------------------------------------------- masks


@FAST
@given(qkv(), st.sampled_from(NORMALIZATIONS))
def test_causal_upper_triangle_is_zero(data, normalization):
    q, k, v = data
    n = min(len(q), len(k))
    result = attend(q[:n], k[:n], v[:n], normalization=normalization, mask=causal_mask(n))
    assert np.all(result.weights[np.triu_indices(n, 1)] == 0)
    assert np.all(np.isinf(result.logits[np.triu_indices(n, 1)]))


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("scoring", SCORINGS)
def test_fully_masked_row_gives_zeros_and_flag_without_nan(normalization, scoring, recwarn):
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    params = {"general": {"W": rng.normal(size=(4, 4))},
              "additive": {"W1": rng.normal(size=(3, 4)), "W2": rng.normal(size=(3, 4)),
                           "v": rng.normal(size=3)}}.get(scoring, {})
    result = attend(q, k, v, scoring=scoring, normalization=normalization, mask=mask, **params)
    assert not np.isnan(result.weights).any() and not np.isnan(result.output).any()
    np.testing.assert_array_equal(result.weights[1], 0)
    np.testing.assert_array_equal(result.output[1], 0)
    assert result.empty_rows[1]
    assert not any(issubclass(w.category, RuntimeWarning) for w in recwarn)


def test_mask_helpers():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(causal_mask(2, 4), [[1, 1, 1, 0], [1, 1, 1, 1]])
    np.testing.assert_array_equal(exclude_self_mask(2), [[0, 1], [1, 0]])
    valid = np.array([True, True, False])
    np.testing.assert_array_equal(padding_mask(valid, 2), [[1, 1, 0], [1, 1, 0]])
    combined = causal_mask(3) & exclude_self_mask(3) & padding_mask(valid, 3)
    np.testing.assert_array_equal(combined, [[0, 0, 0], [1, 0, 0], [1, 1, 0]])


def test_mask_errors():
    q, k = np.ones((2, 3)), np.ones((4, 3))
    with pytest.raises(ValueError, match="boolean"):
        attend(q, k, k, mask=np.ones((2, 4)))
    with pytest.raises(ValueError, match="broadcast"):
        attend(q, k, k, mask=np.ones((3, 4), dtype=bool))


def test_exclude_self_moves_weight_to_others():
    x = np.eye(3) * 5
    result = attend(x, x, x, mask=exclude_self_mask(3))
    np.testing.assert_array_equal(np.diag(result.weights), 0)
    np.testing.assert_allclose(result.weights.sum(axis=1), 1)


# ----------------------------------------------------------------------------- scoring


def test_cosine_zero_vector_scores_zero_not_nan():
    result = attend(np.zeros(2), np.array([[1.0, 0], [0, 0]]), np.eye(2), scoring="cosine")
    np.testing.assert_array_equal(result.scores, [0, 0])
    np.testing.assert_allclose(result.weights, [0.5, 0.5])


def test_general_and_additive_match_their_formulas():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    w = rng.normal(size=(3, 3))
    general = attend(q, k, v, scoring="general", W=w)
    expected = [[q[i] @ w @ k[j] for j in range(4)] for i in range(2)]
    np.testing.assert_allclose(general.scores, expected)
    np.testing.assert_allclose(attend(q, k, v, scoring="general", W=np.eye(3)).scores, q @ k.T)
    w1, w2, a = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.normal(size=5)
    additive = attend(q, k, v, scoring="additive", W1=w1, W2=w2, v=a)
    expected = [[a @ np.tanh(w1 @ q[i] + w2 @ k[j]) for j in range(4)] for i in range(2)]
    np.testing.assert_allclose(additive.scores, expected)


@pytest.mark.parametrize(
    ("scoring", "params", "message"),
    [
        ("general", {}, "'W' is missing"),
        ("general", {"W": np.eye(2)}, r"'W' has shape \(2, 2\); expected \(3, 3\)"),
        ("additive", {"W2": np.eye(3), "v": np.ones(3)}, "'W1' is missing"),
        ("additive", {"W1": np.ones((4, 3)), "W2": np.ones((3, 3)), "v": np.ones(4)}, "'W2'"),
        ("additive", {"W1": np.ones((4, 3)), "W2": np.ones((4, 3)), "v": np.ones(3)}, "'v'"),
        ("additive", {"W1": np.ones((4, 2)), "W2": np.ones((4, 3)), "v": np.ones(4)}, "'W1'"),
    ],
)
def test_scoring_parameter_errors_name_the_parameter(scoring, params, message):
    with pytest.raises(ValueError, match=message):
        attend(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 3)), scoring=scoring, **params)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="scaled_dot"):
        attend(np.ones(2), np.ones((2, 2)), np.ones((2, 2)), scoring="bilinear")
    with pytest.raises(ValueError, match="sparsemax"):
        attend(np.ones(2), np.ones((2, 2)), np.ones((2, 2)), normalization="entmax")


def test_shape_errors():
    with pytest.raises(ValueError, match="d_k"):
        attend(np.ones(3), np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="one value per key"):
        attend(np.ones(2), np.ones((2, 2)), np.ones((3, 2)))


# ----------------------------------------------------------------------------- results, dtypes


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("scoring", ("dot", "scaled_dot", "cosine"))
def test_float32_in_float32_out(scoring, normalization):
    rng = np.random.default_rng(2)
    q, k, v = (rng.normal(size=s).astype(np.float32) for s in ((3, 4), (5, 4), (5, 2)))
    result = attend(q, k, v, scoring=scoring, normalization=normalization,
                    mask=causal_mask(3, 5))
    for a in (result.scores, result.logits, result.weights, result.output):
        assert a.dtype == np.float32
    heads = multi_head_attention(q, k, np.ones((4, 4), np.float32), np.ones((4, 4), np.float32),
                                 np.ones((4, 4), np.float32), np.ones((4, 4), np.float32), 2,
                                 scoring=scoring, normalization=normalization)
    assert heads.output.dtype == np.float32 and heads.weights.dtype == np.float32


def test_single_query_gives_1d_results_and_read_only_arrays():
    result = attend(np.ones(3), np.ones((4, 3)), np.ones((4, 2)))
    assert result.scores.shape == result.weights.shape == (4,)
    assert result.output.shape == (2,)
    assert result.empty_rows.shape == () and not result.empty_rows
    with pytest.raises(ValueError):
        result.weights[0] = 1.0


def test_entropy():
    w = np.array([[1.0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], [0, 0, 0, 0]])
    np.testing.assert_allclose(entropy(w), [0, math.log(4), 0])
    assert entropy(np.full(3, 1 / 3, dtype=np.float32)).dtype == np.float32


# ----------------------------------------------------------------------------- multi-head


@st.composite
def multi_head_case(draw):
    n_heads = draw(st.integers(1, 3))
    d, d_k, d_v, d_out = (draw(st.integers(1, 4)) for _ in range(4))
    n_q, n_kv = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    mats = [draw(arrays(np.float64, s, elements=st.floats(-2, 2))) for s in
            ((n_q, d), (n_kv, d), (d, n_heads * d_k), (d, n_heads * d_k), (d, n_heads * d_v),
             (n_heads * d_v, d_out))]
    return n_heads, mats


@FAST
@given(multi_head_case(), st.sampled_from(NORMALIZATIONS), st.booleans())
def test_multi_head_equals_an_explicit_loop_over_heads(case, normalization, causal):
    n_heads, (x_q, x_kv, w_q, w_k, w_v, w_o) = case
    mask = causal_mask(len(x_q), len(x_kv)) if causal else None
    result = multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, n_heads,
                                  normalization=normalization, mask=mask)
    d_k, d_v = w_q.shape[1] // n_heads, w_v.shape[1] // n_heads
    outputs = []
    for i in range(n_heads):  # the loop lives here, in the test, as the reference
        head = attend(x_q @ w_q[:, i * d_k:(i + 1) * d_k], x_kv @ w_k[:, i * d_k:(i + 1) * d_k],
                      x_kv @ w_v[:, i * d_v:(i + 1) * d_v], normalization=normalization,
                      mask=mask)
        np.testing.assert_allclose(result.weights[i], head.weights, atol=1e-12)
        np.testing.assert_allclose(result.scores[i], head.scores, atol=1e-12)
        np.testing.assert_array_equal(result.empty_rows[i], head.empty_rows)
        outputs.append(head.output)
    concat = np.concatenate(outputs, axis=1)
    np.testing.assert_allclose(result.concat, concat, atol=1e-12)
    np.testing.assert_allclose(result.output, concat @ w_o, atol=1e-12)


@FAST
@given(qkv(max_d=4), st.sampled_from(NORMALIZATIONS))
def test_one_identity_head_equals_plain_attend(data, normalization):
    x_q, x_kv, _ = data
    eye = np.eye(x_q.shape[1])
    heads = multi_head_attention(x_q, x_kv, eye, eye, eye, eye, 1, normalization=normalization)
    plain = attend(x_q, x_kv, x_kv, normalization=normalization)
    np.testing.assert_allclose(heads.weights[0], plain.weights, atol=1e-12)
    np.testing.assert_allclose(heads.output, plain.output, atol=1e-12)


def test_multi_head_shapes_single_query_no_output_projection_and_per_head_general():
    rng = np.random.default_rng(3)
    h, d, d_k, d_v = 3, 5, 2, 4
    x_kv = rng.normal(size=(6, d))
    w_q, w_k, w_v = rng.normal(size=(d, h * d_k)), rng.normal(size=(d, h * d_k)), \
        rng.normal(size=(d, h * d_v))
    r = multi_head_attention(x_kv[0], x_kv, w_q, w_k, w_v, None, h)
    assert r.output.shape == r.concat.shape == (h * d_v,)
    assert r.weights.shape == r.scores.shape == r.logits.shape == (h, 6)
    assert r.queries.shape == (h, d_k) and r.keys.shape == (h, 6, d_k)
    assert r.values.shape == (h, 6, d_v) and r.head_outputs.shape == (h, d_v)
    assert r.empty_rows.shape == (h,)
    full = multi_head_attention(x_kv, x_kv, w_q, w_k, w_v, None, h)
    np.testing.assert_allclose(full.output[0], r.output)
    per_head_w = rng.normal(size=(h, d_k, d_k))
    g = multi_head_attention(x_kv, x_kv, w_q, w_k, w_v, None, h, scoring="general",
                             W=per_head_w)
    for i in range(h):
        np.testing.assert_allclose(g.scores[i], full.queries[i] @ per_head_w[i] @ full.keys[i].T)
    mask = np.ones((h, 6, 6), dtype=bool)
    mask[1] = False
    masked = multi_head_attention(x_kv, x_kv, w_q, w_k, w_v, None, h, mask=mask)
    np.testing.assert_array_equal(masked.empty_rows, [[False] * 6, [True] * 6, [False] * 6])


def test_multi_head_projection_errors():
    x = np.ones((2, 4))
    with pytest.raises(ValueError, match="w_q"):
        multi_head_attention(x, x, np.ones((4, 5)), np.ones((4, 5)), np.ones((4, 4)), None, 2)
    with pytest.raises(ValueError, match="w_k"):
        multi_head_attention(x, x, np.ones((4, 4)), np.ones((4, 2)), np.ones((4, 4)), None, 2)
    with pytest.raises(ValueError, match="w_o"):
        multi_head_attention(x, x, np.ones((4, 4)), np.ones((4, 4)), np.ones((4, 4)),
                             np.ones((3, 4)), 2)


def test_attention_runs_blas_on_one_thread_and_restores_the_count():
    import threading

    from core.maths.threads import blas_threads, single_blas_thread

    before = blas_threads()
    with single_blas_thread():
        assert blas_threads() in (None, 1)
        with single_blas_thread():  # nested: the inner exit must not restore yet
            pass
        assert blas_threads() in (None, 1)
    workers = [threading.Thread(target=lambda: multi_head_attention(
        np.ones((4, 6)), np.ones((4, 6)), np.eye(6), np.eye(6), np.eye(6), None, 2))
        for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert blas_threads() == before  # concurrent users leave the process as they found it


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_heads_split_over_threads_give_the_serial_numbers(monkeypatch, dtype):
    import core.maths.threads

    rng = np.random.default_rng(5)
    h, n, d = 5, 7, 10
    x = (rng.standard_normal((n, d)) * 30).astype(dtype)  # large logits: exp needs the shift
    w = [rng.standard_normal((d, h * 2)).astype(dtype) for _ in range(3)]
    mask = np.ones((h, n, n), bool)
    mask[1, 3] = False  # a fully masked row in head 1
    mask[4] &= causal_mask(n)

    def run():
        return multi_head_attention(x, x, *w, None, h, mask=mask, temperature=0.5)

    monkeypatch.setattr(core.maths.threads, "MIN_ELEMENTS", 10**12)  # one chunk: one thread
    serial = run()
    monkeypatch.setattr(core.maths.threads, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(core.maths.threads.os, "cpu_count", lambda: 4)
    assert len(core.maths.threads.head_chunks(h, n, n)) == 4
    threaded = run()
    for name in ("scores", "logits", "weights", "head_outputs", "output", "empty_rows"):
        a, b = getattr(serial, name), getattr(threaded, name)
        assert a.dtype == b.dtype == (bool if name == "empty_rows" else dtype)
        np.testing.assert_array_equal(a, b)
    assert threaded.empty_rows[1, 3] and not threaded.weights[1, 3].any()
    assert np.isfinite(threaded.weights).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [1, 7, 1536])
def test_a_product_in_column_halves_is_the_product(monkeypatch, dtype, width):
    import core.maths.threads
    from core.maths.threads import in_column_halves

    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 384)).astype(dtype)
    w = rng.standard_normal((384, width)).astype(dtype)
    monkeypatch.setattr(core.maths.threads.os, "cpu_count", lambda: 2)
    got = in_column_halves(x, w)
    assert got.shape == (32, width) and got.dtype == dtype and got.flags.c_contiguous
    # Each half is its own BLAS call, which may sum in another order: float rounding apart.
    np.testing.assert_allclose(got, x.astype(np.float64) @ w.astype(np.float64),
                               rtol=0, atol=1e-3 if dtype == np.float32 else 1e-10)
    with pytest.raises(ValueError):  # a mismatch in the half on the other thread is raised here
        in_column_halves(x[:, :10], w)
