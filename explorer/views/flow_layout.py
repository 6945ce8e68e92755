"""Where tokens go when they are wrapped left to right onto lines, like words in text.

Pure arithmetic on sizes (no Qt objects), so the token strip can place 512 chips in about a
millisecond: a word's pieces are one run that is never split across lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["MARGIN", "SPACING", "Flow", "flow"]

SPACING = 4
"""Pixels between neighbouring words, and between lines."""
MARGIN = 4
"""Pixels around all of them."""


class Flow(NamedTuple):
    """Items wrapped to one width."""

    positions: list[tuple[int, int]]  #: each item's top-left corner
    height: int  #: from the top margin to the bottom one
    widest_run: int  #: the widest run (a word), margins included: the narrowest useful width


def flow(sizes: Sequence[tuple[int, int]], joined: Sequence[bool], width: int) -> Flow:
    """Place items of ``sizes`` (width, height) in ``width`` pixels; ``joined[i]``: item i
    continues the run of item i - 1 (touching it, on the same line)."""
    runs: list[tuple[int, int, int]] = []  # (first item, width, height) of each run
    for i, (w, h) in enumerate(sizes):
        if joined[i] and runs:
            first, run_w, run_h = runs[-1]
            runs[-1] = (first, run_w + w, max(run_h, h))
        else:
            runs.append((i, w, h))
    left, right = MARGIN, width - 1 - MARGIN  # the last pixel column inside the margin
    x, y, line_height = left, MARGIN, 0
    positions: list[tuple[int, int]] = []
    ends = [first for first, _, _ in runs[1:]] + [len(sizes)] if runs else []
    for (first, run_w, run_h), end in zip(runs, ends, strict=True):
        if x + run_w > right and line_height > 0:  # wrap before a word that overflows
            x, y, line_height = left, y + line_height + SPACING, 0
        for i in range(first, end):  # a word's pieces touch
            positions.append((x, y))
            x += sizes[i][0]
        line_height = max(line_height, run_h)
        x += SPACING
    widest = max((run_w for _, run_w, _ in runs), default=0) + 2 * MARGIN
    return Flow(positions, y + line_height + MARGIN, widest)
