"""The word fields of the controls (word pairs for the heads, the latent map's axis words): how
their text is read, and how a field at fault is marked."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QLineEdit

__all__ = ["INVALID_STYLE", "format_pairs", "mark_field", "not_known", "parse_pairs"]

_PAIR_SPLIT = re.compile(r"\s+[-−]\s+|\s*[−/]\s*")  # "a - b", "a−b", "a/b"; "a-b" handled below
INVALID_STYLE = "QLineEdit { border: 2px solid #d62728; }"


def parse_pairs(text: str) -> tuple[tuple[str, str], ...] | None:
    """ "drink-eat, wine-food" -> (("drink", "eat"), ("wine", "food")); None if malformed.

    Words with hyphens ("red-wine") need a spaced separator: "red-wine - water".
    """
    pairs = []
    for chunk in filter(None, (c.strip() for c in re.split(r"[,;]", text))):
        parts = _PAIR_SPLIT.split(chunk)
        if len(parts) == 1 and chunk.count("-") == 1:
            parts = chunk.split("-")
        parts = [p.strip() for p in parts]
        if len(parts) != 2 or not all(parts):
            return None
        pairs.append((parts[0], parts[1]))
    return tuple(pairs) if pairs else None


def format_pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{a} - {b}" if "-" in a + b else f"{a}-{b}" for a, b in pairs)


def not_known(words: list[str]) -> str:
    """What is wrong with the unknown ``words``, e.g. "'qqzzq' is not in the vocabulary"; ""
    when there are none."""
    if not words:
        return ""
    listed = ", ".join(repr(w) for w in dict.fromkeys(words))
    return f"{listed} {'is' if len(words) == 1 else 'are'} not in the vocabulary"


def mark_field(edit: QLineEdit, wrong: bool, tip: str) -> None:
    """A red outline on ``edit`` when ``wrong``; ``tip`` says why (or what the field is for)."""
    style = INVALID_STYLE if wrong else ""
    if edit.styleSheet() != style:  # a new style sheet re-polishes the widget: only on change
        edit.setStyleSheet(style)
    if edit.toolTip() != tip:
        edit.setToolTip(tip)
