"""Loading word vectors: our parsers against gensim's, the cache, the GUI during a load, neighbours.

The files are the bundled default set (GloVe 6B 50d, 400,000 x 50) written by gensim's own
writers into a temporary folder (``--quick``: its 100,000 most frequent words), so the comparison
with gensim is on exactly the files gensim produces. Each of our "first" opens gets an empty cache
folder, so it is a real first open including writing the cache, as in the application.

Keys: ``load_s.*`` (seconds), ``load_ratio.*`` (per interleaved pair, then the median),
``stall_ms.during_load`` and ``neighbours_ms``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.load_times import write_glove_text
from benchmarks.timing import Config, Result, Target, median, paired_ratios, repeat, wanted

DEFAULT_WORDS = 400_000
QUICK_WORDS = 100_000
REOPEN_TARGET_S = 0.3
STALL_TARGET_MS = 100.0
NEIGHBOURS_TARGET_MS = 10.0


def _default_subset(n_words: int) -> Any:
    """The default set, or its first ``n_words`` (the most frequent) as a new KeyedVectors."""
    from gensim.models import KeyedVectors

    from core.vectors.load import load_default_vectors

    kv = load_default_vectors()
    if n_words >= len(kv.index_to_key):
        return kv
    subset = KeyedVectors(kv.vector_size, count=0, dtype=np.float32)
    subset.add_vectors(kv.index_to_key[:n_words], np.asarray(kv.vectors[:n_words]))
    return subset


def write_files(folder: Path, n_words: int) -> tuple[Path, Path]:
    """GloVe text (no header) and word2vec binary files of the default set, by gensim's writers."""
    text, binary = folder / "glove.6B.50d.txt", folder / "glove.6B.50d.bin"
    kv = _default_subset(n_words)
    if n_words >= DEFAULT_WORDS:
        write_glove_text(text)  # load_times' writer: the very file its own report uses
    else:
        kv.save_word2vec_format(str(text), write_header=False)
    kv.save_word2vec_format(str(binary), binary=True)
    return text, binary


class _FreshCaches:
    """A new, empty cache folder for every call, so every timed open is a first open."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    def __call__(self) -> str:
        self.count += 1
        return str(self.folder / f"cache-{self.count}")


def _same_as_gensim(ours: Any, theirs: Any) -> bool:
    return bool(ours.index_to_key == theirs.index_to_key
                and np.array_equal(np.asarray(ours.vectors), theirs.vectors))


def _compare(name: str, path: Path, fmt: str, folder: Path, runs: int) -> list[Result]:
    """Our first open vs gensim's load of the same file, interleaved; ``name`` names the keys."""
    from gensim.models import KeyedVectors

    from core.vectors.load import load_vectors

    fresh = _FreshCaches(folder)
    binary = fmt == "word2vec_binary"

    def ours() -> Any:
        return load_vectors(path, "auto", cache_dir=fresh())

    def gensim() -> Any:
        return KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=not binary)

    same = _same_as_gensim(ours(), gensim())  # also the warm-up: imports, page cache
    ours_t, gensim_t, ratios = paired_ratios(ours, gensim, runs)
    gensim_median = median(gensim_t)
    if binary:
        ours_target = Target("<=", gensim_median, f"<= gensim ({gensim_median:.2f} s)")
        ratio = Result("load_ratio.word2vec_bin_ours_over_gensim", ratios, Target("<=", 1.0),
                       unit="x", note="ours / gensim, interleaved pairs")
    else:
        limit = gensim_median / 4
        ours_target = Target("<=", limit, f"<= gensim/4 ({limit:.2f} s)")
        ratio = Result("load_ratio.glove_text_gensim_over_ours", [1 / r for r in ratios],
                       Target(">=", 4.0), unit="x", note="gensim / ours, interleaved pairs")
    extra = {"identical_to_gensim": same, "file_mb": round(path.stat().st_size / 2**20, 1)}
    gensim_key = "load_s.gensim_word2vec_bin" if binary else "load_s.gensim_glove_text"
    return [Result(f"load_s.{name}", ours_t, ours_target, "s", "first open + cache write", extra),
            Result(gensim_key, gensim_t, unit="s", note="gensim load_word2vec_format"),
            ratio]


