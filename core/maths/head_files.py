"""Reading head projections (w_q, w_k, w_v, w_o) from an ``.npz`` file, defensively.

An ``.npz`` is a zip of ``.npy`` members. ``np.load`` allocates (and inflates) a member as its
header says before anything can look at the shape, so a header claiming terabytes, or 2 MB that
inflate to 2 GB, cost memory before any error. Here every member's ``.npy`` header is read
first and checked against what the heads can be (d_model rows, a multiple of n_heads columns,
real numbers) and against the zip's own size for the member; only then is data read, with
``allow_pickle=False``. Every failure is a :class:`HeadFileError` naming the file and member.

Shapes (row-vector convention)::

    w_q, w_k : (d, h*d_k)    w_v : (d, h*d_v)    w_o : (h*d_v, d)
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format
from numpy.typing import NDArray

__all__ = ["HEAD_KEYS", "MAX_HEAD_WEIGHT", "HeadFileError", "read_head_arrays"]

HEAD_KEYS = ("w_q", "w_k", "w_v", "w_o")

# Projections multiply word vectors (components rarely beyond ~10) and are summed over up to
# tens of thousands of dimensions, twice (scores, then the output). Weights up to 1e6 keep
# every such product far inside float32's range (3.4e38); a trained model's weights are < 100.
MAX_HEAD_WEIGHT = 1e6
_MAX_NPY_HEADER = 10_000  # numpy's own default bound on an .npy header
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


class HeadFileError(ValueError):
    """A head-projection ``.npz`` file is missing, unreadable or has wrong arrays."""


@dataclass(frozen=True)
class _Member:
    """One array's place in the archive and what its .npy header says."""

    key: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype[Any]


def read_head_arrays(path: str | Path, d_model: int, n_heads: int,
                     d_k: int | None) -> dict[str, NDArray[Any]]:
    """w_q, w_k, w_v, w_o from the ``.npz`` at ``path``, checked for heads of ``d_model``.

    Shapes and dtypes are checked from the headers before any data is read; values must be
    finite and at most `MAX_HEAD_WEIGHT` in magnitude. ``d_k``, when given, must match the file.

    Raises
    ------
    HeadFileError
        With the file's name, the member and what was expected.
    """
    name = str(path)
    with _open_regular(path, name, _largest_plausible_file(d_model, n_heads)) as stream:
        try:
            with zipfile.ZipFile(stream) as archive:
                members = {key: _member(archive, key, name) for key in HEAD_KEYS}
                _check_shapes(members, name, d_model, n_heads, d_k)
                return {key: _values(archive, m, name) for key, m in members.items()}
        except HeadFileError:
            raise
        except zipfile.BadZipFile as error:
            raise HeadFileError(f"head file {name} is not a readable .npz (zip) archive of "
                                f"w_q, w_k, w_v, w_o: {error}") from None
        except (*_ZIP_ERRORS, OSError, ValueError) as error:
            raise HeadFileError(f"cannot read head file {name}: {error}") from None


def _largest_plausible_file(d_model: int, n_heads: int) -> int:
    """Four matrices of at most (d, h*d) 16-byte numbers, plus room for the zip's own records."""
    return 4 * d_model * n_heads * d_model * 16 + (1 << 20)


