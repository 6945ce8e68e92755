"""Head projections W_Q, W_K, W_V, W_O for static word vectors.

Static vectors come without a trained transformer, so the projections are built by a strategy:

identity   every head sees the raw vectors (W_Q = W_K = W_V = I): the textbook case.
split      identity projections; head i sees the contiguous dimension slice i.
random     seeded random orthonormal projections, reproducible across runs and platforms.
pca        head i sees principal-component slice i of a data sample.
axes       head i is built around a direction such as vec(drink) - vec(eat).
file       matrices loaded from an ``.npz`` file (arrays w_q, w_k, w_v, w_o).

Shapes (row-vector convention, ``Q = X @ W_Q``; head i uses columns ``i*d_k:(i+1)*d_k``)::

    w_q, w_k : (d, h*d_k)    w_v : (d, h*d_v)    w_o : (h*d_v, d)

W_O always maps back to d (the model width) so the attention output lives in the word-vector
space and can be plotted next to the words. For every strategy but ``file`` it is the block
transpose of W_V (each head's value coordinates are put back where they came from), so the
output is the sum over heads of each head's result projected back into word space; ``identity``
divides by h because its heads all repeat the same full space.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from core.maths.head_files import HEAD_KEYS, HeadFileError, read_head_arrays
from core.maths.orthonormal import (
    QR_MAX_D,
    orthonormal_columns,
    orthonormal_from_first,
    signed_qr,
)

__all__ = ["HEAD_STRATEGIES", "HeadFileError", "HeadProjections", "build_heads"]

HEAD_STRATEGIES: tuple[str, ...] = ("identity", "split", "random", "pca", "axes", "file")

Matrix = NDArray[np.floating[Any]]


@dataclass(frozen=True, eq=False)
class HeadProjections:
    """The four projection matrices of multi-head attention and how they were made.

    Attributes
    ----------
    w_q, w_k : (d, h*d_k) query and key projections.
    w_v : (d, h*d_v) value projection.
    w_o : (h*d_v, d) output projection back into word-vector space.
    n_heads : h.
    d_k, d_v : head widths.
    strategy : the strategy name (one of `HEAD_STRATEGIES`).
    note : a human-readable summary, including any adjustment made to the request.
    """

    w_q: Matrix
    w_k: Matrix
    w_v: Matrix
    w_o: Matrix
    n_heads: int
    d_k: int
    d_v: int
    strategy: str
    note: str


# ----------------------------------------------------------------------------- helpers


def _heads_text(n_heads: int, d_k: int, d_model: int) -> str:
    """E.g. '4 heads x d_k=12 (48 of 50 dimensions used; 50 is not divisible by 4)'."""
    text = f"{n_heads} head{'s' if n_heads != 1 else ''} x d_k={d_k}"
    used = n_heads * d_k
    if used < d_model:
        reason = f"; {d_model} is not divisible by {n_heads}" if d_model % n_heads else ""
        text += f" ({used} of {d_model} dimensions used{reason})"
    return text


def _span(first: int, last: int) -> str:
    """'head 3' or 'heads 1-2' for 0-based indices: people count heads from 1, as on screen."""
    return f"head {first + 1}" if first == last else f"heads {first + 1}-{last + 1}"


def _resolve_d_k(d_k: int | None, d_model: int, n_heads: int, *, must_fit: bool) -> int:
    """The head width: the caller's, or d_model // n_heads so the heads tile the dimensions."""
    if d_k is None:
        return d_model // n_heads
    if not 1 <= d_k <= d_model:
        raise ValueError(f"d_k must be between 1 and d_model={d_model}, got {d_k}")
    if must_fit and n_heads * d_k > d_model:
        raise ValueError(
            f"{n_heads} heads x d_k={d_k} = {n_heads * d_k} dimensions exceed d_model={d_model}; "
            f"use d_k <= {d_model // n_heads}"
        )
    return d_k


def _from_value_basis(
    w_q: NDArray, w_k: NDArray, w_v: NDArray, n_heads: int, d_k: int, strategy: str, note: str,
    dtype: DTypeLike,
) -> HeadProjections:
    """Package projections with W_O = W_V.T (put each head's values back into word space).

    W_O is the transposed view of the read-only W_V, not a copy: for 12,000-dimension vectors
    a copy would be another half gigabyte.
    """
    w_v = _read_only(w_v, dtype)
    return _package((w_q, w_k, w_v, w_v.T), n_heads, d_k, w_v.shape[1] // n_heads, strategy,
                    note, dtype)


