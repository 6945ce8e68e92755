"""Axes kept as pixmaps on screen, so that the plot changing beside them does not redraw them.

A plot's axes overlap its view box by a pixel or more (their rectangles are fractional, and
pyqtgraph's reach into the view for ticks), so every change inside the view -- new weights on a
heatmap, lines moving on the latent map -- made Qt repaint the axes beside it too: four axes per
temperature change, each replaying its QPicture (every tick label shaped again), ~0.8 ms of a
12-word update on the slower VM. With Qt's device-coordinate cache an exposed axis is copied
from a pixmap; pyqtgraph calls ``update()`` whenever an axis's ticks, range, pens or font change,
and Qt renders the pixmap again when it does or when the axis's size changes.

A figure must not get those pixmaps: an SVG or PDF would hold the axes as pictures and a 2x PNG
blurry ones. ``explorer.figures`` draws every figure with the caches off (``drawn_afresh``).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

__all__ = ["cache_axes"]


def cache_axes(plot: pg.PlotItem, names: tuple[str, ...] = ("left", "bottom")) -> None:
    """Keep ``plot``'s axes ``names`` as pixmaps on screen (see the module docstring)."""
    for name in names:
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
