"""core.maths.heads: every head strategy builds valid, documented projections."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.maths.attention import attend, multi_head_attention
from core.maths.heads import HEAD_STRATEGIES, HeadFileError, HeadProjections, build_heads

D = 10
RNG = np.random.default_rng(11)
DATA = RNG.normal(size=(200, D)) * np.linspace(3, 0.5, D)  # distinct variances per dimension
DIRECTIONS = RNG.normal(size=(3, D))


def build(strategy: str, n_heads: int, **options) -> HeadProjections:
    extra = {"pca": {"data": DATA}, "axes": {"directions": DIRECTIONS}}.get(strategy, {})
    return build_heads(strategy, D, n_heads, **extra, **options)


def assert_shapes(p: HeadProjections, d: int = D) -> None:
    h, d_k, d_v = p.n_heads, p.d_k, p.d_v
    assert p.w_q.shape == p.w_k.shape == (d, h * d_k)
    assert p.w_v.shape == (d, h * d_v)
    assert p.w_o.shape == (h * d_v, d)  # always back to d_model: the output is a word vector
    assert p.note


@pytest.mark.parametrize("strategy", [s for s in HEAD_STRATEGIES if s != "file"])
@pytest.mark.parametrize("n_heads", range(1, D + 1))
def test_every_strategy_builds_every_head_count(strategy, n_heads):
    p = build(strategy, n_heads)
    assert p.n_heads == n_heads and p.strategy == strategy
    assert_shapes(p)
    assert p.w_q.dtype == np.float32
    x = RNG.normal(size=(4, D)).astype(np.float32)
    result = multi_head_attention(x, x, p.w_q, p.w_k, p.w_v, p.w_o, p.n_heads)
    assert result.output.shape == (4, D) and result.output.dtype == np.float32
    assert np.all(np.isfinite(result.output))


def test_default_head_width_and_note_for_non_divisors():
    p = build_heads("split", 50, 4)
    assert p.d_k == 12
    assert p.note.startswith("4 heads x d_k=12 (48 of 50 dimensions used; 50 is not divisible")
    assert "not divisible" not in build_heads("split", 50, 5).note
    assert build_heads("random", 50, 4, d_k=30).d_k == 30  # random heads may overlap


@pytest.mark.parametrize("n_heads", [0, -1, D + 1])
def test_bad_head_counts_raise(n_heads):
    with pytest.raises(ValueError, match="n_heads"):
        build_heads("split", D, n_heads)


def test_bad_names_and_widths_raise():
    with pytest.raises(ValueError, match="identity, split"):
        build_heads("learned", D, 2)
    with pytest.raises(ValueError, match="exceed d_model"):
        build_heads("split", D, 3, d_k=4)
    with pytest.raises(ValueError, match="d_k"):
        build_heads("random", D, 2, d_k=D + 1)


def test_identity_heads_repeat_the_raw_vectors():
    x = RNG.normal(size=(5, D))
    plain = attend(x, x, x)
    for n_heads in (1, 3):
        p = build_heads("identity", D, n_heads, d_k=2, dtype=np.float64)  # d_k is ignored
        assert p.d_k == D
        r = multi_head_attention(x, x, p.w_q, p.w_k, p.w_v, p.w_o, n_heads)
        for i in range(n_heads):
            np.testing.assert_allclose(r.weights[i], plain.weights, atol=1e-12)
        np.testing.assert_allclose(r.output, plain.output, atol=1e-12)
    assert "same" in build_heads("identity", D, 3).note


@given(st.integers(1, D), st.sampled_from(["dot", "scaled_dot", "cosine"]))
@settings(max_examples=15, deadline=None)
def test_split_heads_reproduce_attention_on_slices(n_heads, scoring):
    p = build_heads("split", D, n_heads, dtype=np.float64)
    x = RNG.normal(size=(4, D))
    r = multi_head_attention(x, x, p.w_q, p.w_k, p.w_v, p.w_o, n_heads, scoring=scoring)
    expected = np.zeros_like(x)
    for i in range(n_heads):  # reference loop, in the test only
        part = slice(i * p.d_k, (i + 1) * p.d_k)
        head = attend(x[:, part], x[:, part], x[:, part], scoring=scoring)
        np.testing.assert_allclose(r.weights[i], head.weights, atol=1e-12)
        expected[:, part] = head.output  # W_O puts each slice back in its own dimensions
    np.testing.assert_allclose(r.output, expected, atol=1e-12)


def test_random_is_reproducible_seeded_and_orthonormal():
    a = build_heads("random", D, 3, seed=5, dtype=np.float64)
    b = build_heads("random", D, 3, seed=5, dtype=np.float64)
    c = build_heads("random", D, 3, seed=6, dtype=np.float64)
    for name in ("w_q", "w_k", "w_v", "w_o"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert not np.allclose(getattr(a, name), getattr(c, name))
    assert not np.allclose(a.w_q, a.w_k)  # independent draws
    for w in (a.w_q, a.w_k, a.w_v):
        for i in range(3):
            block = w[:, i * a.d_k:(i + 1) * a.d_k]
            np.testing.assert_allclose(block.T @ block, np.eye(a.d_k), atol=1e-12)
    np.testing.assert_array_equal(a.w_o, a.w_v.T)
    # Pinned values: PCG64 + sign-fixed QR give these on every platform (up to rounding).
    pinned = [[0.08093444, -0.25206103, -0.25130554, -0.85978333],
              [0.41224974, -0.24654052, -0.22257281, 0.18083314],
              [-0.34481847, 0.80550711, -0.83027407, 0.37214575],
              [0.83940454, 0.4762786, -0.44491779, -0.29929842]]
    np.testing.assert_allclose(build_heads("random", 4, 2, seed=0).w_q, pinned, atol=1e-6)


def test_pca_heads_follow_variance_with_fixed_signs():
    p = build_heads("pca", D, 2, d_k=2, data=DATA, dtype=np.float64)
    np.testing.assert_allclose(p.w_q.T @ p.w_q, np.eye(4), atol=1e-12)
    # DATA's variance falls with the dimension index, so component j is close to axis j.
    np.testing.assert_allclose(np.abs(p.w_q[np.arange(4), np.arange(4)]), 1, atol=0.1)
    biggest = p.w_q[np.argmax(np.abs(p.w_q), axis=0), np.arange(4)]
    assert np.all(biggest > 0)
    flipped = build_heads("pca", D, 2, d_k=2, data=-DATA, dtype=np.float64)
    np.testing.assert_allclose(flipped.w_q, p.w_q, atol=1e-12)


@pytest.mark.parametrize(
    ("data", "message"),
    [(None, "needs `data`"), (DATA[:4], "more than 10"), (DATA[:, :5], "expected"),
     (np.full((20, D), np.nan), "NaN")],
)
def test_pca_errors(data, message):
    with pytest.raises(ValueError, match=message):
        build_heads("pca", D, 5, data=data)


def test_axes_heads_score_along_their_direction():
    p = build_heads("axes", D, 4, directions=DIRECTIONS, dtype=np.float64)
    assert p.d_k == 1
    unit = DIRECTIONS / np.linalg.norm(DIRECTIONS, axis=1, keepdims=True)
    np.testing.assert_allclose(p.w_q[:, :3], unit.T, atol=1e-12)
    assert "random" in p.note  # 4 heads, 3 directions
    x = RNG.normal(size=(5, D))
    r = multi_head_attention(x, x, p.w_q, p.w_k, p.w_v, p.w_o, 4, scoring="dot")
    for i in range(3):  # head i's scores are products of projections on direction i
        along = x @ unit[i]
        np.testing.assert_allclose(r.scores[i], np.outer(along, along), atol=1e-12)
    # Moving x orthogonally to direction 0 leaves head 0 unchanged.
    other = RNG.normal(size=D)
    other -= (other @ unit[0]) * unit[0]
    moved = multi_head_attention(x + other, x + other, p.w_q, p.w_k, p.w_v, p.w_o, 4,
                                 scoring="dot")
    np.testing.assert_allclose(moved.scores[0], r.scores[0], atol=1e-9)
    assert not np.allclose(moved.scores[1], r.scores[1])  # ... but not the other heads


def test_axes_wider_heads_keep_the_direction_first_and_orthonormal():
    p = build_heads("axes", D, 2, d_k=3, directions=DIRECTIONS[:2], seed=1, dtype=np.float64)
    for i in range(2):
        block = p.w_q[:, i * 3:(i + 1) * 3]
        np.testing.assert_allclose(block.T @ block, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(block[:, 0], DIRECTIONS[i] / np.linalg.norm(DIRECTIONS[i]))
    assert "ignored" in build_heads("axes", D, 1, directions=DIRECTIONS).note
    assert "; head 1 built" in build_heads("axes", D, 1, directions=DIRECTIONS[:1]).note
    assert "d_k=2 ignored" in build_heads("identity", D, 2, d_k=2).note


@pytest.mark.parametrize(
    ("directions", "message"),
    [(None, "needs `directions`"), (np.zeros((1, D)), "direction 0"), (np.ones((2, 3)), "shape")],
)
def test_axes_errors(directions, message):
    with pytest.raises(ValueError, match=message):
        build_heads("axes", D, 2, directions=directions)


# ----------------------------------------------------------------------------- file


def save(path, **arrays):
    np.savez(path, **arrays)
    return path


def good_arrays(h: int = 2, d_k: int = 3, d_v: int = 4) -> dict[str, np.ndarray]:
    return {"w_q": RNG.normal(size=(D, h * d_k)), "w_k": RNG.normal(size=(D, h * d_k)),
            "w_v": RNG.normal(size=(D, h * d_v)), "w_o": RNG.normal(size=(h * d_v, D))}


def test_file_round_trip(tmp_path):
    arrays = good_arrays()
    path = save(tmp_path / "heads.npz", **arrays)
    p = build_heads("file", D, 2, path=path, dtype=np.float64)
    assert (p.d_k, p.d_v, p.strategy) == (3, 4, "file")
    assert "heads.npz" in p.note
    for name, value in arrays.items():
        np.testing.assert_array_equal(getattr(p, name), value)
    assert build_heads("file", D, 2, path=str(path)).w_q.dtype == np.float32


def _bad_files():
    good = good_arrays()
    yield "missing", {k: v for k, v in good.items() if k != "w_o"}, "'w_o'"
    yield "wrong_rows", {**good, "w_q": np.ones((D + 1, 6)), "w_k": np.ones((D + 1, 6))}, "'w_q'"
    yield "odd_columns", {**good, "w_q": np.ones((D, 5)), "w_k": np.ones((D, 5))}, "'w_q'"
    yield "wrong_k", {**good, "w_k": np.ones((D, 4))}, "'w_k'"
    yield "wrong_v", {**good, "w_v": np.ones((3, 8))}, "'w_v'"
    yield "wrong_o", {**good, "w_o": np.ones((8, D - 1))}, "'w_o'"
    yield "pickled", {**good, "w_q": np.array([object()] * 6, dtype=object)}, "'w_q'"
    yield "strings", {**good, "w_v": np.array(["a"] * 8)}, "'w_v'"
    yield "nan", {**good, "w_o": np.full((8, D), np.nan)}, "'w_o'"


@pytest.mark.parametrize("case", range(9))
def test_bad_files_raise_head_file_error_naming_the_file(tmp_path, case):
    name, arrays, message = list(_bad_files())[case]
    path = save(tmp_path / f"{name}.npz", **arrays)
    with pytest.raises(HeadFileError, match=message) as error:
        build_heads("file", D, 2, path=path)
    assert f"{name}.npz" in str(error.value)


def test_unreadable_files_raise_head_file_error(tmp_path):
    np.save(tmp_path / "plain.npy", np.ones((D, D)))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    for name in ("plain.npy", "junk.npz", "absent.npz"):
        with pytest.raises(HeadFileError, match=name):
            build_heads("file", D, 2, path=tmp_path / name)
    with pytest.raises(HeadFileError, match="d_k=2"):
        build_heads("file", D, 2, d_k=2, path=save(tmp_path / "ok.npz", **good_arrays()))
    with pytest.raises(ValueError, match="choose an .npz file with w_q, w_k, w_v and w_o"):
        build_heads("file", D, 2)
    assert issubclass(HeadFileError, ValueError)


def test_random_value_subspaces_are_mutually_orthogonal_so_output_decomposes():
    heads = build_heads("random", 10, 3, seed=4, dtype=np.float64)  # 3 x 3 = 9 <= 10 dims
    np.testing.assert_allclose(heads.w_v.T @ heads.w_v, np.eye(9), atol=1e-12)
    # Every head giving the same weights: the output is the mix projected onto all 9 dims.
    x = np.random.default_rng(0).standard_normal((5, 10))
    mix = x.mean(axis=0)
    per_head = (mix @ heads.w_v) @ heads.w_o  # (10,)
    np.testing.assert_allclose(per_head, heads.w_v @ heads.w_v.T @ mix, atol=1e-12)
