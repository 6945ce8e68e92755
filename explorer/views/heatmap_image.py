"""The image of one heatmap: a pyqtgraph ImageItem that converts on screen only the cells that
reach a pixel.

pyqtgraph converts the whole array to colours on every change and Qt then scales it down: a
512-token sentence made 13 images of 512 x 512 cells (3.4 million conversions per update) for
small maps ~50 pixels wide, which show one cell in ten anyway. Here, when an image is drawn
smaller than its cells on a pixel device, only the cells that nearest-neighbour scaling would
sample (the cell under each device pixel's centre) are converted, with pyqtgraph's arithmetic,
and drawn one per pixel, so the screen shows the same picture (up to Qt's fixed-point rounding
picking a neighbouring cell for the odd pixel). An image drawn at least as large as its cells
is converted whole and drawn scaled, as pyqtgraph draws it but premultiplied (``SCREEN_FORMAT``):
the same cells, with crisp outer edges where pyqtgraph's antialiasing blends the outermost pixel
row and column with the background. The colour table is made once per look-up
table, not once per image and change. Vector exports (PDF, SVG), NaNs and any setting this does
not cover take pyqtgraph's own path, with every cell.
"""

from __future__ import annotations

import math
from typing import Any

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPaintEngine, QPainter

__all__ = ["SCREEN_FORMAT", "HeatmapImage", "colour_indices", "colour_table", "sampled_cells"]

_MAX_PIXELS = 2048 * 2048  # more pixels than that to fill: not a thumbnail, leave it to pyqtgraph
_COLOUR_TABLES: dict[bytes, np.ndarray] = {}  # look-up table bytes -> SCREEN_FORMAT colours
SCREEN_FORMAT = QImage.Format.Format_ARGB32_Premultiplied
"""The format of the images drawn on screen. Qt's raster engine draws a premultiplied image
scaled through its fast path; plain ARGB32 is converted pixel by pixel on every draw: a 12 x 12
map drawn 244 x 224 pixels took 130-190 us as ARGB32 and 31-35 us premultiplied."""


def sampled_cells(count: int, scale: float, offset: float) -> tuple[np.ndarray, float, float]:
    """The cells of one axis that device pixels show, as nearest-neighbour scaling picks them.

    The axis's ``count`` cells are cells 0..count in item coordinates, drawn at device
    coordinate ``scale * u + offset``. Each device pixel whose centre falls inside shows the
    cell under that centre. Returns those cells in item order and the item-coordinate span
    (start, length) of the pixels they fill, so the sampled image drawn there lands one
    cell per pixel.
    """
    ends = (offset, scale * count + offset)
    first = math.ceil(min(ends) - 0.5)  # the first and one past the last pixel centre inside
    stop = max(math.ceil(max(ends) - 0.5), first + 1)
    pixels = np.arange(first, stop) + 0.5
    cells = np.clip(np.floor((pixels - offset) / scale), 0, count - 1).astype(np.intp)
    start, end = (first - offset) / scale, (stop - offset) / scale
    if scale < 0:  # pixels run against the item's direction
        cells, start, end = cells[::-1], end, start
    return cells, start, end - start


def colour_table(lut: np.ndarray) -> np.ndarray:
    """pyqtgraph's Indexed8 colour table for ``lut`` (256 x RGB or RGBA) as premultiplied
    32-bit ARGB pixels (``SCREEN_FORMAT``), made once per table. Qt draws an Indexed8 image by
    converting it to ARGB32 first: looking the indices up in NumPy does that once instead of on
    every draw."""
    key = lut.tobytes() + bytes(lut.shape[1:])
    table = _COLOUR_TABLES.get(key)
    if table is None:
        rgb = lut[:, :3].astype(np.uint32)  # (256, 3)
        opaque = np.full(len(lut), 255, np.uint32)
        alpha = lut[:, 3].astype(np.uint32) if lut.shape[1] == 4 else opaque
        rgb = (rgb * alpha[:, None] + 127) // 255  # premultiplied, rounded (exact when opaque)
        table = alpha << 24 | rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2]
        _COLOUR_TABLES[key] = table
    return table