def _package(
    matrices: tuple[NDArray, NDArray, NDArray, NDArray], n_heads: int, d_k: int, d_v: int,
    strategy: str, note: str, dtype: DTypeLike,
) -> HeadProjections:
    """Cast (w_q, w_k, w_v, w_o) to `dtype` as fresh read-only arrays and wrap them."""
    frozen: dict[int, NDArray] = {}  # a matrix passed more than once (identity, split) is one
    for w in matrices:
        if id(w) not in frozen:
            frozen[id(w)] = _read_only(w, dtype)
    w_q, w_k, w_v, w_o = (frozen[id(w)] for w in matrices)
    return HeadProjections(w_q, w_k, w_v, w_o, n_heads=n_heads, d_k=d_k, d_v=d_v,
                           strategy=strategy, note=note)


def _read_only(w: NDArray, dtype: DTypeLike) -> NDArray:
    """``w`` as a read-only array of `dtype`, shared by every computation.

    An array built here in the right dtype and order is frozen as it is (a (12000, 12000) copy
    is half a gigabyte), as is a transposed view of one; anything else is copied (C order).
    """
    if w.dtype != np.dtype(dtype):
        w = np.array(w, dtype=dtype, order="C")
    elif not (w.flags.owndata or _frozen_view(w)):
        w = np.array(w, order="C")  # a view of something else, which could still change
    w.flags.writeable = False  # nobody may change the projections
    return w


def _frozen_view(w: NDArray) -> bool:
    """Whether ``w`` is a read-only view (W_V.T) of a read-only array that owns its data."""
    base = w.base
    return not w.flags.writeable and isinstance(base, np.ndarray) and not base.flags.writeable \
        and base.flags.owndata


# ----------------------------------------------------------------------------- strategies


def _identity(d_model: int, n_heads: int, d_k: int | None, dtype: DTypeLike) -> HeadProjections:
    # Every head is the full identity, so every head shows the textbook attention; W_O averages
    # the h identical heads so the output equals single-head attention on the raw vectors.
    eye = np.tile(np.eye(d_model, dtype=dtype), (1, n_heads))  # (d, h*d), one array for q, k, v
    w_o = eye.T / np.asarray(n_heads, dtype=eye.dtype)  # (h*d, d), a new array
    note = f"{n_heads} head{'s' if n_heads != 1 else ''} x d_k={d_model}: raw vectors"
    if n_heads > 1:
        note += " (identity heads are all the same; output = their mean)"
    if d_k is not None and d_k != d_model:
        note += f"; d_k={d_k} ignored, identity heads see every dimension"
    return _package((eye, eye, eye, w_o), n_heads, d_model, d_model, "identity", note, dtype)


def _split(d_model: int, n_heads: int, d_k: int, dtype: DTypeLike) -> HeadProjections:
    basis = np.eye(d_model, n_heads * d_k, dtype=dtype)  # (d, h*d_k): head i: dims i*d_k:(i+1)*d_k
    note = _heads_text(n_heads, d_k, d_model) + "; head i sees dimensions i*d_k:(i+1)*d_k"
    return _from_value_basis(basis, basis, basis, n_heads, d_k, "split", note, dtype)


def _random(d_model: int, n_heads: int, d_k: int, seed: int, dtype: DTypeLike) -> HeadProjections:
    rng = np.random.default_rng(seed)
    # Independent draws, in a fixed order, so the same seed gives the same matrices everywhere.
    w_q, w_k = (orthonormal_columns(rng, n_heads, d_model, d_k, dtype) for _ in range(2))
    if n_heads * d_k <= d_model:
        # Value subspaces orthogonal to each other: with W_O = W_V.T the output is then the sum
        # of each head's mix projected onto its own subspace, a clean decomposition the latent
        # map can show (overlapping subspaces would distort the output away from the mixes).
        w_v = orthonormal_columns(rng, 1, d_model, n_heads * d_k, dtype)  # (d, h*d_k)
    else:
        w_v = orthonormal_columns(rng, n_heads, d_model, d_k, dtype)  # (d, h*d_k), heads overlap
    note = f"{n_heads} head{'s' if n_heads != 1 else ''} x d_k={d_k}, random orthonormal, " \
           f"seed {seed}"
    return _from_value_basis(w_q, w_k, w_v, n_heads, d_k, "random", note, dtype)


