"""Every map of the model view in one graphics item: one colour conversion, one paint.

One pyqtgraph ImageItem per map (72 for MiniLM, 144 for bert-base) cost ~20 µs of Python per map
to hand its weights over and ~45 µs to paint (checks, bounding rectangles, a conversion each),
about 5 ms of a 32-token edit. Here the pooled maps of all heads are turned into pixels in one
NumPy pass, with the colour table and the arithmetic of `explorer.views.heatmap_image` (so the
colours are those of every other heatmap), and one paint draws each map's image into its square,
only those the repaint reaches. Images are scaled without smoothing: one cell, one block of
pixels, as the heatmaps draw.
"""

from __future__ import annotations

from typing import Any

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem

from explorer.views.heatmap_image import SCREEN_FORMAT, colour_indices, colour_table
from explorer.views.palette import WEIGHT_COLORMAP
from explorer.views.small_maps import GridGeometry

__all__ = ["MapGrid"]

_LUT = WEIGHT_COLORMAP.getLookupTable(nPts=256)  # what ImageItem.setColorMap would use


class MapGrid(QGraphicsObject):
    """The (L, H) grid of attention maps, weights 0..1 in the weight colour map."""

    def __init__(self) -> None:
        super().__init__()
        # The repaint's exposed rectangle, so a moved outline redraws only the maps under it.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self._geometry = GridGeometry(0, 0)
        self._cells = np.zeros((0, 0, 0, 0), np.float32)
        self._pixels = np.zeros((0, 0, 0, 0), np.uint32)  # the images' memory: kept alive here
        self._images: list[tuple[QRectF, QImage]] = []  # map l * H + h: (its square, its image)

    def set_maps(self, geometry: GridGeometry, cells: np.ndarray) -> None:
        """Show ``cells`` (L, H, m, m), weights in [0, 1], map (l, h) in
        ``geometry.map_rect(l, h)``; NaN cells are left transparent."""
        self.prepareGeometryChange()
        self._geometry, self._cells = geometry, cells
        layers, heads = cells.shape[:2]
        if cells.size == 0:
            self._pixels, self._images = np.zeros((0, 0, 0, 0), np.uint32), []
        else:
            # (L, H, m, m) uint32 ARGB, C-contiguous: each map's (m, m) block is one image.
            with np.errstate(invalid="ignore"):  # NaN cells: any index, made transparent next
                pixels = colour_table(_LUT).take(colour_indices(cells, 0.0, 1.0))
            pixels[np.isnan(cells)] = 0
            self._pixels = pixels
            self._images = [(geometry.map_rect(layer, head), pg.functions.ndarray_to_qimage(
                pixels[layer, head], SCREEN_FORMAT))
                for layer in range(layers) for head in range(heads)]
        self.update()

    def count(self) -> int:
        """How many maps are drawn."""
        return len(self._images)

    def cells(self, layer: int, head: int) -> np.ndarray:
        """The (m, m) weights map (layer, head) shows."""
        return self._cells[layer, head]

    def drawn_rect(self, layer: int, head: int) -> QRectF:
        """Where map (layer, head) is drawn, in the item's (the view's) coordinates."""
        return QRectF(self._images[layer * self._geometry.heads + head][0])

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return self._geometry.bounds()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, *args: Any) -> None:
        exposed = option.exposedRect  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for rect, image in self._images:
            if rect.intersects(exposed):
                painter.drawImage(rect, image)
        painter.restore()
