"""Table headers that a PDF can draw: Fusion's header gradient, with every stop in RGB.

The Fusion style fills each header section (and a table's corner button) with a gradient whose
stops mix colour specs: its end colours are HSV (``buttonColor`` ends in ``setHsv``) and its two
middle colours RGB (``mergedColors`` sets red, green and blue). QPdfWriter cannot shade between
colours of different specs: it prints ``QPdfEngine: unable to create a gradient between colors
of different spec`` for every section (about 25 lines for the computation view) and leaves the
sections unfilled. Fusion uses the palette's Window brush instead when that brush is a gradient,
so while a figure is painted each header gets the same gradient with its stops made in one spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QGradient, QLinearGradient, QPalette
from PySide6.QtWidgets import QAbstractButton, QHeaderView, QWidget

__all__ = ["header_gradient", "rgb_header_gradients"]


def _mixed(a: QColor, b: QColor, share_of_a: int) -> QColor:
    """``share_of_a`` per cent of ``a``, the rest ``b``, channel by channel, as Fusion mixes."""
    def channel(x: int, y: int) -> int:
        return (x * share_of_a) // 100 + (y * (100 - share_of_a)) // 100
    return QColor(channel(a.red(), b.red()), channel(a.green(), b.green()),
                  channel(a.blue(), b.blue()))


def header_gradient(button: QColor) -> QLinearGradient:
    """Fusion's header gradient for the palette's Button colour, top to bottom, all in RGB."""
    gray = (button.red() * 11 + button.green() * 16 + button.blue() * 5) // 32  # qGray
    base = button.lighter(100 + max(1, (180 - gray) // 6))
    base = QColor.fromHsv(base.hsvHue(), int(base.hsvSaturation() * 0.75), base.value())
    start, stop = base.lighter(104).toRgb(), base.darker(102).toRgb()
    gradient = QLinearGradient(0, 0, 0, 1)
    gradient.setCoordinateMode(QGradient.CoordinateMode.ObjectMode)  # each section's own box
    for at, colour in ((0.0, start), (0.5, _mixed(start, stop, 60)),
                       (0.501, _mixed(start, stop, 40)), (0.92, stop),
                       (1.0, stop.darker(104).toRgb())):
        gradient.setColorAt(at, colour)
    return gradient


def _headers(source: QWidget) -> list[QWidget]:
    """The header views under ``source`` and the tables' corner buttons (drawn as headers)."""
    corners = [button for button in source.findChildren(QAbstractButton)
               if button.metaObject().className() == "QTableCornerButton"]
    return [*source.findChildren(QHeaderView), *corners]


@contextmanager
def rgb_header_gradients(source: QWidget) -> Iterator[None]:
    """Every header under ``source`` painted with :func:`header_gradient`, then as it was."""
    changed: list[tuple[QWidget, QPalette | None]] = []
    for header in _headers(source):
        palette = header.palette()
        if palette.window().gradient() is not None:
            continue  # a gradient of someone's own: Fusion already uses it
        own = header.testAttribute(Qt.WidgetAttribute.WA_SetPalette)
        changed.append((header, QPalette(palette) if own else None))  # None: it inherited
        brush = QBrush(header_gradient(palette.color(QPalette.ColorRole.Button)))
        palette.setBrush(QPalette.ColorRole.Window, brush)
        header.setPalette(palette)
    try:
        yield
    finally:
        for header, palette in changed:
            header.setPalette(palette if palette is not None else QPalette())  # () inherits
