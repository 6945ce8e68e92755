"""What a data export checks before it writes: every number finite, every text encodable.

Two things must never reach a data file:

- NaN or infinity. A NaN weight read back by a script is a silent wrong answer, and strict JSON
  has neither. The one documented exception is ``logits``, where a masked position is minus
  infinity by definition (JSON writes it as ``null``). Anything else refuses the export, naming
  the arrays and where the first bad value is, so the person can see what degenerated.
- Lone surrogates. Python turns bytes that are not UTF-8 (in a command-line argument, a file name)
  into surrogate escapes such as ``'\\udcff'``, which no UTF-8 file can hold. They are written as
  U+FFFD and the export's warnings say which fields held them: the input text was at fault, not
  the output file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.files.atomic import ExportError

MASKED_MINUS_INFINITY = frozenset({"logits"})
"""Arrays where -inf is a value, not a failure: a masked key's logit."""

_SHOWN_ARRAYS = 4  # more names than this make the one-line message unreadable
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def non_finite_arrays(arrays: Mapping[str, Any]) -> list[str]:
    """One description per floating array that holds NaN or infinity (see the module notes).

    Returns
    -------
    list of str
        E.g. ``"weights: 6 NaN, first at [0, 0, 0]"``; empty when every number is finite.
    """
    found = []
    for name, value in arrays.items():
        array = np.asarray(value)
        if array.dtype.kind not in "fc" or np.isfinite(array).all():
            continue
        bad = ~np.isfinite(array)
        if name in MASKED_MINUS_INFINITY:
            bad &= ~np.isneginf(array)
            if not bad.any():
                continue
        found.append(_describe(name, array, bad))
    return found


def _describe(name: str, array: np.ndarray, bad: np.ndarray) -> str:
    counts = [(int(np.isnan(array).sum()), "NaN"),
              (int((np.isinf(array) & bad).sum()), "infinite")]
    what = " and ".join(f"{count:,} {kind}" for count, kind in counts if count)
    first = [int(i) for i in np.argwhere(bad)[0]] if array.ndim else []
    where = f", first at {first}" if first else ""
    return f"{name}: {what}{where}"


def require_finite(arrays: Mapping[str, Any], target: object) -> None:
    """ExportError naming what is not finite (see :func:`non_finite_arrays`): call it before
    anything of ``target`` is written."""
    found = non_finite_arrays(arrays)
    if not found:
        return
    shown = "; ".join(found[:_SHOWN_ARRAYS])
    more = f"; and {len(found) - _SHOWN_ARRAYS} more" if len(found) > _SHOWN_ARRAYS else ""
    raise ExportError(
        f"Cannot write {target}: the analysis holds numbers that are not finite "
        f"({shown}{more}); no export carries NaN or infinity, so nothing was written. "
        "Huge values in the vectors or the head matrices overflow the arithmetic."
    )


def without_surrogates(value: Any, where: str = "") -> tuple[Any, list[str]]:
    """``value`` (nested dicts, lists, strings) with lone surrogates replaced by U+FFFD.

    Returns
    -------
    (value, fields)
        The cleaned copy and the dotted names of the fields that held surrogates
        (``"settings.sentence"``, ``"tokens[2]"``).
    """
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value) is None:
            return value, []
        return _LONE_SURROGATE.sub("\ufffd", value), [where or "text"]
    if isinstance(value, dict):
        cleaned: dict[Any, Any] = {}
        fields: list[str] = []
        for key, item in value.items():
            cleaned[key], inner = without_surrogates(item, f"{where}.{key}" if where else key)
            fields += inner
        return cleaned, fields
    if isinstance(value, list | tuple):
        items = [without_surrogates(item, f"{where}[{i}]") for i, item in enumerate(value)]
        fields = [name for _, inner in items for name in inner]
        return type(value)(item for item, _ in items), fields
    return value, []


def surrogate_warning(fields: list[str]) -> str:
    """The export's note that input text held bytes that are not UTF-8."""
    shown = ", ".join(dict.fromkeys(_field_group(name) for name in fields))
    return (f"Text that is not valid UTF-8 (from the command line or a file name) was written "
            f"with U+FFFD in place of the bad bytes, in: {shown}.")


def _field_group(name: str) -> str:
    """"all_tokens[3].text" -> "all_tokens[].text": one name per list, not one per element."""
    return re.sub(r"\[\d+\]", "[]", name)
