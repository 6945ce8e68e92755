"""Shared helpers: repeated timing, medians, targets and one result row per measured key.

The machine running the benchmarks is usually shared and noisy, so every figure is the median of
several runs (robust to the odd slow run), and every comparison is a ratio of figures measured in
the same process, one right after the other, never against a number remembered from elsewhere.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Config:
    """How big and how often: ``quick`` keeps the whole suite under two minutes; ``tiny`` is for
    the smoke test only (figures meaningless, every code path still runs)."""

    quick: bool = False
    tiny: bool = False
    use_torch: bool = True

    def repeats(self, full: int, quick: int) -> int:
        """How many runs a figure is the median of."""
        if self.tiny:
            return 2
        return quick if self.quick else full


@dataclass(frozen=True)
class Target:
    """``op`` is "<=" or ">="; ``text`` is what the table shows (e.g. "<= gensim / 4")."""

    op: str
    limit: float
    text: str = ""

    def met(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def describe(self) -> str:
        return self.text or f"{self.op} {self.limit:g}"


@dataclass
class Result:
    """One row of the table and one entry of results.json."""

    key: str
    runs: list[float]
    target: Target | None = None
    unit: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return float(statistics.median(self.runs)) if self.runs else float("nan")

    @property
    def met(self) -> bool | None:
        if self.target is None or not self.runs:
            return None
        return self.target.met(self.median)

    def to_json(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "runs": [float(r) for r in self.runs],
            "target": self.target.describe() if self.target else None,
            "met": self.met,
            "unit": self.unit,
            "note": self.note,
            **self.extra,
        }


def time_once(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of ``fn`` takes, and what it returned."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def repeat(fn: Callable[[], Any], runs: int, warmup: int = 1, scale: float = 1.0) -> list[float]:
    """Time ``runs`` calls of ``fn`` after ``warmup`` untimed ones; seconds times ``scale``.

    The garbage collector is run before each call and kept off during it, so a collection
    triggered by an earlier run's garbage does not land in a later run's time.
    """
    for _ in range(warmup):
        fn()
    times = []
    was_enabled = gc.isenabled()  # the window keeps it off (main.collect_garbage_from_...)
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            seconds, _ = time_once(fn)
        finally:
            if was_enabled:
                gc.enable()
        times.append(seconds * scale)
    return times


def paired_ratios(
    ours: Callable[[], Any], reference: Callable[[], Any], runs: int, scale: float = 1.0
) -> tuple[list[float], list[float], list[float]]:
    """Time ``ours`` and ``reference`` alternately; return both timings and ``ours/reference``.

    Interleaving puts both under the same background load, so the per-pair ratio is steadier on
    a busy machine than a ratio of two separately measured medians.
    """
    ours(), reference()  # warm-up: caches, lazy imports, thread pools
    ours_t: list[float] = []
    ref_t: list[float] = []
    for _ in range(runs):
        ours_t += repeat(ours, 1, warmup=0, scale=scale)
        ref_t += repeat(reference, 1, warmup=0, scale=scale)
    return ours_t, ref_t, [a / b for a, b in zip(ours_t, ref_t, strict=True)]


def wanted(only: Sequence[str], *keys: str) -> bool:
    """Whether ``--only`` asks for any of ``keys`` (a prefix of a key, or a key of a prefix)."""
    return not only or any(k.startswith(p) or p.startswith(k) for p in only for k in keys)


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def rss_mb() -> float:
    """This process's resident memory (VmRSS) in MiB, from /proc (Linux; NaN elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