def _pca_components(data: ArrayLike | None, d_model: int, n_components: int) -> NDArray:
    """The top principal directions of `data` as columns (d, n_components), signs fixed."""
    if data is None:
        raise ValueError("strategy 'pca' needs `data`, an (n, d) sample of word vectors")
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != d_model:
        raise ValueError(f"pca data has shape {x.shape}; expected (n, {d_model})")
    if x.shape[0] <= n_components:
        raise ValueError(
            f"pca needs more than {n_components} data rows for {n_components} components, "
            f"got {x.shape[0]}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("pca data contains NaN or infinite values")
    # SVD of the centred data: rows of vt are the principal directions, by decreasing variance.
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)  # vt: (min(n, d), d)
    components = vt[:n_components]  # (n_components, d)
    # An eigenvector's sign is arbitrary; make the largest-magnitude loading positive.
    biggest = np.argmax(np.abs(components), axis=1)  # (n_components,)
    signs = np.sign(components[np.arange(n_components), biggest])
    return (components * signs[:, None]).T  # (d, n_components)


def _pca(d_model: int, n_heads: int, d_k: int, data: ArrayLike | None,
         dtype: DTypeLike) -> HeadProjections:
    basis = _pca_components(data, d_model, n_heads * d_k)  # (d, h*d_k)
    note = _heads_text(n_heads, d_k, d_model) + "; head i sees principal components " \
        "i*d_k:(i+1)*d_k"
    return _from_value_basis(basis, basis, basis, n_heads, d_k, "pca", note, dtype)


def _axes(d_model: int, n_heads: int, d_k: int, directions: ArrayLike | None, seed: int,
          dtype: DTypeLike) -> HeadProjections:
    if directions is None:
        raise ValueError("strategy 'axes' needs `directions`, an (m, d) array of directions")
    dirs = np.atleast_2d(np.asarray(directions, dtype=np.float64))  # (m, d)
    if dirs.ndim != 2 or dirs.shape[1] != d_model:
        raise ValueError(f"directions have shape {dirs.shape}; expected (m, {d_model})")
    if dirs.shape[0] == 0:
        raise ValueError("strategy 'axes' needs at least one direction")
    norms = np.linalg.norm(dirs, axis=1)  # (m,)
    bad = np.flatnonzero(~np.isfinite(norms) | (norms == 0))
    if bad.size:
        raise ValueError(f"direction {int(bad[0])} is zero or not finite; it has no direction")
    used = min(n_heads, dirs.shape[0])
    basis = _axes_basis(dirs[:used] / norms[:used, None], n_heads, d_k, seed)  # (d, h*d_k)
    note = f"{n_heads} head{'s' if n_heads != 1 else ''} x d_k={d_k}; " \
        f"{_span(0, used - 1)} built around the given directions"
    if used < n_heads:
        note += f"; {_span(used, n_heads - 1)} random orthonormal (seed {seed})"
    if dirs.shape[0] > n_heads:
        note += f"; {dirs.shape[0] - n_heads} extra directions ignored"
    return _from_value_basis(basis, basis, basis, n_heads, d_k, "axes", note, dtype)


def _axes_basis(units: NDArray, n_heads: int, d_k: int, seed: int) -> NDArray:
    """Head i's first column is unit direction i (``units`` (used, d)); any further columns and
    the heads beyond the directions are a seeded orthonormal completion."""
    used, d_model = units.shape
    rng = np.random.default_rng(seed)
    if d_model > QR_MAX_D:  # wide vectors: no cubic QR (core.maths.orthonormal)
        wide = [orthonormal_from_first(rng, u, d_k) for u in units]  # used x (d, d_k)
        extra = orthonormal_columns(rng, n_heads - used, d_model, d_k)  # (d, (h - used)*d_k)
        return np.concatenate([*wide, extra], axis=1)  # (d, h*d_k)
    # QR keeps the first column's direction because its sign is fixed by R.
    blocks = rng.standard_normal((used, d_model, d_k))  # (used, d, d_k)
    blocks[:, :, 0] = units
    from_dirs = signed_qr(blocks)  # (used, d, d_k)
    extra = rng.standard_normal((n_heads - used, d_model, d_k))  # (h - used, d, d_k)
    heads = np.concatenate([from_dirs, signed_qr(extra)])  # (h, d, d_k)
    return heads.transpose(1, 0, 2).reshape(d_model, n_heads * d_k)  # (d, h*d_k)