def _open_regular(path: str | Path, name: str, limit: int) -> IO[bytes]:
    """The file opened for reading, if it is a regular file no larger than ``limit`` bytes
    (opened without blocking, so a FIFO is refused instead of waited on)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise HeadFileError(f"head file {name} does not exist") from None
    except OSError as error:
        raise HeadFileError(f"cannot read head file {name}: {error.strerror or error}") from None
    info = os.fstat(fd)  # before fdopen, which refuses a folder with its own error
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or device)"
        raise HeadFileError(f"head file {name} is {kind}; choose an .npz file")
    stream = os.fdopen(fd, "rb")
    if info.st_size > limit:
        stream.close()
        raise HeadFileError(f"head file {name} is {info.st_size:,} bytes, more than heads for "
                            f"these word vectors can take ({limit:,})")
    if stream.read(6) == b"\x93NUMPY":
        stream.close()
        raise HeadFileError(f"head file {name} is a single .npy array; heads need an .npz with "
                            "w_q, w_k, w_v and w_o (np.savez)")
    stream.seek(0)
    return stream


def _member(archive: zipfile.ZipFile, key: str, name: str) -> _Member:
    """Find ``key`` (saved as ``key.npy`` by np.savez) and read its .npy header only."""
    names = archive.namelist()
    entry = next((n for n in (f"{key}.npy", key) if n in names), None)
    if entry is None:
        arrays = ", ".join(n.removesuffix(".npy") for n in names) or "nothing"
        raise HeadFileError(f"head file {name} has no array {key!r} (it has: {arrays})")
    info = archive.getinfo(entry)
    where = f"head file {name}: array {key!r}"
    try:
        with archive.open(info) as fp:
            version = npy_format.read_magic(fp)
            read_header = (npy_format.read_array_header_1_0 if version == (1, 0)
                           else npy_format.read_array_header_2_0)
            shape, _fortran, dtype = read_header(fp, max_header_size=_MAX_NPY_HEADER)
            header_bytes = fp.tell()
    except ValueError as error:
        raise HeadFileError(f"{where} is not a .npy array ({error})") from None
    except _ZIP_ERRORS as error:  # a small member is read whole at once, CRC check included
        raise HeadFileError(f"{where} is damaged in the archive: {error}") from None
    _check_dtype(where, dtype)
    data_bytes = math.prod(shape) * dtype.itemsize  # Python ints: a claim of 2**80 stays exact
    if info.file_size - header_bytes != data_bytes:
        raise HeadFileError(f"{where}: its header says {shape} {dtype} ({data_bytes:,} bytes) but "
                            f"the archive holds {info.file_size - header_bytes:,} bytes of data")
    return _Member(key, info, tuple(shape), dtype)


def _check_dtype(where: str, dtype: np.dtype[Any]) -> None:
    """Real numbers only: complex would lose its imaginary part, bool/str/object mean nothing."""
    real = np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)
    if not real or dtype.fields is not None or dtype.hasobject:
        kind = "complex numbers" if np.issubdtype(dtype, np.complexfloating) else f"dtype {dtype}"
        raise HeadFileError(f"{where} holds {kind}; expected real numbers (float or int)")


def _check_shapes(members: dict[str, _Member], name: str, d_model: int, n_heads: int,
                  d_k: int | None) -> None:
    """Every shape against d_model, n_heads and each other, from the headers alone."""
    def fail(key: str, expected: str) -> None:
        raise HeadFileError(f"head file {name}: array {key!r} has shape "
                            f"{members[key].shape}; expected {expected}")

    def heads_wide(key: str, width: str) -> tuple[int, int]:
        shape = members[key].shape
        if len(shape) != 2 or shape[0] != d_model or shape[1] % n_heads or shape[1] == 0:
            fail(key, f"({d_model}, {n_heads}*{width}) for d_model={d_model}, {n_heads} heads, "
                      f"{width} >= 1")
        if shape[1] > n_heads * d_model:
            fail(key, f"at most {n_heads * d_model} columns ({width} <= d_model={d_model})")
        return shape[0], shape[1]

    q_shape = heads_wide("w_q", "d_k")
    if d_k is not None and q_shape[1] != n_heads * d_k:
        fail("w_q", f"({d_model}, {n_heads * d_k}) for d_k={d_k}")
    if members["w_k"].shape != q_shape:
        fail("w_k", f"{q_shape}, the shape of w_q")
    v_shape = heads_wide("w_v", "d_v")
    if members["w_o"].shape != (v_shape[1], d_model):
        fail("w_o", f"({v_shape[1]}, {d_model}) = (h*d_v, d_model)")


def _values(archive: zipfile.ZipFile, member: _Member, name: str) -> NDArray[Any]:
    """Read a member whose header passed, then check its values."""
    where = f"head file {name}: array {member.key!r}"
    try:
        with archive.open(member.info) as fp:
            array = npy_format.read_array(fp, allow_pickle=False, max_header_size=_MAX_NPY_HEADER)
    except _ZIP_ERRORS as error:  # a bad CRC or cut-off data shows only while reading
        raise HeadFileError(f"{where} is damaged in the archive: {error}") from None
    except ValueError as error:
        raise HeadFileError(f"{where} could not be read: {error}") from None
    if not np.all(np.isfinite(array)):
        raise HeadFileError(f"{where} contains NaN or infinite values")
    # From the extremes, not np.abs: abs of the most negative int64 is itself negative.
    biggest = max(abs(float(array.max())), abs(float(array.min()))) if array.size else 0.0
    if biggest > MAX_HEAD_WEIGHT:
        raise HeadFileError(f"{where} has a weight of magnitude {biggest:.3g}; head weights are "
                            f"at most {MAX_HEAD_WEIGHT:.0e} so products over many dimensions "
                            "cannot overflow float32")
    return array
