"""2D projections: PCA agrees with an SVD done here, signs are stable, word axes are exact."""

import numpy as np
import pytest

from core.vectors.projection import ProjectionError, fit_pca, fit_vocabulary_pca, word_axes


def test_pca_axes_are_the_top_principal_directions():
    rng = np.random.default_rng(0)
    # Most variance along e0, then e1: the map must find exactly those axes.
    points = rng.standard_normal((200, 5)) * np.array([10.0, 3.0, 0.1, 0.1, 0.1])
    proj = fit_pca(points)
    assert abs(proj.axes[0, 0]) > 0.99
    assert abs(proj.axes[1, 1]) > 0.99
    coords = proj(points)
    assert coords.shape == (200, 2)
    np.testing.assert_allclose(coords.mean(axis=0), 0.0, atol=1e-9)
    assert coords[:, 0].var() > coords[:, 1].var()


def test_pca_signs_do_not_flip_when_points_are_reordered_or_negated():
    rng = np.random.default_rng(1)
    points = rng.standard_normal((30, 6))
    a = fit_pca(points)
    b = fit_pca(points[::-1])
    c = fit_pca(-points)
    np.testing.assert_allclose(a.axes, b.axes, atol=1e-9)
    np.testing.assert_allclose(a.axes, c.axes, atol=1e-9)  # the sign rule, not the data, decides


@pytest.mark.parametrize("n", [0, 1, 2])
def test_pca_of_very_few_points_is_finite(n):
    proj = fit_pca(np.ones((n, 4)) * np.arange(n)[:, None])
    assert np.isfinite(proj(np.ones((3, 4)))).all()


@pytest.mark.parametrize("shape", [(400, 50), (60, 5), (7, 1), (3, 9),
                                   (3000, 384), (224, 384), (80, 70), (400, 200)])
def test_pca_axes_match_an_svd_for_tall_and_wide_point_sets(shape):
    # Tall sets (the vocabulary PCA, or a trained model's 7 layers x 512 tokens of 384 dims)
    # use the eigenvectors of the scatter matrix, wide ones (7 x 32 tokens) those of the Gram
    # matrix: all must give the top right singular vectors, signs fixed the same way.
    rng = np.random.default_rng(3)
    points = rng.standard_normal(shape) * np.linspace(3, 1, shape[1])
    centered = points - points.mean(axis=0)
    vt = np.linalg.svd(centered, full_matrices=False)[2][:2]  # (<=2, d)
    axes = fit_pca(points).axes  # (2, d)
    k = len(vt)
    np.testing.assert_allclose(np.abs(np.sum(axes[:k] * vt, axis=1)), 1.0, atol=1e-8)
    assert not axes[k:].any()  # a 1-D set has one direction only


def test_pca_keeps_float32():
    proj = fit_pca(np.random.default_rng(2).standard_normal((10, 4)).astype(np.float32))
    assert proj(np.zeros((2, 4), np.float32)).dtype == np.float32


def test_word_axes_coordinates_are_shadows_on_the_directions(tiny_kv):
    proj = word_axes(tiny_kv, "drink", "eat", "wine", "food")
    x_dir = tiny_kv["drink"] - tiny_kv["eat"]
    y_dir = tiny_kv["wine"] - tiny_kv["food"]
    p = tiny_kv["water"]
    x, y = proj(p)
    assert x == pytest.approx(p @ x_dir / np.linalg.norm(x_dir), rel=1e-5)
    assert y == pytest.approx(p @ y_dir / np.linalg.norm(y_dir), rel=1e-5)
    assert proj.labels == ("drink − eat", "wine − food")


def test_word_axes_reject_unknown_and_degenerate_axes(tiny_kv):
    with pytest.raises(ProjectionError, match="'zyzzyva' is not in the vocabulary"):
        word_axes(tiny_kv, "zyzzyva", "eat", "wine", "food")
    with pytest.raises(ProjectionError, match="same word at both ends"):
        word_axes(tiny_kv, "eat", "EAT", "wine", "food")


def test_vocabulary_pca_is_fitted_on_the_frequent_words(tiny_kv):
    proj = fit_vocabulary_pca(tiny_kv, n_words=10)
    np.testing.assert_allclose(proj.axes, fit_pca(tiny_kv.vectors[:10]).axes)
