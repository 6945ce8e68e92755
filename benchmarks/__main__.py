"""Run the benchmark suite: ``python -m benchmarks [--quick] [--json PATH] [--only PREFIX ...]``.

Prints a table (key | median | target | met?) and writes a JSON file with the machine and, per
key, the median, every run, the target and whether it was met. Runs on demand only (``make
bench``), never in ``make test``: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Before anything imports Qt or pyqtgraph: headless, and PySide6 (pyqtgraph tries PyQt6 first).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/__main__.py` as well as `-m benchmarks`
    sys.path.insert(0, str(ROOT))

from benchmarks.timing import Config, Result, wanted  # noqa: E402

DEFAULT_JSON = ROOT / "benchmarks" / "results.json"

# Group name -> the key prefixes it produces; a group runs when --only names any of them.
GROUPS: dict[str, tuple[str, ...]] = {
    "core": ("core_ms", "core_vs_reference"),
    "neighbours": ("neighbours_ms",),
    "load": ("load_s", "load_ratio", "stall_ms"),
    "memory": ("rss_mb",),
    "window": ("update_ms", "startup_s"),
    "model": ("model_forward_ms", "model_torch_ms", "model_vs_torch", "model_open_s",
              "rss_mb.model_extra", "rss_mb.model_alone"),
    "model_window": ("update_ms.model", "stall_ms.model"),
}


def _runner(group: str) -> Callable[[Config, Sequence[str]], list[Result]]:
    """Import a group lazily: `--only core` should not pay for Qt or gensim."""
    if group == "core":
        from benchmarks import core_bench

        return lambda cfg, _only: core_bench.run(cfg)
    if group in ("neighbours", "load"):
        from benchmarks import load_bench

        return load_bench.run_neighbours if group == "neighbours" else load_bench.run
    if group == "memory":
        from benchmarks import memory_bench

        return memory_bench.run
    if group == "model":
        from benchmarks import model_bench

        return model_bench.run
    if group == "model_window":
        from benchmarks import model_window_bench

        return model_window_bench.run
    from benchmarks import window_bench

    return window_bench.run


def expand(only: Sequence[str]) -> list[str]:
    """A group name given to --only (e.g. "load") stands for all of its key prefixes."""
    return [p for name in only for p in GROUPS.get(name, (name,))]


def machine_info() -> dict[str, Any]:
    import numpy as np

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def _format(value: float, unit: str) -> str:
    if value != value:  # NaN: nothing measured
        return "-"
    return f"{value:.3g} {unit}".strip() if abs(value) < 1000 else f"{value:,.0f} {unit}".strip()


def print_table(results: list[Result]) -> None:
    rows = [("key", "median", "target", "met?")]
    for r in results:
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        rows.append((r.key, _format(r.median, r.unit), r.target.describe() if r.target else "",
                     met if r.runs else f"- ({r.note})"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for i, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
              + " | " + row[3])
        if i == 0:
            print("-+-".join("-" * w for w in widths) + "-+-----")


def write_json(path: Path, results: list[Result], cfg: Config, seconds: float) -> None:
    """Measured keys under "results"; keys that could not be measured under "not_measured"."""
    data = {
        "machine": machine_info(),
        "quick": cfg.quick,
        "tiny": cfg.tiny,
        "seconds": round(seconds, 1),
        "results": {r.key: r.to_json() for r in results if r.runs},
        "not_measured": {r.key: r.note for r in results if not r.runs},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes and fewer repeats: the whole suite in under two minutes")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                   help=f"where to write the results (default {DEFAULT_JSON.relative_to(ROOT)})")
    p.add_argument("--only", nargs="+", default=[], metavar="KEY_PREFIX",
                   help=f"only these keys or groups ({', '.join(GROUPS)}), e.g. core_ms update_ms")
    p.add_argument("--no-torch", action="store_true", help="skip the torch reference")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the smoke test
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    only = expand(args.only)
    cfg = Config(quick=args.quick, tiny=args.tiny, use_torch=not args.no_torch)
    started = time.perf_counter()
    results: list[Result] = []
    for group, prefixes in GROUPS.items():
        if not wanted(only, *prefixes):
            continue
        print(f"running {group} …", file=sys.stderr, flush=True)
        group_started = time.perf_counter()
        try:
            measured = _runner(group)(cfg, only)
        except Exception as error:  # one broken group must not lose the others' figures
            traceback.print_exc()
            note = f"group {group} failed: {type(error).__name__}: {error}"[:300]
            measured = [Result(p, [], note=note) for p in prefixes]
        results += [r for r in measured if wanted(only, r.key)]
        print(f"  {group}: {time.perf_counter() - group_started:.0f} s", file=sys.stderr)
    seconds = time.perf_counter() - started
    print_table(results)
    write_json(args.json, results, cfg, seconds)
    print(f"\n{len(results)} keys in {seconds:.0f} s; written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
