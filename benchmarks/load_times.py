"""How long loading word vectors takes: the default set, GloVe text (ours vs gensim), the cache.

Run from the project root: ``python -m benchmarks.load_times [--json PATH] [--keep DIR]``.
It writes GloVe 6B 50d as a GloVe text file (400,000 lines, 171 MB) to a temporary folder, so it
needs about 500 MB of free disk space and a minute or so; gensim's own parser dominates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.vectors.load import load_default_vectors, load_vectors  # noqa: E402


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def cold_default_open() -> float:
    """Open the default set in a fresh interpreter (includes importing gensim, as the app does)."""
    code = (
        "import time; t = time.perf_counter(); from core.vectors.load import load_default_vectors;"
        "kv = load_default_vectors(); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    return float(out.stdout.strip())


def write_glove_text(path: Path) -> None:
    """The default set in GloVe text format, written by gensim's own writer."""
    load_default_vectors().save_word2vec_format(str(path), write_header=False)


def run(folder: Path) -> dict[str, float]:
    from gensim.models import KeyedVectors

    results: dict[str, float] = {"default_open_cold_process_s": cold_default_open()}
    results["default_open_gensim_already_imported_s"], default = timed(load_default_vectors)
    text = folder / "glove.6B.50d.txt"
    write_glove_text(text)
    cache = folder / "cache"
    results["glove_text_ours_s"], ours = timed(lambda: load_vectors(text, use_cache=False))
    results["glove_text_ours_first_with_cache_write_s"], _ = timed(
        lambda: load_vectors(text, cache_dir=cache)
    )
    results["glove_text_cache_reopen_s"], cached = timed(
        lambda: load_vectors(text, cache_dir=cache)
    )
    results["glove_text_gensim_s"], theirs = timed(
        lambda: KeyedVectors.load_word2vec_format(str(text), no_header=True)
    )
    identical = ours.index_to_key == theirs.index_to_key and np.array_equal(
        ours.vectors.view(np.uint32), theirs.vectors.view(np.uint32)
    )
    results["identical_to_gensim"] = float(identical)
    results["same_as_default"] = float(np.array_equal(cached.vectors, default.vectors))
    results["speedup_vs_gensim"] = results["glove_text_gensim_s"] / results["glove_text_ours_s"]
    return results


def print_table(results: dict[str, float]) -> None:
    width = max(len(k) for k in results)
    print(f"{'measurement':<{width}}  value")
    for key, value in results.items():
        print(f"{key:<{width}}  {value:8.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "load_results.json"))
    parser.add_argument("--keep", help="write the text file and cache here instead of a temp dir")
    args = parser.parse_args(argv)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        results = run(Path(args.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="ae-bench-") as folder:
            results = run(Path(folder))
    print_table(results)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