class HeatmapImage(pg.ImageItem):
    """An ImageItem whose on-screen paint converts only the cells that reach a pixel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # (device transform, where, image) drawn last; set before ImageItem's __init__ runs
        self._shown: tuple[tuple[float, ...], QRectF, QImage] | None = None
        super().__init__(*args, **kwargs)

    # Anything that changes the colours forgets the converted image.
    def setImage(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802 (pyqtgraph API)
        self._shown = None
        super().setImage(*args, **kwargs)

    def setLevels(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802 (pyqtgraph API)
        self._shown = None
        super().setLevels(*args, **kwargs)

    def setLookupTable(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802 (pyqtgraph API)
        self._shown = None
        super().setLookupTable(*args, **kwargs)

    def paint(self, painter: QPainter, *args: Any) -> None:
        shown = self._screen_image(painter)
        if shown is None:
            super().paint(painter, *args)
            return
        painter.drawImage(*shown)

    def _screen_image(self, painter: QPainter) -> tuple[QRectF, QImage] | None:
        """Where and what to draw for ``painter``'s pixels, or None: take pyqtgraph's path."""
        image, levels, lut = self.image, self.levels, self.lut
        engine = painter.paintEngine()
        if (image is None or image.ndim != 2 or image.size == 0 or image.dtype.kind != "f"
                or self.axisOrder != "row-major" or levels is None or np.ndim(levels) != 1
                or not isinstance(lut, np.ndarray) or lut.dtype != np.uint8 or lut.ndim != 2
                or lut.shape[0] != 256 or lut.shape[1] not in (3, 4) or self.autoDownsample
                or self.paintMode is not None or self.border is not None
                or engine is None or engine.type() != QPaintEngine.Type.Raster):
            return None
        device = painter.deviceTransform()
        scales = (device.m11(), device.m22())
        if device.isRotating() or not all(math.isfinite(v) and v != 0 for v in scales):
            return None  # not laid out yet, or turned: nothing this path knows how to sample
        rows, cols = image.shape
        key = (device.m11(), device.m22(), device.dx(), device.dy())
        if self._shown is None or self._shown[0] != key:
            if abs(device.m11()) >= 1 and abs(device.m22()) >= 1:  # every cell shows: all of
                sampled, where = image, QRectF(0, 0, cols, rows)  # them, drawn as pyqtgraph does
            else:
                row_cells, top, height = sampled_cells(rows, device.m22(), device.dy())
                col_cells, left, width = sampled_cells(cols, device.m11(), device.dx())
                if len(row_cells) * len(col_cells) > _MAX_PIXELS:  # zoomed far in: no saving
                    return None
                sampled, where = image[row_cells][:, col_cells], QRectF(left, top, width, height)
            if np.isnan(sampled.min()):  # NaN cells are transparent in pyqtgraph's path
                return None
            index = colour_indices(sampled, float(levels[0]), float(levels[1]))
            pixels = colour_table(lut).take(index)  # (rows, cols) uint32, C-contiguous
            qimage = pg.functions.ndarray_to_qimage(pixels, SCREEN_FORMAT)
            self._shown = (key, where, qimage)
        return self._shown[1], self._shown[2]


def colour_indices(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Colour-table indices 0..255, as pyqtgraph's rescaleData computes them for a 256-entry
    table: (value - low) * 256 / (high - low) in float32 (float64 for float64 data), clipped,
    truncated."""
    work = np.float32 if np.can_cast(values.dtype, np.float32) else np.float64
    scaled = np.array(values, dtype=work)  # a copy to work in
    scaled -= low
    scaled *= 256 / (high - low if high != low else 1)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)
