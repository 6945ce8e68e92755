"""JSON from files and stored settings, parsed within bounds a person's settings never reach.

Python's own limits are far off and end in tracebacks: ValueError past 4,300 digits in an
integer, RecursionError around 1,000 levels of nesting; NaN and Infinity are accepted by default.
Settings and sessions hold small numbers in shallow structures, so :func:`parse_json` refuses
anything beyond that with a one-line :class:`JsonLimitError`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any


class JsonLimitError(ValueError):
    """JSON that is invalid or beyond the bounds; the message says where or which."""


MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 40
_JSON_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)  # an escape, a quote, a bracket


def parse_json(text: str) -> Any:
    """Parse settings or session JSON; every problem is a one-line :class:`JsonLimitError`.

    Beyond the grammar: nesting deeper than `MAX_JSON_DEPTH`, a number written with more than
    `MAX_NUMBER_DIGITS` digits, a float too large for a double, and NaN/Infinity are refused.
    """
    depth = _nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise JsonLimitError(
            f"nested {depth} levels deep; settings JSON is never deeper than {MAX_JSON_DEPTH}")
    try:
        return json.loads(text, parse_int=_bounded_int, parse_float=_finite_float,
                          parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        # json's own messages end in "at" or name the spot ("Unterminated string starting
        # at"): the place goes after them, or the reader gets "starting at." and no place.
        what = error.msg[:-3] if error.msg.endswith(" at") else error.msg
        cut = " (the text ends there: is the file cut off?)" if not text[error.pos:].strip() \
            or error.msg.startswith("Unterminated") else ""
        raise JsonLimitError(
            f"not valid JSON: {what} at line {error.lineno}, column {error.colno}{cut}"
        ) from None


def _nesting_depth(text: str) -> int:
    """The deepest [ / { nesting outside strings (the JSON need not be valid); linear time."""
    depth = deepest = 0
    in_string = False
    for match in _JSON_STRUCTURE.finditer(text):
        char = match.group()
        if char == '"':
            in_string = not in_string
        elif not in_string and len(char) == 1:
            depth += 1 if char in "[{" else -1
            deepest = max(deepest, depth)
    return deepest


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise JsonLimitError(f"a number has {len(digits.lstrip('-'))} digits; settings numbers "
                            f"have at most {MAX_NUMBER_DIGITS}")
    return int(digits)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        shown = literal if len(literal) <= 20 else literal[:20] + "..."
        raise JsonLimitError(f"the number {shown} is too large for a double")
    return value


def _no_constant(name: str) -> float:
    raise JsonLimitError(f"{name} is not a number a setting can hold")
