"""A number box that says why it refused a number, instead of silently keeping its old one.

Qt's QDoubleSpinBox drops a keystroke that would leave its range (1000 in a 0.01..100 box
stays 100) and, on Enter, puts its last value back over a number below the range (0, 0.001):
the person sees their number vanish with no reason. This box lets an out-of-range number be
typed and, when the box puts its value back, emits ``refused`` with the range.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

from core.explain.steps import format_number

__all__ = ["RangeSpinBox"]


class RangeSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox for the setting ``name``; ``refused(str)`` says a typed number was out
    of range or not a number, e.g. "temperature must be between 0.01 and 100, got 1000 (it
    stays 1.00)"."""

    refused = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name = name

    def validate(self, text: str, pos: int) -> object:  # noqa: D102 (Qt override)
        result = super().validate(text, pos)
        state = result[0] if isinstance(result, tuple) else result
        if state == QValidator.State.Invalid and _number(self._bare(text)) is not None:
            return (QValidator.State.Intermediate, text, pos)  # typed on, refused on Enter
        return result

    def fixup(self, text: str) -> str:  # noqa: D102 (Qt override): the value is put back
        typed = self._bare(text)
        if typed:
            low, high = format_number(self.minimum()), format_number(self.maximum())
            got = typed if _number(typed) is not None else repr(typed)
            self.refused.emit(f"{self._name} must be between {low} and {high}, got {got} "
                              f"(it stays {self.textFromValue(self.value())})")
        return super().fixup(text)

    def _bare(self, text: str) -> str:
        return text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
