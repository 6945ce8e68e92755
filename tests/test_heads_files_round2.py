"""A corpus of hostile head-projection files, and heads for wide word vectors.

Every case writes an ``.npz`` (or something posing as one) into ``tmp_path`` and builds
``build_heads("file", D, 2, path=...)`` in a daemon thread joined with a timeout (a FIFO used to
block forever). The outcome must be a :class:`HeadFileError` whose one-line message names the
file and holds the given fragments, with little memory allocated: a header claiming terabytes,
or a small file that inflates to hundreds of megabytes, is refused from its header.
"""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bounded import within
from hostile_files import Writer, file

from core.maths.heads import HeadFileError, build_heads
from core.maths.orthonormal import QR_MAX_D, signed_qr

D = 6  # d_model; 2 heads of d_k = d_v = 3
TIMEOUT = 5.0


def good() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"w_q": rng.standard_normal((D, 6)), "w_k": rng.standard_normal((D, 6)),
            "w_v": rng.standard_normal((D, 6)), "w_o": rng.standard_normal((6, D))}


def npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, allow_pickle=True)
    return out.getvalue()


def header_only(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": descr, "fortran_order": False, "shape": shape})
    return out.getvalue()


def archive(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def replacing(**members: bytes | np.ndarray) -> bytes:
    """The good archive with some members replaced (arrays or raw member bytes)."""
    parts = {f"{k}.npy": npy(v) for k, v in good().items()}
    for key, value in members.items():
        parts[f"{key}.npy"] = npy(value) if isinstance(value, np.ndarray) else value
    return archive(parts)


def good_npz() -> bytes:
    out = io.BytesIO()
    np.savez(out, **good())
    return out.getvalue()


def bad_crc() -> bytes:
    data = bytearray(archive({f"{k}.npy": npy(v) for k, v in good().items()}))
    data[data.index(b"w_k.npy") + 7 + 200] ^= 0xFF  # inside w_k's stored data
    return bytes(data)


def inflating_member(data_bytes: int) -> bytes:
    """A deflated w_q.npy whose header says (6, 6) but whose data inflate to ``data_bytes``."""
    header = header_only((D, 6))
    chunk = bytes(1 << 20)
    info = zipfile.ZipInfo("w_q.npy")
    info.compress_type = zipfile.ZIP_DEFLATED
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for key, value in good().items():
            if key != "w_q":
                z.writestr(f"{key}.npy", npy(value))
        # Written by hand: zipfile would compress the whole payload again itself.
        with z.open(info, "w", force_zip64=True) as member:
            member.write(header)
            for _ in range(data_bytes >> 20):
                member.write(chunk)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    name: str
    write: Writer
    fragments: tuple[str, ...]
    dtype: Any = np.float32


CASES = [
    Case("fifo", lambda tmp: (os.mkfifo(tmp / "pipe.npz"), tmp / "pipe.npz")[1],
         ("not a regular file",)),
    Case("device", lambda tmp: Path("/dev/zero"), ("not a regular file",)),
    Case("folder", lambda tmp: (os.mkdir(tmp / "dir.npz"), tmp / "dir.npz")[1], ("folder",)),
    Case("missing", lambda tmp: tmp / "gone.npz", ("does not exist",)),
    Case("a single .npy", file("one.npz", npy(np.ones((D, 6)))), ("single .npy", "np.savez")),
    Case("not a zip", file("junk.npz", b"PK but not really a zip file"), ("zip",)),
    Case("truncated", file("cut.npz", lambda _tmp: good_npz()[:300]), ("zip",)),
    Case("bad CRC", file("crc.npz", lambda _tmp: bad_crc()), ("'w_k'", "damaged", "CRC")),
    Case("a text member", file("text.npz", replacing(w_v=b"hello, not an array")),
         ("'w_v'", "not a .npy array")),
    Case("header claims 7 TiB", file("7tib.npz", replacing(w_q=header_only((1 << 20, 1 << 20)))),
         ("'w_q'", "8,796,093,022,208 bytes")),
    Case("200 MB inflating from a small file",
         file("bomb.npz", lambda _tmp: inflating_member(200 << 20)),
         ("'w_q'", "209,715,200 bytes")),
    Case("too many columns",
         file("wide.npz", replacing(w_q=np.ones((D, 600)), w_k=np.ones((D, 600)))),
         ("'w_q'", "at most 12 columns")),
    Case("complex", file("complex.npz", replacing(w_v=good()["w_v"] * 1j)),
         ("'w_v'", "complex")),
    Case("booleans", file("bool.npz", replacing(w_o=np.ones((6, D), bool))), ("'w_o'", "bool")),
    Case("objects (a pickle)",
         file("obj.npz", replacing(w_q=np.array([object()] * 36).reshape(D, 6))),
         ("'w_q'", "object")),
    Case("float64 beyond float32", file("f64.npz", replacing(w_o=np.full((6, D), 1e300))),
         ("'w_o'", "1e+300", "at most 1e+06")),
    Case("weights of 1e7", file("big.npz", replacing(w_k=np.full((D, 6), 1e7))),
         ("'w_k'", "1e+07")),
    Case("the most negative int64", file("int.npz", replacing(w_o=np.full((6, D), -2**63))),
         ("'w_o'", "9.22e+18")),
    Case("NaN", file("nan.npz", replacing(w_v=np.full((D, 6), np.nan))), ("'w_v'", "NaN")),
    Case("zero-width heads", file("dk0.npz", replacing(w_q=np.ones((D, 0)), w_k=np.ones((D, 0)))),
         ("'w_q'", "d_k >= 1")),
    Case("zero-width values", file("dv0.npz", replacing(w_v=np.ones((D, 0)), w_o=np.ones((0, D)))),
         ("'w_v'", "d_v >= 1")),
    Case("three axes", file("3d.npz", replacing(w_q=np.ones((D, 6, 1)))), ("'w_q'", "(6, 6, 1)")),
    Case("cut-off data", file("short.npz", replacing(w_q=npy(np.ones((D, 6)))[:-16])),
         ("'w_q'", "archive holds")),
    Case("too wide for float16", file("f16.npz", replacing(w_q=np.full((D, 6), 1e5))),
         ("'w_q'", "float16"), np.float16),
]


def build_in_thread(path: Path, dtype: Any) -> Any:
    return within(TIMEOUT, build_heads, "file", D, 2, path=path, dtype=dtype)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_heads_file_gives_one_line_naming_the_file(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    tracemalloc.start()
    try:
        outcome = build_in_thread(path, case.dtype)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, HeadFileError), f"{case.name}: {outcome!r}"
    message = str(outcome)
    assert "\n" not in message, message
    for fragment in (path.name, *case.fragments):
        assert fragment in message, f"{case.name}: {fragment!r} not in {message!r}"
    assert peak < 8 << 20, f"{case.name}: {peak / 2**20:.1f} MiB allocated while refusing it"


def test_fortran_ordered_members_and_integers_load_exactly(tmp_path: Path) -> None:
    arrays = good()
    arrays["w_o"] = np.asfortranarray(arrays["w_o"])
    arrays["w_q"] = np.arange(36, dtype=np.int16).reshape(D, 6)
    path = tmp_path / "ok.npz"
    np.savez_compressed(path, **arrays)
    heads = build_heads("file", D, 2, path=path, dtype=np.float64)
    for key, expected in arrays.items():
        np.testing.assert_array_equal(getattr(heads, key), expected)
    assert heads.d_k == 3 and heads.d_v == 3


def test_a_missing_path_asks_for_a_file() -> None:
    with pytest.raises(HeadFileError, match="choose an .npz file with w_q, w_k, w_v and w_o"):
        build_heads("file", D, 2)


# ----------------------------------------------------------------------------- wide vectors


def test_random_heads_up_to_1024_dimensions_are_the_seeded_qr_of_before() -> None:
    """Existing sessions keep their heads: below the wide path nothing changed."""
    d, h = 300, 4
    rng = np.random.default_rng(7)
    blocks = [signed_qr(rng.standard_normal((h, d, d // h))) for _ in range(2)]
    w_q, w_k = (b.transpose(1, 0, 2).reshape(d, d) for b in blocks)
    w_v = signed_qr(rng.standard_normal((1, d, d)))[0]
    heads = build_heads("random", d, h, seed=7, dtype=np.float64)
    np.testing.assert_array_equal(heads.w_q, w_q)
    np.testing.assert_array_equal(heads.w_k, w_k)
    np.testing.assert_array_equal(heads.w_v, w_v)
    assert QR_MAX_D == 1024


@pytest.mark.parametrize("d", [1200, 1201, 2048])
def test_wide_random_heads_are_orthonormal_dense_and_seeded(d: int) -> None:
    heads = build_heads("random", d, 4, seed=3, dtype=np.float64)
    again = build_heads("random", d, 4, seed=3, dtype=np.float64)
    other = build_heads("random", d, 4, seed=4, dtype=np.float64)
    np.testing.assert_array_equal(heads.w_q, again.w_q)
    assert not np.allclose(heads.w_q, other.w_q)
    assert not np.allclose(heads.w_q, heads.w_k)
    # W_V's heads are mutually orthogonal (the output decomposes), each head orthonormal.
    np.testing.assert_allclose(heads.w_v.T @ heads.w_v, np.eye(heads.w_v.shape[1]), atol=1e-10)
    for w in (heads.w_q, heads.w_k):
        for i in range(4):
            block = w[:, i * heads.d_k:(i + 1) * heads.d_k]
            np.testing.assert_allclose(block.T @ block, np.eye(heads.d_k), atol=1e-10)
    # Dense: most columns spread over many coordinates, unlike identity or split heads.
    spread = (np.abs(heads.w_q) > 0.1 / np.sqrt(d)).mean(axis=0)  # (h*d_k,)
    assert np.median(spread) > 0.5
    np.testing.assert_array_equal(heads.w_o, heads.w_v.T)


def test_wide_axes_heads_keep_their_directions() -> None:
    d = 1500
    directions = np.random.default_rng(1).standard_normal((2, d))
    heads = build_heads("axes", d, 3, d_k=4, directions=directions, dtype=np.float64)
    units = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    for i in range(2):
        np.testing.assert_allclose(heads.w_q[:, i * 4], units[i], atol=1e-12)
    for i in range(3):
        block = heads.w_q[:, i * 4:(i + 1) * 4]
        np.testing.assert_allclose(block.T @ block, np.eye(4), atol=1e-10)


def test_wide_random_heads_allocate_little_beyond_themselves() -> None:
    """d = 4096, 4 heads: the QR of (4096, 4096) Gaussian blocks took several times the heads'
    own 192 MB; the Kronecker construction writes them with small scratch buffers."""
    d = 4096
    tracemalloc.start()
    try:
        heads = build_heads("random", d, 4, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    own = sum(getattr(heads, k).nbytes for k in ("w_q", "w_k", "w_v"))  # W_O is a view of W_V
    assert heads.w_q.shape == (d, d) and heads.w_q.dtype == np.float32
    assert peak < own * 1.25 + (32 << 20), f"peak {peak / 2**20:.0f} MiB for {own / 2**20:.0f}"
