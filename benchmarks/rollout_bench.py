"""Attention rollout and attention flow on the bundled all-MiniLM-L6-v2 (6 layers, 12 heads).

``python -m benchmarks.rollout_bench [--quick] [--json PATH]`` prints a table and writes JSON.

``rollout_ms.n{n}``: `attention_rollout` of one run's float32 attentions at exactly n tokens.
``flow_s.n{n}``: `attention_flow`, the whole (n, n) matrix: n**2 maximum flows.
``flow_row_ms.n64``: one output token's row (``rows=[i]``): n maximum flows, what a view
showing one query token needs. ``flow_causal_s.n64``: the whole matrix of the same attentions
made causal (lower triangle, rows renormalised), as GPT-2's are: the pairs' networks shrink to
the tokens between the two ends, and pairs j > i need no maximum flow at all.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.timing import Config, Result, repeat

SIZES = (16, 32, 64)
TEXT = "The animal was not swimming in the sea because it was running on the street. " * 8


def _attentions(n: int) -> np.ndarray:
    from core.transformer import load_model

    att = load_model().run(TEXT, max_length=n).attentions  # (layers, heads, n, n)
    assert att.shape[-1] == n
    return att


def _causal(att: np.ndarray) -> np.ndarray:
    lower = np.tril(att)  # (layers, heads, n, n)
    return lower / lower.sum(axis=-1, keepdims=True)


def run(cfg: Config) -> list[Result]:
    from core.maths.rollout import attention_flow, attention_rollout

    sizes = (16,) if cfg.tiny else SIZES
    results = []
    for n in sizes:
        att = _attentions(n)
        results.append(Result(f"rollout_ms.n{n}", repeat(partial(attention_rollout, att),
                                                         cfg.repeats(50, 10), scale=1e3),
                              unit="ms"))
        flow_runs = cfg.repeats(5, 3) if n < 64 else cfg.repeats(3, 1)
        results.append(Result(f"flow_s.n{n}", repeat(partial(attention_flow, att), flow_runs,
                                                     warmup=0), unit="s"))
    att = _attentions(sizes[-1])
    middle = att.shape[-1] // 2
    results.append(Result(f"flow_row_ms.n{sizes[-1]}",
                          repeat(lambda: attention_flow(att, rows=[middle]), cfg.repeats(10, 3),
                                 scale=1e3), unit="ms", note=f"row {middle}"))
    causal = _causal(att)
    results.append(Result(f"flow_causal_s.n{sizes[-1]}",
                          repeat(lambda: attention_flow(causal), cfg.repeats(3, 1), warmup=0),
                          unit="s"))
    return results


def main(argv: list[str] | None = None) -> int:
    from benchmarks.__main__ import machine_info, print_table

    p = argparse.ArgumentParser(prog="python -m benchmarks.rollout_bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the results")
    args = p.parse_args(argv)
    cfg = Config(quick=args.quick)
    results = run(cfg)
    print_table(results)
    if args.json is not None:
        data: dict[str, Any] = {"machine": machine_info(),
                                "results": {r.key: r.to_json() for r in results}}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
