"""Label placement: the fast placement (a grid of filed boxes) places every label exactly where
the plain definition, with Qt's own rectangle tests, places it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QTransform

from explorer.views.label_layer import _SPOTS, LabelLayer, _spot, place_labels


def reference_place(anchors, sizes, gaps, must, bounds, taken=(), avoid=()):  # noqa: ANN001, ANN201
    """place_labels as its docstring says it, one QRectF test after another."""
    placed, result = list(taken), []
    for anchor, (w, h), gap, needed in zip(anchors, sizes, gaps, must, strict=True):
        choice = fallback = over_points = None
        for side, level in _SPOTS:
            corner = _spot(anchor.x(), anchor.y(), w, h, gap, side, level)
            rect = QRectF(*corner, w, h)
            if rect.isEmpty() and (w == 0 or h == 0) or not bounds.contains(rect.normalized()):
                continue
            fallback = fallback or corner
            if not any(rect.normalized().intersects(r.normalized()) for r in placed):
                if not any(rect.normalized().intersects(r.normalized()) for r in avoid):
                    choice = corner
                    break
                over_points = over_points or corner
        choice = choice or over_points
        if choice is None and needed:
            choice = fallback or _spot(anchor.x(), anchor.y(), w, h, gap, "right", -0.5)
        if choice is not None:
            placed.append(QRectF(*choice, w, h))
        result.append(None if choice is None else QRectF(*choice, w, h))
    return result


@pytest.mark.parametrize("seed", range(40))
def test_placement_matches_the_plain_definition(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 80))
    anchors = [QPointF(*rng.uniform(-20, 220, 2)) for _ in range(k)]
    sizes = [(float(rng.choice([30.0, 12.5, 64.0, -5.0])), float(rng.choice([12.0, 8.0])))
             for _ in range(k)]
    gaps = rng.uniform(0, 6, k).tolist()
    must = (rng.random(k) < 0.3).tolist()
    taken = [QRectF(*rng.uniform(0, 200, 2), *rng.uniform(-20, 40, 2)) for _ in range(5)]
    avoid = [QRectF(*rng.uniform(0, 200, 2), *rng.uniform(-5, 10, 2))
             for _ in range(int(rng.integers(0, 200)))]
    bounds = QRectF(0, 0, 200, float(rng.choice([200.0, 90.0])))
    fast = place_labels(anchors, sizes, gaps, must, bounds, taken, avoid)
    plain = reference_place(anchors, sizes, gaps, must, bounds, taken, avoid)
    assert [r and r.getRect() for r in fast] == [r and r.getRect() for r in plain]


def test_a_layer_keeps_its_labels_off_every_marker_and_the_layer_above(qapp):
    rng = np.random.default_rng(7)
    xy = rng.standard_normal((300, 2))
    words = LabelLayer(QFont())
    words.set_labels(xy, [f"w{i}" for i in range(300)], [QColor("black")] * 300,
                     gaps=[6.0] * 300)
    near = LabelLayer(QFont(), above=words, marks_points=False)
    near.set_labels(xy[:40] + 0.05, [f"n{i}" for i in range(40)], [QColor("grey")] * 40)
    transform = QTransform.fromScale(60, -60) * QTransform.fromTranslate(200, 200)
    bounds = QRectF(0, 0, 400, 400)
    shown_words = [r for _, r in words.layout(transform, bounds)]
    shown_near = [r for _, r in near.layout(transform, bounds)]
    centres = [transform.map(QPointF(*p)) for p in xy.tolist()]
    markers = [QRectF(c.x() - 5, c.y() - 5, 10, 10) for c in centres]
    expected = reference_place([transform.map(QPointF(*p)) for p in (xy[:40] + 0.05).tolist()],
                               [near._size(f"n{i}") for i in range(40)], [4.0] * 40,
                               [False] * 40, bounds, shown_words, markers)
    assert shown_near == [r for r in expected if r is not None]
    assert len(shown_words) > 20 and len(shown_near) > 0


def test_labels_on_screen_look_exactly_as_drawn_text(qtbot, monkeypatch):
    """On screen the labels are drawn from texts shaped once; they must be the very pixels
    that drawing each text anew gives (what a vector file gets)."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage

    from explorer.views import label_layer

    plot = pg.PlotWidget(background="w")
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    layer = LabelLayer(plot.font())
    plot.addItem(layer)
    xy = np.random.default_rng(0).random((25, 2))
    layer.set_labels(xy, [f"word{i} ünï" for i in range(25)], [QColor("black")] * 25)
    plot.setRange(xRange=(0, 1), yRange=(0, 1))
    plot.show()
    qtbot.waitExposed(plot)

    def pixels() -> np.ndarray:
        image = plot.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
        return np.frombuffer(image.constBits(), np.uint32).copy()

    shaped_once = pixels()
    assert len(layer.painted) > 10
    monkeypatch.setattr(label_layer, "_ON_SCREEN", ())  # no engine counts as a screen
    layer.update()
    assert (pixels() == shaped_once).all()
