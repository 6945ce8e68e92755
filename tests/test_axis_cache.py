"""The latent map's and the focused heatmap's axes, and the map's token points, are kept as
pixmaps on screen (pytest-qt, offscreen): a temperature change does not draw the axes again,
what the screen shows after other changes is what a fresh drawing shows, and figures get real
vector axes, not the pixmaps."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from qt_helpers import settle

from explorer.export import export_widget_svg
from explorer.figures import drawn_afresh


@pytest.fixture
def axis_paints(monkeypatch):
    """Every AxisItem paint, by axis (patched before the window is built: PySide keeps the
    method a Python item was made with)."""
    painted: list[object] = []
    paint = pg.AxisItem.paint

    def counted(self, *args):  # noqa: ANN001, ANN002
        painted.append(self)
        return paint(self, *args)

    monkeypatch.setattr(pg.AxisItem, "paint", counted)
    return painted


def axes(window) -> list[object]:  # noqa: ANN001
    return [plot.getAxis(name) for plot in (window.latent.getPlotItem(),
                                             window.heatmaps.focused.plot)
            for name in ("left", "bottom")]


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1).copy()


def as_shown_and_afresh(view) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """``view`` drawn with its axes' pixmaps (as the screen gets it), and with every cache off."""
    settle()
    shown = pixels(view.grab().toImage())
    with drawn_afresh(view):
        fresh = pixels(view.grab().toImage())
    return shown, fresh


def same_picture(shown: np.ndarray, fresh: np.ndarray, what: str) -> None:
    """Equal but for rounding: an antialiased point edge composited through a transparent
    pixmap can land one level off (anything stale is tens of levels off, over many pixels)."""
    difference = np.abs(shown.astype(int) - fresh.astype(int))
    assert difference.max() <= 1, (what, int(difference.max()), int((difference > 1).sum()))


def test_a_temperature_change_does_not_draw_the_axes_again(open_window, tiny_kv, axis_paints,
                                                          qtbot):
    window = open_window(tiny_kv)
    qtbot.wait(100)
    settle()
    axis_paints.clear()
    window.controls.temperature.setValue(0.5)
    window.controller.flush()
    qtbot.wait(100)
    settle()
    assert window.controller.analysis.settings.temperature == 0.5
    repainted = [a for a in axis_paints if any(a is b for b in axes(window))]
    assert repainted == []


def test_cached_axes_show_what_a_fresh_drawing_shows_after_changes(open_window, tiny_kv, qtbot):
    window = open_window(tiny_kv)
    changes = ({"temperature": 0.5}, {"n_heads": 2}, {"sentence": "the cat sat on the mat"},
               {"query": "cat"})
    for change in changes:
        window.apply(**change)
        window.controller.flush()
        qtbot.wait(50)
        for view in (window.latent, window.heatmaps.canvas):
            shown, fresh = as_shown_and_afresh(view)
            same_picture(shown, fresh, f"{change} {view}")
    window.resize(1000, 700)  # the axes change size
    qtbot.wait(100)
    for view in (window.latent, window.heatmaps.canvas):
        shown, fresh = as_shown_and_afresh(view)
        same_picture(shown, fresh, f"resized {view}")


def test_an_svg_of_the_latent_map_has_its_axes_as_lines_and_text(open_window, tiny_kv,
                                                                  tmp_path):
    window = open_window(tiny_kv)
    settle()  # drawn on screen first: the axes' pixmaps exist
    path = tmp_path / "latent.svg"
    export_widget_svg(window.latent, path)
    svg = path.read_text("utf-8")
    assert "<image" not in svg  # the map has no picture of its own; cached axes would be one
    low, high = window.latent.getPlotItem().vb.viewRange()[0]
    ticks = [value for _, values in window.latent.getPlotItem().getAxis("bottom").tickValues(
        low, high, 300) for value in values]
    assert ticks and any(f">{value:g}<" in svg for value in ticks)
