"""Exported SVGs look the same in another renderer as the PNG export of the same view: resvg
(a Rust renderer, not Qt) draws the SVG, and the two pictures are compared cell by cell."""

from __future__ import annotations

import numpy as np
import pytest
import resvg_py
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QImage

from explorer.commands.export_actions import EXPLORER
from explorer.portable_svg import portable_svg

SIZE = (1000, 700)


def _grey(image: QImage) -> np.ndarray:
    """(h, w) grey levels 0..255 of ``image`` on white, as 4x4-pixel block means."""
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    rgba = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
    rgba = rgba[:, :image.width()].astype(np.float64)
    alpha = rgba[..., 3:] / 255
    grey = (rgba[..., :3] * alpha + 255 * (1 - alpha)).mean(axis=-1)  # (h, w)
    h, w = (s // 4 * 4 for s in grey.shape)
    return grey[:h, :w].reshape(h // 4, 4, w // 4, 4).mean(axis=(1, 3))


@pytest.fixture
def figures(open_window, tiny_kv, tmp_path):
    window = open_window(tiny_kv, size=(1400, 900))
    window.apply(n_heads=4, query="it")
    window.controller.flush()
    for suffix in (".svg", ".png"):
        window.exports.write_figure(EXPLORER, str(tmp_path / f"fig{suffix}"), size=SIZE)
    return tmp_path / "fig.svg", tmp_path / "fig.png"


def test_another_renderer_draws_the_svg_as_the_png_shows_it(figures):
    svg, png = figures
    drawn = QImage.fromData(QByteArray(resvg_py.svg_to_bytes(svg_path=str(svg), width=SIZE[0],
                                                             height=SIZE[1])), "PNG")
    expected = QImage(str(png))
    assert (drawn.width(), drawn.height()) == (expected.width(), expected.height()) == SIZE
    difference = np.abs(_grey(drawn) - _grey(expected))
    # Before the rewrite: 37/255 on average, and 24% of the blocks more than 64 apart.
    assert difference.mean() < 6, difference.mean()
    assert (difference > 64).mean() < 0.01


def test_the_rewrite_gives_real_widths_crisp_cells_and_generic_fonts(figures):
    text = figures[0].read_text("utf-8")
    assert "non-scaling-stroke" not in text and 'font-family="Sans Serif"' not in text
    assert "sans-serif" in text and "image-rendering:pixelated" in text
    assert text.startswith('<?xml') and 'mm"' not in text.split("viewBox")[0]


def test_a_cosmetic_line_keeps_its_on_screen_width_in_user_units():
    qt = ('<svg width="25.4mm" height="25.4mm" viewBox="0 0 96 96"><g stroke-width="1">'
          '<g stroke="red" stroke-width="2" transform="matrix(40,0,0,-40,10,10)">'
          '<polyline vector-effect="non-scaling-stroke" points="0,0 1,1"/></g></g></svg>')
    out = portable_svg(qt)
    assert 'stroke-width="0.05"' in out and "vector-effect" not in out  # 2 px / 40
    assert out.startswith('<svg width="96" height="96"')
