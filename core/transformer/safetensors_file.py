"""A ``model.safetensors`` file, its tensors memory-mapped rather than copied.

The file is checked by the ``safetensors`` library itself (``safe_open`` validates the header: JSON,
known dtypes, offsets that tile the data exactly, so a truncated file is refused). Its tensors are
then read from a memory map of the file at the header's offsets: ``safetensors.numpy``'s
``load_file`` and ``get_tensor`` copy each tensor into memory, which for the bundled 91 MB model
costs its whole size in resident memory and most of the opening time, while a map costs nothing
until the forward pass touches the pages (and the pages are shared, clean, file-backed).

Half-precision tensors (F16, BF16; NumPy has no bfloat16) are widened to float32 when read.
"""

from __future__ import annotations

import json
import mmap
import struct
from typing import Any

import numpy as np

from core.transformer.errors import ModelError, check_regular_file

__all__ = ["SafetensorsFile"]

MAX_HEADER_BYTES = 100 << 20  # the format's own limit (safetensors refuses larger headers)
_FLOAT_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": np.uint16}
_BYTES = {"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
          "U8": 1, "BOOL": 1, "U16": 2, "U32": 4, "U64": 8}


class SafetensorsFile:
    """The tensors of one safetensors file by name: shapes and dtypes now, data when asked."""

    def __init__(self, path: str) -> None:
        self.path = path
        info = check_regular_file(path, "model.safetensors")
        self._entries, self._data_start = _read_header(path, info.st_size)
        _validate_with_library(path)
        self._mmap: mmap.mmap | None = None  # the whole file, read-only, opened on first use

    @property
    def names(self) -> set[str]:
        """Every tensor's name."""
        return set(self._entries)

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of tensor ``name``."""
        return tuple(self._entries[name]["shape"])

    def dtype(self, name: str) -> str:
        """The safetensors dtype name of tensor ``name`` (``F32``, ``BF16``, ...)."""
        return str(self._entries[name]["dtype"])

    def array(self, name: str) -> np.ndarray:
        """Tensor ``name`` as a read-only floating array (mapped when F32/F64, else widened)."""
        entry = self._entries[name]
        kind = entry["dtype"]
        if kind not in _FLOAT_DTYPES:
            raise ModelError(f"{self.path}: tensor {name} has dtype {kind}; expected a floating "
                             "type (F32, F64, F16 or BF16)")
        start, end = entry["data_offsets"]
        raw = np.asarray(self._bytes()[start:end]).view(_FLOAT_DTYPES[kind])
        raw = raw.reshape(entry["shape"])
        if kind == "BF16":  # bfloat16 is the top half of a float32
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        elif kind == "F16":
            raw = raw.astype(np.float32)
        raw.flags.writeable = False
        return raw

    def load(self, name: str, transpose: bool = False) -> np.ndarray:
        """Tensor ``name`` read into memory, C-contiguous (transposed first when asked).

        For the layer weights: BLAS multiplies a few rows by a contiguous (d_in, d_out) matrix
        up to 1.8x faster than by a transposed view (16 tokens, 384 x 1536, one thread). The
        bytes are read with one bounded read, not through the map, so they are not resident
        twice once the copy is made.
        """
        entry = self._entries[name]
        if entry["dtype"] not in ("F32", "F64"):  # rare half-precision files: widen, then copy
            a = self.array(name)
            return np.ascontiguousarray(a.T if transpose else a)
        start, end = entry["data_offsets"]
        with open(self.path, "rb") as stream:
            stream.seek(self._data_start + start)
            data = stream.read(end - start)
        if len(data) != end - start:
            raise ModelError(f"{self.path}: the file ended inside tensor {name}")
        a = np.frombuffer(data, _FLOAT_DTYPES[entry["dtype"]]).reshape(entry["shape"])
        out = np.ascontiguousarray(a.T) if transpose else a.copy()
        out.flags.writeable = False
        return out

    def release_pages(self) -> None:
        """Let the kernel drop the map's pages from this process until they are read again.

        Checking every weight for NaN reads the whole map (91 MB for the bundled model), which
        would otherwise stay resident though a run reads only a few embedding rows.
        """
        if self._mmap is not None and hasattr(mmap, "MADV_DONTNEED"):  # Linux, macOS
            self._mmap.madvise(mmap.MADV_DONTNEED)

    def _bytes(self) -> np.ndarray:
        """The data after the header, as bytes of the file's map (no copy)."""
        if self._mmap is None:
            with open(self.path, "rb") as stream:  # the map stays valid after the file closes
                self._mmap = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
        return np.frombuffer(self._mmap, np.uint8)[self._data_start:]


def _read_header(path: str, file_size: int) -> tuple[dict[str, Any], int]:
    """The header's tensor entries and where the data starts, read with bounds."""
    if file_size < 8:
        raise ModelError(f"{path}: {file_size} bytes is too short for a safetensors file")
    with open(path, "rb") as stream:
        (length,) = struct.unpack("<Q", stream.read(8))
        if length > MAX_HEADER_BYTES or length > file_size - 8:
            raise ModelError(f"{path}: the header claims {length:,} bytes but the file has "
                             f"{file_size - 8:,} after the length: not a safetensors file, or cut")
        text = stream.read(length)
    try:
        header = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelError(f"{path}: the header is not JSON: not a safetensors file") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path}: the header is not a JSON object")
    header.pop("__metadata__", None)
    data_size = file_size - 8 - length
    for name, entry in header.items():
        _check_entry(path, name, entry, data_size)
    return header, 8 + length


def _check_entry(path: str, name: str, entry: Any, data_size: int) -> None:
    ok = isinstance(entry, dict) and entry.get("dtype") in _BYTES \
        and isinstance(entry.get("shape"), list) \
        and all(isinstance(s, int) and s >= 0 for s in entry["shape"]) \
        and isinstance(entry.get("data_offsets"), list) and len(entry["data_offsets"]) == 2 \
        and all(isinstance(o, int) for o in entry["data_offsets"])
    if not ok:
        raise ModelError(f"{path}: the header entry of tensor {name!r} is malformed")
    start, end = entry["data_offsets"]
    count = int(np.prod(entry["shape"], dtype=np.int64)) if entry["shape"] else 1
    if not 0 <= start <= end <= data_size or end - start != count * _BYTES[entry["dtype"]]:
        raise ModelError(f"{path}: tensor {name} claims bytes {start}..{end} for shape "
                         f"{tuple(entry['shape'])}, but the data has {data_size:,} bytes: "
                         "the file is cut or damaged")


def _validate_with_library(path: str) -> None:
    """Let safetensors itself check the file (it also refuses overlapping or gapped data)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="numpy") as handle:
            handle.keys()
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelError(f"{path}: not a valid safetensors file ({error})") from None
