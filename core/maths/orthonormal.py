"""Seeded random orthonormal columns for head projections, fast for wide word vectors too.

Up to `QR_MAX_D` dimensions (every common embedding: 50-300, 768, 1024) the columns come from
the QR of a Gaussian block: uniformly (Haar) random, O(d d_k^2) per head. That is cubic in d
when the heads tile the dimensions (d_k = d/h, and W_V's single (d, d) block), which made a
12,000-dimension word2vec file take minutes and gigabytes to open.

Wider than that, the columns are those of a Kronecker product A (x) B of two small Haar-random
orthogonal matrices (a x a and b x b with a*b = d, so each is about sqrt(d) wide), rows permuted
and signs flipped at random. A Kronecker product of orthogonal matrices is orthogonal, its
columns are dense (every entry about 1/sqrt(d)) and writing k of them costs O(d k): the heads
take time in proportion to their own size. When d has no factor pair near sqrt(d) (a prime), a*b
is the closest below d and the few (r = d - a*b, e.g. 17 of 12,007) coordinates left over get
their own small Haar block, mixed into the rest by a random reflection. Orthonormality is exact
(to rounding); the columns are random but not Haar-distributed, which the heads do not need.

Shapes: blocks (h, d, d_k); results (d, h*d_k), head i in columns i*d_k:(i+1)*d_k.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike, NDArray

__all__ = ["QR_MAX_D", "orthonormal_columns", "orthonormal_from_first", "signed_qr"]

QR_MAX_D = 1024
_CHUNK = 256  # rows written at once: bounds the float64 scratch to 256 * k numbers


def signed_qr(blocks: NDArray) -> NDArray:
    """Orthonormalise the columns of each (d, d_k) block, keeping each first column's direction.

    The sign of each column is fixed by the sign of R's diagonal (otherwise LAPACK's sign choice
    would leak in and results could differ between platforms).
    """
    q, r = np.linalg.qr(blocks)  # (h, d, d_k), (h, d_k, d_k)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))  # (h, d_k)
    return q * np.where(signs == 0, 1, signs)[:, None, :]  # (h, d, d_k)


def orthonormal_columns(rng: np.random.Generator, n_heads: int, d: int, d_k: int,
                        dtype: DTypeLike = np.float64) -> NDArray:
    """h independent (d, d_k) blocks with orthonormal columns, side by side: (d, h*d_k)."""
    if d <= QR_MAX_D:
        gauss = rng.standard_normal((n_heads, d, d_k))  # (h, d, d_k)
        return signed_qr(gauss).transpose(1, 0, 2).reshape(d, n_heads * d_k)  # (d, h*d_k)
    out = np.empty((d, n_heads * d_k), dtype=dtype)  # (d, h*d_k)
    for head in range(n_heads):
        _kronecker_columns(rng, out[:, head * d_k:(head + 1) * d_k])
    return out


def orthonormal_from_first(rng: np.random.Generator, first: NDArray, d_k: int,
                           dtype: DTypeLike = np.float64) -> NDArray:
    """A wide (d, d_k) block whose first column is the unit vector ``first`` (d,) and whose
    other columns are random, orthonormal and orthogonal to it (d > `QR_MAX_D`)."""
    block = orthonormal_columns(rng, 1, first.shape[0], d_k, np.float64)  # (d, d_k)
    # The reflection that swaps block[:, 0] and `first` keeps the block orthonormal.
    v = block[:, 0] - first  # (d,)
    norm = float(np.linalg.norm(v))
    if norm > 1e-12:
        v /= norm
        block -= 2.0 * np.outer(v, v @ block)  # (d, d_k)
    block[:, 0] = first
    return block.astype(dtype, copy=False)


# ------------------------------------------------------------------ wide: Kronecker bases


def _haar(rng: np.random.Generator, n: int) -> NDArray:
    """An (n, n) Haar-random orthogonal matrix (n is about sqrt(d): cheap)."""
    return signed_qr(rng.standard_normal((1, n, n)))[0]


def _factor_pair(d: int) -> tuple[int, int]:
    """(a, b) with a <= b near sqrt(d) and a*b <= d as close to d as possible (exactly d when
    d has such a factor pair): the r = d - a*b coordinates left over get their own block."""
    root = math.isqrt(d)
    best = max(range(max(root // 2, 1), root + 1), key=lambda a: (a * (d // a), a))
    return best, d // best


def _kronecker_columns(rng: np.random.Generator, out: NDArray) -> None:
    """Fill ``out`` (d, k) with k orthonormal columns of a random Kronecker-structured basis.

    Basis column c = i*b + j (c < m = a*b) is A[:, i] (x) B[:, j] on the first m coordinates;
    columns c >= m are the leftover block's. The rows are then permuted: row t of the result is
    basis row ``source[t]``, written in blocks of rows, in ``out``'s dtype (two gathers and a
    product per entry: this is memory-bound, so float32 heads are built in float32).
    """
    d, k = out.shape
    a, b = _factor_pair(d)
    m = a * b  # coordinates the Kronecker block covers; the remaining r = d - m get their own
    left, right, rest = _haar(rng, a), _haar(rng, b), _haar(rng, d - m)
    source = rng.permutation(d)  # (d,) the basis row each output row takes
    picked = rng.permutation(d)[:k]  # (k,) which of the d basis columns are used
    kron = picked < m  # (k,)
    i, j = np.divmod(np.where(kron, picked, 0), b)  # (k,), (k,)
    work = out.dtype if out.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    left_cols = np.where(kron, left[:, i], 0.0).astype(work)  # (a, k): 0 in leftover columns
    right_cols = right[:, j].astype(work)  # (b, k)
    first, second = np.empty((2, min(_CHUNK, d), k), dtype=work)  # (c, k) scratch, reused
    for start in range(0, d, _CHUNK):
        rows = source[start:start + _CHUNK]  # (c,) basis rows
        p, q = np.divmod(np.minimum(rows, m - 1), b)  # (c,), (c,)
        c = rows.size
        np.take(left_cols, p, axis=0, out=first[:c])
        np.take(right_cols, q, axis=0, out=second[:c])
        np.multiply(first[:c], second[:c], out=first[:c])
        out[start:start + c] = first[:c]  # (a ufunc writing into a strided slice is far slower)
    if d > m:
        _add_leftover_block(rng, out, rest, source, picked, m)


def _add_leftover_block(rng: np.random.Generator, out: NDArray, rest: NDArray,
                        source: NDArray, picked: NDArray, m: int) -> None:
    """The r = d - m leftover basis rows hold only the leftover block (r, r); then a random
    reflection mixes them into the rest (a little: their columns stay concentrated there)."""
    spare_rows = np.flatnonzero(source >= m)  # (r,) output rows that came from leftover rows
    spare_cols = picked >= m  # (k,)
    out[spare_rows] = 0.0
    block = rest[source[spare_rows] - m][:, picked[spare_cols] - m]  # (r, picked leftovers)
    out[np.ix_(spare_rows, np.flatnonzero(spare_cols))] = block
    spread = rng.standard_normal((out.shape[0],))  # (d,)
    spread = (spread / np.linalg.norm(spread)).astype(out.dtype)  # out's dtype: no (d, k) upcast
    along = spread @ out  # (k,)
    for start in range(0, out.shape[0], _CHUNK):  # in row blocks: no (d, k) temporary
        out[start:start + _CHUNK] -= (2 * spread[start:start + _CHUNK, None]) * along[None, :]
