"""Resident memory: the application with the default set, and the cost of opening a huge cached set.

``rss_mb.default``: a fresh process starts the window offscreen, loads the default vectors, draws
the first result, then reads its VmRSS (window_bench's start-up child does exactly that).

``rss_mb.big_mmap``: a 3,000,000 x 300 float32 set (GoogleNews-sized, 3.6 GB; ``--quick``:
300,000 x 300) is written straight into the vector cache's format (``core.vectors.cache``): a
``.npy`` made with ``np.lib.format.open_memmap`` in chunks, the vocabulary file and the metadata,
under the key of a small stand-in source file. A fresh process imports the loader, reads VmRSS,
opens the set through ``load_vectors`` (a cache hit: the matrix is memory-mapped, so only the
vocabulary should cost memory) and reads VmRSS again; the figure is the difference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.timing import Config, Result, Target, rss_mb, wanted
from benchmarks.window_bench import CHILD_TAG, ROOT, run_child_process

BIG_ROWS, QUICK_ROWS, TINY_ROWS = 3_000_000, 300_000, 1_000
BIG_DIM = 300
CHUNK_ROWS = 100_000  # 120 MB of float32 per chunk: the generator never holds the whole matrix


def write_cached_set(folder: Path, rows: int, dim: int = BIG_DIM) -> tuple[str, str]:
    """A cache entry for a stand-in source file; returns (source path, cache folder)."""
    from core.vectors import cache as vector_cache

    source = folder / "big-vectors.txt"
    source.write_text(f"{rows} {dim}\n", encoding="utf-8")  # never parsed: the cache hits first
    cache_dir = folder / "cache"
    cache_dir.mkdir()
    key = vector_cache.cache_key(str(source))
    npy, vocab, meta = vector_cache._paths(str(cache_dir), key)  # the cache's own file names
    matrix = np.lib.format.open_memmap(npy, mode="w+", dtype=np.float32, shape=(rows, dim))
    rng = np.random.default_rng(0)
    for start in range(0, rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, rows)
        matrix[start:stop] = rng.standard_normal((stop - start, dim), dtype=np.float32)
    matrix.flush()
    del matrix
    # Word-like keys of GoogleNews' typical length, so the vocabulary costs what a real one does.
    lines = "\n".join(f"word_{i:07d}" for i in range(rows)).encode("utf-8")  # as the cache
    Path(vocab).write_bytes(lines)
    # The cache's own meta (version, checksums): without them the entry is a miss, and the
    # stand-in source above would be parsed.
    matrix = np.load(npy, mmap_mode="r")
    info = vector_cache.entry_meta(str(source), "word2vec_text", lines, matrix, [])
    Path(meta).write_text(json.dumps(info), encoding="utf-8")
    return str(source), str(cache_dir)


def _big_child(source: str, cache_dir: str) -> None:
    """In a fresh process: VmRSS before and after opening the cached set."""
    import gc
    import time

    from gensim.models import KeyedVectors  # noqa: F401 (imported before the "before" reading)

    from core.vectors.load import load_vectors

    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    kv = load_vectors(source, cache_dir=cache_dir)
    seconds = time.perf_counter() - start
    gc.collect()
    after = rss_mb()
    hit = isinstance(kv.vectors, np.memmap) or not kv.vectors.flags.owndata
    report = {"before_mb": before, "after_mb": after, "open_s": seconds,
              "words": len(kv.index_to_key), "memory_mapped": bool(hit)}
    print(CHILD_TAG + json.dumps(report), flush=True)


def _run_big_child(source: str, cache_dir: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_bench", "--child-big", source, cache_dir],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    for line in out.stdout.splitlines():
        if line.startswith(CHILD_TAG):
            return json.loads(line[len(CHILD_TAG):])
    raise RuntimeError(f"memory child failed ({out.returncode}): {out.stderr[-2000:]}")


def big_mmap(cfg: Config) -> Result:
    rows = TINY_ROWS if cfg.tiny else QUICK_ROWS if cfg.quick else BIG_ROWS
    with tempfile.TemporaryDirectory(prefix="ae-bench-mem-") as tmp:
        source, cache_dir = write_cached_set(Path(tmp), rows)
        reports = [_run_big_child(source, cache_dir) for _ in range(cfg.repeats(full=3, quick=2))]
    if not all(r["memory_mapped"] and r["words"] == rows for r in reports):
        raise RuntimeError(f"the big set was not opened from the cache as expected: {reports}")
    return Result("rss_mb.big_mmap", [r["after_mb"] - r["before_mb"] for r in reports],
                  Target("<=", 200.0), "MB",
                  f"extra VmRSS after opening a cached {rows:,} x {BIG_DIM} float32 set",
                  {"rows": rows, "dim": BIG_DIM, "open_s": [r["open_s"] for r in reports]})


def default_rss(cfg: Config) -> Result:
    reports = [run_child_process() for _ in range(cfg.repeats(full=3, quick=2))]
    return Result("rss_mb.default", [r["rss_mb"] for r in reports], Target("<=", 300.0), "MB",
                  "VmRSS: window offscreen, default vectors loaded, first result drawn")


def run(cfg: Config, only: Sequence[str] = ()) -> list[Result]:
    results = [default_rss(cfg)] if wanted(only, "rss_mb.default") else []
    return results + ([big_mmap(cfg)] if wanted(only, "rss_mb.big_mmap") else [])


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--child-big":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _big_child(sys.argv[2], sys.argv[3])
