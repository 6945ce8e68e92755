"""Qt's SVG, rewritten so that every SVG viewer draws the same picture Qt does.

Qt's SVG writer leans on things other renderers do not share:

- a cosmetic pen (a line one pixel wide however the drawing is scaled) becomes
  ``vector-effect="non-scaling-stroke"`` inside a group whose ``transform`` scales by 40-50
  (plot coordinates); librsvg (GNOME's viewers, rsvg-convert, many LaTeX pipelines) ignores the
  effect and draws each line 40-50 pixels wide. The group's ``stroke-width`` is divided by the
  transform's scale instead: the same width on screen in every renderer;
- a heatmap is an image of one pixel per cell, scaled up by the renderer, which smooths it
  (browsers and librsvg ignore ``image-rendering="optimizeSpeed"``): the cells blur into each
  other. The embedded picture is enlarged with nearest-neighbour sampling first, so whatever the
  renderer does, a cell stays a solid square; ``image-rendering: pixelated`` is added too;
- text is in the family "Sans Serif", which is no CSS generic, so a browser falls back to a serif
  font. Real families follow, ending in the generic ``sans-serif``;
- the page size is in millimetres, which resvg refuses: it is given in CSS pixels (96 per inch,
  the same physical size).

Qt writes one group per painter state, each carrying its whole transform; they sit inside a
single outer group.
"""

from __future__ import annotations

import base64
import math
import re

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage

__all__ = ["FONT_FAMILIES", "portable_svg"]

FONT_FAMILIES = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
MAX_IMAGE_SIDE = 2048  # pixels of an enlarged heatmap (a 512-token map: 4 per cell)
MAX_CELL = 32  # pixels per cell at the most (an 18-token map: 576 pixels)

_TAG = re.compile(r"<g\b[^>]*>|</g>")
_MATRIX = re.compile(r'transform="matrix\(([^)]*)\)"')
_WIDTH = re.compile(r'stroke-width="([0-9.eE+-]+)"')
_NON_SCALING = ' vector-effect="non-scaling-stroke"'
_IMAGE_DATA = re.compile(r'(<image\b[^>]*?)xlink:href="data:image/png;base64,([^"]+)"')
_PAGE = re.compile(r'<svg width="([0-9.]+)mm" height="([0-9.]+)mm"')


def _scale(group_tag: str) -> float:
    """How much a group's transform scales a length (the square root of its determinant)."""
    found = _MATRIX.search(group_tag)
    if found is None:
        return 1.0
    try:
        a, b, c, d = (float(v) for v in found.group(1).replace(",", " ").split()[:4])
    except ValueError:
        return 1.0
    return math.sqrt(abs(a * d - b * c)) or 1.0


def _real_stroke_widths(text: str) -> str:
    """Each group whose own elements have non-scaling strokes gets its width in user units."""
    pieces: list[str] = []
    open_groups: list[int] = []  # index in pieces of each open group's tag
    last = 0
    for tag in _TAG.finditer(text):
        between = text[last:tag.start()]
        if _NON_SCALING in between and open_groups:
            i = open_groups[-1]
            scale = _scale(pieces[i])
            pieces[i] = _WIDTH.sub(
                lambda w, s=scale: f'stroke-width="{float(w.group(1)) / s:.6g}"', pieces[i])
            between = between.replace(_NON_SCALING, "")
        pieces.append(between)
        pieces.append(tag.group(0))
        if tag.group(0) == "</g>":
            if open_groups:
                open_groups.pop()
        else:
            open_groups.append(len(pieces) - 1)
        last = tag.end()
    pieces.append(text[last:].replace(_NON_SCALING, ""))
    return "".join(pieces)


def _enlarged(png: str) -> str:
    """A base64 PNG enlarged by whole pixels per pixel (nearest neighbour), base64 again."""
    image = QImage.fromData(QByteArray(base64.b64decode(png)), "PNG")
    side = max(image.width(), image.height())
    factor = min(MAX_CELL, MAX_IMAGE_SIDE // max(side, 1))
    if image.isNull() or factor < 2:
        return png
    big = image.scaled(image.width() * factor, image.height() * factor,
                       Qt.AspectRatioMode.IgnoreAspectRatio,
                       Qt.TransformationMode.FastTransformation)  # nearest neighbour
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    big.save(buffer, "PNG")
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _page_in_pixels(match: re.Match[str]) -> str:
    width, height = (float(v) / 25.4 * 96 for v in match.groups())
    return f'<svg width="{width:.6g}" height="{height:.6g}"'


def portable_svg(text: str) -> str:
    """``text`` (an SVG written by QSvgGenerator) drawn alike by librsvg, resvg and browsers."""
    text = _real_stroke_widths(text)
    text = _IMAGE_DATA.sub(lambda m: f'{m.group(1)}style="image-rendering:pixelated" '
                                     f'xlink:href="data:image/png;base64,{_enlarged(m.group(2))}"',
                           text)
    text = _PAGE.sub(_page_in_pixels, text, count=1)
    return text.replace('font-family="Sans Serif"', f'font-family="{FONT_FAMILIES}"')
