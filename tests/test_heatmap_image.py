"""A heatmap image draws on screen what pyqtgraph's ImageItem draws, converting fewer cells."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage, QPainter, QPicture
from PySide6.QtWidgets import QApplication

from explorer.views.heatmap_image import HeatmapImage, sampled_cells
from explorer.views.palette import WEIGHT_COLORMAP


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)
    return rows[:, : image.width()].copy()


def _screenshot(qtbot, item_type: type, data: np.ndarray, side: float,  # noqa: ANN001
                offset: float) -> np.ndarray:
    """The pixels of a plot of ``side`` pixels, at a fractional ``offset``, showing ``data``."""
    canvas = pg.GraphicsLayoutWidget()
    qtbot.addWidget(canvas)
    canvas.setBackground("w")
    canvas.setAntialiasing(True)
    canvas.resize(int(side) + 40, int(side) + 40)
    canvas.ci.setContentsMargins(4 + offset, 4 + offset, 4, 4)
    plot = canvas.addPlot()
    for axis in ("left", "bottom"):
        plot.hideAxis(axis)
    plot.setDefaultPadding(0.0)
    plot.invertY(True)
    plot.setFixedWidth(side)
    plot.setFixedHeight(side)
    image = item_type(axisOrder="row-major")
    image.setColorMap(WEIGHT_COLORMAP)
    plot.addItem(image)
    image.setImage(data, autoLevels=False, levels=(0.0, 1.0))
    plot.setRange(xRange=(0, data.shape[1]), yRange=(0, data.shape[0]), padding=0.0)
    canvas.show()
    qtbot.waitExposed(canvas)
    for _ in range(3):
        QApplication.processEvents()
    return _pixels(canvas.grab().toImage())


@pytest.mark.parametrize(("shape", "side", "offset", "dtype"), [
    ((512, 512), 47.3, 3.3, np.float32),  # a small map of a long sentence: one cell in ten
    ((512, 512), 300.7, 0.5, np.float32),  # the focused map of a long sentence
    ((64, 80), 50.2, 1.7, np.float64),
    ((12, 12), 300.0, 0.2, np.float32),  # drawn larger than its cells: every cell converted
])
def test_the_screen_shows_what_pyqtgraph_shows(qtbot, shape, side, offset, dtype):
    data = (np.random.default_rng(1).random(shape) ** 4).astype(dtype)
    data[0, :3] = (0.0, 1.0, 0.5)  # the ends of the colour scale and an exact level step
    ours = _screenshot(qtbot, HeatmapImage, data, side, offset)
    theirs = _screenshot(qtbot, pg.ImageItem, data, side, offset)
    # Qt's fixed-point scaling picks a neighbouring cell for the odd pixel; nothing else differs.
    assert (ours != theirs).mean() < 0.03
    if shape[0] <= side:  # every cell drawn larger than a pixel: the same picture inside the
        # image's outermost pixels, which pyqtgraph's antialiasing blends with the background
        inside = np.zeros_like(ours, dtype=bool)
        drawn = np.argwhere(theirs != theirs[0, 0])  # the white around it is the plot's
        (top, left), (bottom, right) = drawn.min(axis=0), drawn.max(axis=0)
        inside[top + 1:bottom, left + 1:right] = True
        assert min(bottom - top, right - left) >= side - 2  # found the image, not a part
        assert (ours[inside] == theirs[inside]).all()
        rows, cols = np.nonzero(ours != theirs)  # all on the edges, none further out
        on_edge = (np.isin(rows, (top - 1, top, bottom, bottom + 1))
                   | np.isin(cols, (left - 1, left, right, right + 1)))
        assert on_edge.all()


def test_sampled_cells_are_those_under_the_pixel_centres():
    cells, start, length = sampled_cells(10, 0.5, 0.0)  # 10 cells over 5 pixels
    assert cells.tolist() == [1, 3, 5, 7, 9] and (start, length) == (0.0, 10.0)
    cells, start, length = sampled_cells(10, -0.5, 5.0)  # drawn upside down: still item order
    assert cells.tolist() == [1, 3, 5, 7, 9] and (start, length) == (0.0, 10.0)
    cells, start, length = sampled_cells(4, 0.5, 0.3)  # centres 0.5 and 1.5 inside 0.3..2.3
    assert cells.tolist() == [0, 2] and start == pytest.approx(-0.6) and length == pytest.approx(4)


def test_vector_exports_get_every_cell():
    """A picture (like PDF and SVG) is not pixels: pyqtgraph's full conversion is drawn."""
    image = HeatmapImage(axisOrder="row-major")
    image.setColorMap(WEIGHT_COLORMAP)
    image.setImage(np.random.default_rng(0).random((300, 300)), autoLevels=False, levels=(0, 1))
    picture = QPicture()
    painter = QPainter(picture)
    painter.scale(0.1, 0.1)  # 30 x 30 "pixels"
    image.paint(painter)
    painter.end()
    assert image.qimage is not None and image.qimage.size().toTuple() == (300, 300)


def test_nan_cells_take_pyqtgraphs_path(qtbot):
    data = np.random.default_rng(2).random((100, 100))
    data[5, 5] = np.nan
    target = QImage(60, 60, QImage.Format.Format_ARGB32_Premultiplied)
    image = HeatmapImage(axisOrder="row-major")
    image.setColorMap(WEIGHT_COLORMAP)
    image.setImage(data, autoLevels=False, levels=(0, 1))
    painter = QPainter(target)
    painter.scale(0.5, 0.5)
    image.paint(painter)
    painter.end()
    assert image.qimage is not None and image.qimage.size().toTuple() == (100, 100)


HIGH_DPI_CHILD = """
import numpy as np, pyqtgraph as pg
from PySide6.QtWidgets import QApplication
app = QApplication([])
from explorer.views.heatmap_image import HeatmapImage
canvas = pg.GraphicsLayoutWidget()
canvas.resize(200, 200)
plot = canvas.addPlot()
image = HeatmapImage(axisOrder="row-major")
image.setColorMap("viridis")
plot.addItem(image)
image.setImage(np.random.default_rng(0).random((512, 512)), autoLevels=False, levels=(0, 1))
canvas.show()
for _ in range(5):
    app.processEvents()
canvas.grab()
# device pixels across the image: its width on screen, in logical pixels, times the ratio
side = image.mapRectToDevice(image.boundingRect()).width() * canvas.devicePixelRatioF()
print(canvas.devicePixelRatioF(), image._shown[2].width() / side)
"""


def test_a_high_dpi_screen_gets_one_cell_per_device_pixel():
    """At a device-pixel ratio of 2 the sampled image has twice the logical pixels."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2",
               PYQTGRAPH_QT_LIB="PySide6")
    out = subprocess.run([sys.executable, "-c", "import PySide6\n" + HIGH_DPI_CHILD], env=env,
                         capture_output=True, text=True, timeout=60, check=True)
    ratio, per_pixel = map(float, out.stdout.split())
    assert ratio == 2.0 and per_pixel == pytest.approx(1.0, abs=0.02)