def _file(d_model: int, n_heads: int, d_k: int | None, path: str | Path | None,
          dtype: DTypeLike) -> HeadProjections:
    if path is None:
        raise HeadFileError("head strategy 'file' has no file yet: choose an .npz file with "
                            "w_q, w_k, w_v and w_o")
    arrays = read_head_arrays(path, d_model, n_heads, d_k)
    file_d_k = arrays["w_q"].shape[1] // n_heads
    d_v = arrays["w_v"].shape[1] // n_heads
    note = f"{n_heads} head{'s' if n_heads != 1 else ''} x d_k={file_d_k}, d_v={d_v}, " \
        f"from {Path(path).name}"
    matrices = (arrays["w_q"], arrays["w_k"], arrays["w_v"], arrays["w_o"])
    with np.errstate(over="ignore"):  # checked just below, with the member's name
        heads = _package(matrices, n_heads, file_d_k, d_v, "file", note, dtype)
    for key, w in zip(HEAD_KEYS, (heads.w_q, heads.w_k, heads.w_v, heads.w_o), strict=True):
        if not np.all(np.isfinite(w)):  # a narrow dtype (float16) can overflow in the cast
            raise HeadFileError(f"head file {path}: array {key!r} does not fit in {w.dtype}")
    return heads


# ----------------------------------------------------------------------------- public entry


def build_heads(
    strategy: str,
    d_model: int,
    n_heads: int,
    *,
    d_k: int | None = None,
    seed: int = 0,
    data: ArrayLike | None = None,
    directions: ArrayLike | None = None,
    path: str | Path | None = None,
    dtype: DTypeLike = np.float32,
) -> HeadProjections:
    """Build W_Q, W_K, W_V, W_O for a head strategy.

    Parameters
    ----------
    strategy : {"identity", "split", "random", "pca", "axes", "file"}
        How the projections are made (see the module docstring).
    d_model : int
        d, the word-vector width.
    n_heads : int
        h, from 1 to d_model. Every strategy returns exactly h heads.
    d_k : int, optional
        Head width. Default ``d_model // n_heads`` (remainder dimensions unused, said in
        ``note``), except ``axes`` whose default is 1 (the head is exactly one direction) and
        ``identity`` which always uses d_model. ``split`` and ``pca`` need
        ``n_heads * d_k <= d_model``; ``random`` and ``axes`` take any ``d_k <= d_model``;
        ``file`` takes it from the file (a given d_k must match).
    seed : int
        Seed of ``random`` and of the random parts of ``axes``.
    data : (n, d) array, optional
        Sample of vectors for ``pca`` (more than ``h*d_k`` rows).
    directions : (m, d) array, optional
        Directions for ``axes``, e.g. vec(drink) - vec(eat) per row. Head i uses row i;
        with fewer rows than heads the remaining heads are random orthonormal.
    path : str or Path, optional
        The ``.npz`` for ``file``.
    dtype : numpy dtype
        The matrices' dtype (float32 by default, like the word vectors).

    Returns
    -------
    HeadProjections
        W_O always maps back to d_model so the attention output lives in word-vector space.

    Raises
    ------
    ValueError
        Unknown strategy, n_heads outside 1..d_model, bad d_k, missing data/directions/path.
    HeadFileError
        The ``file`` strategy's file is unreadable or has missing or ill-shaped arrays.
    """
    if strategy not in HEAD_STRATEGIES:
        raise ValueError(
            f"unknown head strategy {strategy!r}; valid names are {', '.join(HEAD_STRATEGIES)}"
        )
    if d_model < 1:
        raise ValueError(f"d_model must be >= 1, got {d_model}")
    if not 1 <= n_heads <= d_model:
        raise ValueError(f"n_heads must be between 1 and d_model={d_model}, got {n_heads}")
    if strategy == "identity":
        return _identity(d_model, n_heads, d_k, dtype)
    if strategy == "file":
        return _file(d_model, n_heads, d_k, path, dtype)
    if strategy == "axes":
        return _axes(d_model, n_heads, _resolve_d_k(1 if d_k is None else d_k, d_model,
                     n_heads, must_fit=False), directions, seed, dtype)
    width = _resolve_d_k(d_k, d_model, n_heads, must_fit=strategy in ("split", "pca"))
    if strategy == "split":
        return _split(d_model, n_heads, width, dtype)
    if strategy == "pca":
        return _pca(d_model, n_heads, width, data, dtype)
    return _random(d_model, n_heads, width, seed, dtype)