def _reopen(path: Path, folder: Path, runs: int) -> Result:
    """Opening a file whose cache entry exists (written once before timing)."""
    from core.vectors.load import load_vectors

    cache = str(folder / "cache-reopen")
    load_vectors(path, cache_dir=cache)
    times = repeat(lambda: load_vectors(path, cache_dir=cache), runs)
    return Result("load_s.reopen", times, Target("<=", REOPEN_TARGET_S), "s", "from the cache")


def stall_during_load(path: Path, cache_dir: str) -> tuple[float, float]:
    """Longest gap (ms) between 1 ms timer ticks on the GUI thread while the app's background
    loader parses ``path`` (and warms up the pipeline, as the window asks it to); also the
    seconds the load took."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from core.settings import Settings
    from explorer.loader import VectorLoader

    app = QApplication.instance() or QApplication([])
    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    loader = VectorLoader(cache_dir=cache_dir)
    outcome: list[Any] = []
    loader.loaded.connect(lambda result: (outcome.append(result), loop.quit()))
    loader.failed.connect(lambda message: (outcome.append(message), loop.quit()))
    QTimer.singleShot(300_000, loop.quit)  # a broken loader must not hang the suite
    timer.start()
    ticks.append(time.perf_counter())
    loader.load(str(path), warm_up=Settings())
    loop.exec()
    ticks.append(time.perf_counter())
    timer.stop()
    loader.shutdown()
    app.processEvents()
    if not outcome or isinstance(outcome[0], str):
        raise RuntimeError(f"the background load did not finish: {outcome}")
    return float(np.diff(ticks).max() * 1e3), ticks[-1] - ticks[0]


def _stall(path: Path, folder: Path, runs: int) -> Result:
    fresh = _FreshCaches(folder / "stall")
    gaps, seconds = [], []
    for _ in range(runs):
        gap, took = stall_during_load(path, fresh())
        gaps.append(gap)
        seconds.append(took)
    note = f"GloVe text, uncached, VectorLoader + warm-up; load took {median(seconds):.1f} s"
    return Result("stall_ms.during_load", gaps, Target("<=", STALL_TARGET_MS), "ms", note,
                  {"load_seconds": seconds})


def run(cfg: Config, only: Sequence[str] = ()) -> list[Result]:
    n_words = 2_000 if cfg.tiny else QUICK_WORDS if cfg.quick else DEFAULT_WORDS
    runs = cfg.repeats(full=3, quick=2)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="ae-bench-load-") as tmp:
        folder = Path(tmp)
        text, binary = write_files(folder, n_words)
        if wanted(only, "load_s.glove_text_first", "load_s.gensim_glove_text", "load_ratio.glove"):
            results += _compare("glove_text_first", text, "glove_text", folder, runs)
        if wanted(only, "load_s.word2vec_bin_first", "load_s.gensim_word2vec_bin",
                  "load_ratio.word2vec"):
            results += _compare("word2vec_bin_first", binary, "word2vec_binary", folder, runs)
        if wanted(only, "load_s.reopen"):
            results.append(_reopen(text, folder, cfg.repeats(full=10, quick=5)))
        if wanted(only, "stall_ms"):
            results.append(_stall(text, folder, runs))
    for r in results:
        r.extra.setdefault("words", n_words)
    return results


def run_neighbours(cfg: Config, only: Sequence[str] = ()) -> list[Result]:
    """The 10 nearest words to an arbitrary vector, over all 400,000 default words."""
    from core.vectors.load import load_default_vectors, nearest_neighbours

    kv = load_default_vectors()
    rng = np.random.default_rng(0)
    # Not a vocabulary row: an attention output is a mix of words, so use a perturbed one.
    vector = np.asarray(kv.vectors[1000]) + rng.standard_normal(kv.vector_size).astype(np.float32)
    nearest_neighbours(kv, vector, 10)  # the first call measures the row lengths, once
    times = repeat(lambda: nearest_neighbours(kv, vector, 10), cfg.repeats(full=100, quick=30),
                   scale=1e3)
    return [Result("neighbours_ms", times, Target("<=", NEIGHBOURS_TARGET_MS), "ms",
                   f"k=10 over {len(kv.index_to_key):,} words (row lengths already measured)")]
