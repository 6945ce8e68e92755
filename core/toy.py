"""Small hand-typed inputs (the toy editor's data): tokens, vectors and projection matrices.

A `ToyInputs` is always valid: the only way to make one is `make_toy`, which checks that every
entry is a finite number, no row is ragged and the shapes fit together, and says exactly which
matrix is wrong otherwise.

Shapes (row-vector convention, ``Q = X @ W_Q``): X (n, d), W_Q and W_K (d, d_k), W_V (d, d_v),
W_O (d_v, d_out) or None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MAX_TOY_DIM", "MIN_TOY_DIM", "ToyInputError", "ToyInputs", "make_toy", "parse_number"]

MIN_TOY_DIM = 2
MAX_TOY_DIM = 8
"""Toy vectors have 2 to 8 dimensions: enough to show the arithmetic, few enough to type."""

Array = NDArray[np.float64]


class ToyInputError(ValueError):
    """A toy input that cannot be used; ``matrix`` names the offending table ("X", "W_Q", ...)."""

    def __init__(self, message: str, matrix: str) -> None:
        super().__init__(message)
        self.matrix = matrix


@dataclass(frozen=True, eq=False)
class ToyInputs:
    """Validated toy inputs; arrays are float64 and read-only."""

    tokens: tuple[str, ...]  #: (n,)
    x: Array  #: (n, d)
    w_q: Array  #: (d, d_k)
    w_k: Array  #: (d, d_k)
    w_v: Array  #: (d, d_v)
    w_o: Array | None  #: (d_v, d_out) or None

    @property
    def d(self) -> int:
        return int(self.x.shape[1])


def _matrix(values: Any, name: str) -> Array:
    """A finite float64 matrix, or a ToyInputError saying what is wrong with ``name``."""
    rows = [list(r) for r in values] if not isinstance(values, np.ndarray) else values
    if isinstance(rows, list) and len({len(r) for r in rows}) > 1:
        lengths = ", ".join(str(len(r)) for r in rows)
        raise ToyInputError(f"{name} has rows of different lengths ({lengths})", name)
    try:
        a = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ToyInputError(f"{name} must contain only numbers", name) from None
    if a.ndim != 2 or a.size == 0:
        raise ToyInputError(f"{name} must be a non-empty table of numbers", name)
    if not np.all(np.isfinite(a)):
        raise ToyInputError(f"{name} contains NaN or infinite values", name)
    a.flags.writeable = False
    return a


def _expect_shape(a: Array, name: str, expected: tuple[int | None, int | None], why: str) -> None:
    if any(e is not None and s != e for s, e in zip(a.shape, expected, strict=True)):
        text = "×".join("any" if e is None else str(e) for e in expected)
        raise ToyInputError(f"{name} is {a.shape[0]}×{a.shape[1]}; expected {text} ({why})", name)


def make_toy(
    tokens: Sequence[str], x: ArrayLike, w_q: ArrayLike, w_k: ArrayLike, w_v: ArrayLike,
    w_o: ArrayLike | None = None,
) -> ToyInputs:
    """Check and package toy inputs.

    Raises
    ------
    ToyInputError
        Non-numbers, ragged rows, a dimension outside 2..8, or shapes that do not fit.
    """
    xs = _matrix(x, "X")
    n, d = xs.shape
    if len(tokens) != n or any(not str(t).strip() for t in tokens):
        raise ToyInputError(f"need {n} non-empty token names, one per row of X", "tokens")
    if not MIN_TOY_DIM <= d <= MAX_TOY_DIM:
        raise ToyInputError(
            f"X has {d} dimensions; toy vectors have {MIN_TOY_DIM} to {MAX_TOY_DIM}", "X")
    wq, wk, wv = _matrix(w_q, "W_Q"), _matrix(w_k, "W_K"), _matrix(w_v, "W_V")
    _expect_shape(wq, "W_Q", (d, None), f"{d} rows, one per dimension of X")
    _expect_shape(wk, "W_K", wq.shape, "the shape of W_Q, so q·k is defined")
    _expect_shape(wv, "W_V", (d, None), f"{d} rows, one per dimension of X")
    wo = None
    if w_o is not None:
        wo = _matrix(w_o, "W_O")
        _expect_shape(wo, "W_O", (wv.shape[1], None), "one row per column of W_V")
    return ToyInputs(tuple(str(t) for t in tokens), xs, wq, wk, wv, wo)


def parse_number(text: str) -> float:
    """A cell's text as a finite float ("1", "-0.5", "1e-3", "√2" is not accepted).

    Raises
    ------
    ValueError
        Empty text or not a finite number.
    """
    stripped = text.strip().replace("−", "-")  # a typographic minus pasted from a document
    if not stripped:
        raise ValueError("empty cell; expected a number")
    try:
        value = float(stripped)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number; expected e.g. 1, -0.5 or 2e-3") \
            from None
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()!r} is not a finite number")
    return value
