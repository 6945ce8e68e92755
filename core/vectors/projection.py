"""2D projections of word vectors for the latent map: PCA (of the view or of the vocabulary) and
word axes (x = vec(a) - vec(b), y = vec(c) - vec(d)).

A projection is an affine map ``p -> (p - center) @ axes.T`` with ``axes`` of shape (2, d). Signs
are made deterministic (largest-magnitude loading positive) so the map does not flip between two
runs or two nearly equal sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.maths.threads import single_blas_thread

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

FREQUENT_WORDS = 10_000
"""The vocabulary PCA is fitted on the first (most frequent) words: stable axes, quick to fit."""


class ProjectionError(ValueError):
    """A projection that cannot be built (e.g. an axis word not in the vocabulary)."""


@dataclass(frozen=True)
class Projection2D:
    """An affine map from d dimensions to 2: ``(points - center) @ axes.T``."""

    center: np.ndarray  # (d,)
    axes: np.ndarray  # (2, d)
    labels: tuple[str, str]  # axis titles, e.g. ("PC 1", "PC 2") or ("drink − eat", ...)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Project ``points`` (n, d) or (d,) to (n, 2) or (2,)."""
        pts = np.asarray(points)
        return (pts - self.center) @ self.axes.T  # (n, d) @ (d, 2) -> (n, 2)


def _fix_signs(components: np.ndarray) -> np.ndarray:
    """Flip each row so that its largest-magnitude entry is positive (SVD signs are arbitrary)."""
    biggest = np.argmax(np.abs(components), axis=1)  # (2,)
    signs = np.sign(components[np.arange(len(components)), biggest])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


SUBSET_SIZES = range(128, 300)
"""Sizes of matrix whose top eigenvectors alone are computed (SciPy's syevr); NumPy's eigh of
them all elsewhere. Below 128 NumPy is as quick (50 x 50: 0.16 vs 0.09 ms), and the word-vector
start, which fits the vocabulary PCA on a 50 x 50 matrix, does not import SciPy (~0.2 s). From
300 on the subset gains little (320: 6.3 vs 6.7 ms) and SciPy's LAPACK wrapper holds the GIL for
the whole call, where NumPy's lets it go: a 512-token text's PCA (384 x 384) runs on a worker
thread, and holding the GIL there stalled the window (its longest stalls grew to ~100 ms)."""


def _top_eigenvectors(sym: np.ndarray, count: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` largest eigenvalues of the symmetric (m, m) ``sym``, ascending, and their
    eigenvectors as columns (m, count). LAPACK's syevr finds only those: a third of the time of
    all m (NumPy's eigh) for a 32-token model's 224 x 224 Gram matrix, 3.5-4.8 -> 1.3-1.6 ms."""
    m = len(sym)
    count = min(count, m)
    if m not in SUBSET_SIZES:
        values, vecs = np.linalg.eigh(sym)  # ascending; (m,), (m, m)
        return values[m - count:], vecs[:, m - count:]
    import scipy.linalg  # only for a trained model's points (see SUBSET_SIZES)

    return scipy.linalg.eigh(sym, subset_by_index=[m - count, m - 1], driver="evr")


def fit_pca(points: np.ndarray, labels: tuple[str, str] = ("PC 1", "PC 2")) -> Projection2D:
    """Fit a 2-component PCA on ``points`` (n, d), computed in float64 for stability.

    Fewer than three distinct points still give a valid (if degenerate) map: missing components
    are zero rows, so everything lands on a line or at the origin instead of raising.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] < 1:
        raise ProjectionError(f"expected points of shape (n, d), got {pts.shape}")
    center = pts.mean(axis=0) if len(pts) else np.zeros(pts.shape[1])
    centered = pts - center  # (n, d)
    axes = np.zeros((2, pts.shape[1]))
    if len(pts) > pts.shape[1]:
        # Many points (the vocabulary PCA: 10,000 x 50): the top eigenvectors of the (d, d)
        # scatter matrix are the top right singular vectors, and eigh of that small matrix is far
        # cheaper than a (threaded) SVD of the tall one, which crawls when the cores are busy.
        _, vecs = _top_eigenvectors(centered.T @ centered)  # vecs: (d, k), ascending
        k = vecs.shape[1]
        axes[:k] = vecs[:, ::-1].T
    elif len(pts) >= 2:
        # Few points in many dimensions (a trained model's layers: 238 x 384): the top right
        # singular vectors are X^T u / |X^T u| for the top eigenvectors u of the (n, n) Gram
        # matrix, a far smaller problem than the SVD, which took 0.5 s with the other core busy.
        with single_blas_thread():
            values, vecs = _top_eigenvectors(centered @ centered.T)  # (2,) ascending; (n, 2)
            directions = (centered.T @ vecs[:, ::-1]).T  # (d, n) @ (n, 2) -> (2, d)
        k = int(np.sum(values[::-1] > values[-1] * 1e-12))
        norms = np.linalg.norm(directions[:k], axis=1, keepdims=True)
        axes[:k] = directions[:k] / np.where(norms == 0, 1, norms)
    dtype = np.result_type(points, np.float32)
    return Projection2D(center.astype(dtype), _fix_signs(axes).astype(dtype), labels)


def fit_vocabulary_pca(kv: KeyedVectors, n_words: int = FREQUENT_WORDS) -> Projection2D:
    """PCA of the ``n_words`` most frequent words: axes that do not move when the sentence changes.

    Vector files list words by frequency (GloVe, word2vec, fastText do), so the first rows are the
    frequent ones.
    """
    sample = np.asarray(kv.vectors[: max(2, min(n_words, len(kv.index_to_key)))])
    return fit_pca(sample, ("vocabulary PC 1", "vocabulary PC 2"))


def word_axes(kv: KeyedVectors, a: str, b: str, c: str, d: str) -> Projection2D:
    """x = direction vec(a) - vec(b), y = vec(c) - vec(d), both unit length, origin at 0.

    Coordinates are then the lengths of the points' shadows on the two directions, in the same
    units as the vectors, so "more drink than eat" is further right.
    """
    from core.vectors.tokens import lookup_key

    vectors = []
    for word in (a, b, c, d):
        key = lookup_key(kv, word)
        if key is None:
            raise ProjectionError(f"axis word {word!r} is not in the vocabulary")
        vectors.append(np.asarray(kv.vectors[kv.key_to_index[key]], dtype=np.float64))
    axes = np.stack([vectors[0] - vectors[1], vectors[2] - vectors[3]])  # (2, d)
    norms = np.linalg.norm(axes, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ProjectionError("an axis has the same word at both ends: its direction is zero")
    dtype = kv.vectors.dtype
    return Projection2D(
        np.zeros(kv.vector_size, dtype), (axes / norms).astype(dtype), (f"{a} − {b}", f"{c} − {d}")
    )
