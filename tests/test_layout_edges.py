"""The window at its edges: many heads, long sentences, whole sentences as tokens, small windows.

Each test opens the real window (conftest's ``open_window``) and reads what is on screen: the
geometry of the maps, the labels drawn, the colours painted.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from core.settings import Settings
from explorer.views.elided_label import ElidedLabel
from explorer.views.lines_view import MIN_LABEL_POINTS, LinesView
from explorer.views.palette import head_colour
from tests.conftest import TINY_WORDS, make_tiny_vectors
from tests.qt_helpers import settle, show_view

LONG_SENTENCE = " ".join(TINY_WORDS[i % 12] for i in range(51))  # 51 words


def flush(window) -> None:  # noqa: ANN001
    window.controller.flush()
    settle()


def click(qtbot, canvas, scene_point: QPointF) -> None:  # noqa: ANN001
    """A real click on the canvas where ``scene_point`` is shown."""
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=canvas.mapFromScene(scene_point))


# ------------------------------------------------------------------------- small maps


def test_a_click_on_a_small_map_only_focuses_its_head(open_window, qtbot):
    window = open_window(make_tiny_vectors())
    flush(window)  # laid out
    grid = window.heatmaps
    before = (window.state.settings.query, window.state.settings.query_index,
              window.state.inspected_col)
    # A cell of head 3's small map far from the query row ("it", row 8) and in column 2.
    click(qtbot, grid.canvas, grid.small_heatmap(2).image.mapToScene(QPointF(2.5, 1.5)))
    flush(window)
    assert window.state.settings.selected_head == 2
    after = (window.state.settings.query, window.state.settings.query_index,
             window.state.inspected_col)
    assert after == before
    # The focused map still picks a query and a key.
    click(qtbot, grid.canvas, grid.focused.image.mapToScene(QPointF(2.5, 1.5)))
    flush(window)
    assert window.state.settings.query == "animal" and window.state.inspected_col == 2


def test_fifty_heads_keep_the_focused_map_large_and_every_head_reachable(open_window, qtbot):
    window = open_window(make_tiny_vectors(dim=64), Settings(n_heads=50), size=(1400, 900))
    grid = window.heatmaps
    flush(window)
    canvas = grid.canvas
    side = grid.focused.plot.vb.height()
    assert side >= 0.45 * canvas.height(), (side, canvas.height())
    assert grid.focused.plot.vb.width() >= 0.45 * canvas.height()
    visible = canvas.mapToScene(canvas.viewport().rect()).boundingRect()
    for head in grid.shown_heads():  # every small map on the page is whole on screen
        assert visible.contains(grid.small_heatmap(head).plot.sceneBoundingRect())
    assert len(grid.shown_heads()) < 50 and grid.pages.isVisible()
    while grid.pages.next.isEnabled():  # the last page shows head 50
        qtbot.mouseClick(grid.pages.next, Qt.MouseButton.LeftButton)
    assert 49 in grid.shown_heads() and grid.small_heatmap(49).plot.isVisible()
    assert visible.contains(grid.small_heatmap(49).plot.sceneBoundingRect())
    window.apply(selected_head=3)  # the page follows the focused head
    flush(window)
    assert 3 in grid.shown_heads() and grid.small_heatmap(3).plot.isVisible()
    assert not grid.small_heatmap(49).plot.isVisible()


def test_four_heads_show_every_small_map_without_pages(open_window):
    window = open_window(make_tiny_vectors())
    assert list(window.heatmaps.shown_heads()) == [0, 1, 2, 3]
    assert not window.heatmaps.pages.isVisible()


# ------------------------------------------------------------------------- labels


@pytest.mark.parametrize("size", [(1200, 800), (1024, 700)])
def test_a_long_sentence_always_labels_the_query_row_and_the_key(open_window, size):
    window = open_window(make_tiny_vectors(), Settings(sentence=LONG_SENTENCE), size=size)
    grid = window.heatmaps
    for position in (1, 25, 49):  # odd rows: every other label was dropped, these among them
        window.apply(query=LONG_SENTENCE.split()[position], query_index=position)
        key = (position + 7) % 51
        window.state.set_inspected_col(key)
        flush(window)
        rows, cols = grid.labelled()
        assert position in rows and key in cols
        assert position in cols  # self-attention: the query is a key as well
        # The others are thinned evenly, none closer than a label's height to the next.
        pitch = grid.focused.plot.vb.height() / 51
        label_px = QFontMetricsF(grid._tick_font).height()
        assert min(np.diff(rows)) * pitch >= label_px
        assert len(rows) >= 51 * pitch / label_px / 2  # thinned, not emptied


def test_sentence_mode_labels_tell_the_query_row_and_every_sentence(open_window):
    window = open_window(make_tiny_vectors(), Settings(mode="sentences"), size=(1400, 900))
    flush(window)
    a = window.controller.analysis
    rows, _ = window.heatmaps.tick_labels()
    assert len(set(rows)) == len(rows) == len(a.row_labels)  # no two rows named alike
    assert "(query)" in rows[a.query_row]
    latent = window.latent
    latent.grab()  # paint: the label layer records what it drew
    painted = [text for text, _ in latent.labels.painted]
    for sentence in a.col_labels:  # every context sentence's dot is named
        assert any(text.startswith(sentence[:8]) for text in painted), (sentence, painted)


def test_lines_labels_stay_legible_and_thin_out(qtbot):
    view = show_view(qtbot, LinesView(), (500, 400))
    words = LONG_SENTENCE.split()
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(51), size=(2, 51))
    view.set_data(words, words, weights, query_row=25)
    view.grab()
    *_, font = view._geometry()
    assert font.pointSizeF() >= MIN_LABEL_POINTS
    shown = view.labelled("q")
    assert 25 in shown and len(shown) < 51
    row_h = view._geometry()[0]
    assert min(np.diff(shown)) * row_h >= QFontMetricsF(font).height()


# ------------------------------------------------------------------------- lines colours


def _closest_tint(colour: QColor, heads: int) -> float:
    """How far (0..1 per channel) ``colour`` is from the nearest mix of white and a head colour."""
    c = np.array(colour.getRgbF()[:3])
    best = 1.0
    for head in range(heads):
        h = np.array(head_colour(head).getRgbF()[:3])
        direction = h - 1.0
        t = np.clip(np.dot(c - 1.0, direction) / np.dot(direction, direction), 0.0, 1.0)
        best = min(best, float(np.abs(1.0 + t * direction - c).max()))
    return best


def test_lines_of_four_heads_keep_their_own_colours_where_they_overlap(qtbot):
    view = show_view(qtbot, LinesView(), (500, 300))
    words = ["the", "cat", "sat", "on", "mat"]
    weights = np.full((4, 5, 5), 0.1)
    weights[:, 2, 2] = 0.6  # every head's strongest line is the same one
    view.set_data(words, words, weights, query_row=2)
    image = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    _, top, x_left, x_right, _ = view._geometry()
    far = []
    for x in range(int(x_left) + 10, int(x_right) - 10, 3):
        for y in range(int(top), image.height() - 8):
            colour = image.pixelColor(x, y)
            if min(colour.redF(), colour.greenF(), colour.blueF()) < 0.85:  # a line, not paper
                far.append(_closest_tint(colour, 4))
    assert far, "no lines painted"
    blended = np.mean(np.array(far) > 0.12)
    assert blended < 0.05, blended  # translucent heads blended into brown: 0.20 of the pixels


# ------------------------------------------------------------------------- latent map zoom


def _big_heads(tmp_path, dim: int = 8, heads: int = 2, scale: float = 60.0) -> str:
    """An .npz whose value projections throw the head mixes far from the words."""
    rng = np.random.default_rng(1)
    path = tmp_path / "big_heads.npz"
    np.savez(path, w_q=rng.standard_normal((dim, heads * 4)),
             w_k=rng.standard_normal((dim, heads * 4)),
             w_v=scale * rng.standard_normal((dim, heads * 4)),
             w_o=rng.standard_normal((heads * 4, dim)))
    return str(path)


def _view_and_points(window) -> tuple[QRectF, QRectF]:  # noqa: ANN001
    """The latent map's view and the bounds of its tokens and head mixes."""
    latent = window.latent
    xs, ys = (np.concatenate([a, b]) for a, b in zip(latent.tokens.getData(),
                                                     latent.head_mixes.getData(), strict=True))
    return latent.getPlotItem().vb.viewRect(), QRectF(xs.min(), ys.min(), np.ptp(xs), np.ptp(ys))


def test_the_latent_map_refits_when_the_points_come_back(open_window, tmp_path):
    window = open_window(make_tiny_vectors(), Settings(n_heads=2))
    window.apply(head_strategy="file", heads_file=_big_heads(tmp_path))
    flush(window)
    wide, _ = _view_and_points(window)
    window.apply(head_strategy="random")
    flush(window)
    view, points = _view_and_points(window)
    assert view.width() < 0.5 * wide.width()
    # The points fill the view again (with its padding), not a corner of it.
    assert points.width() >= 0.5 * view.width() and points.height() >= 0.5 * view.height()


def test_the_latent_map_keeps_a_zoom_the_person_made(open_window, tmp_path, qtbot):
    window = open_window(make_tiny_vectors(), Settings(n_heads=2))
    window.apply(head_strategy="file", heads_file=_big_heads(tmp_path))
    flush(window)
    latent = window.latent
    vb = latent.getPlotItem().vb
    centre = latent.mapFromScene(vb.mapViewToScene(vb.viewRect().center()))
    wheel = QWheelEvent(QPointF(centre), QPointF(latent.mapToGlobal(centre)), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(latent.viewport(), wheel)  # the person zooms in with the wheel
    settle()
    assert latent.zoomed_by_person
    zoomed = QRectF(vb.viewRect())
    window.apply(head_strategy="random")  # the points shrink: the person's view stays
    flush(window)
    assert vb.viewRect() == zoomed
    window.apply(query="cat")  # a new query is a new map: fitted again
    flush(window)
    assert vb.viewRect() != zoomed and not latent.zoomed_by_person


def test_twelve_head_labels_do_not_pile_onto_each_other(open_window):
    window = open_window(make_tiny_vectors(dim=24), Settings(n_heads=12, selected_head=4),
                         size=(1024, 700))
    flush(window)
    latent = window.latent
    latent.grab()
    painted = latent.labels.painted
    texts = [t for t, _ in painted]
    assert {"output", "it", "h5"} <= set(texts)  # the output, the query, the focused head
    for i, (text, rect) in enumerate(painted):
        for other, other_rect in painted[i + 1:]:
            assert not rect.intersects(other_rect), (text, other)


# ------------------------------------------------------------------------- small windows


def test_a_small_window_keeps_the_heatmap_readable_and_the_latent_map_whole(open_window):
    window = open_window(make_tiny_vectors(), size=(1024, 700))
    flush(window)
    side = window.heatmaps.focused.plot.vb.height()
    assert side >= 120, side  # a 74 px thumbnail under a 320 px computation dock
    latent = window.latent
    # The plot fits its widget: a two-column legend had made it wider and cut its right side.
    assert latent.getPlotItem().geometry().width() <= latent.viewport().width() + 1
    # The hint under the heatmaps ends in "…" when it does not fit, never cut mid-word, and
    # says the whole of it on hover.
    hint = window.heatmaps.hover_label
    shown = hint.shown_text()
    assert hint.fontMetrics().horizontalAdvance(shown) <= hint.contentsRect().width()
    if shown != hint.text():
        assert shown.endswith("…") and hint.toolTip() == hint.text()


def test_an_elided_label_follows_its_width_and_text(qtbot):
    # Setting the text it already shows does nothing (the heatmap readout does so at every
    # update); a resize still cuts or restores it, and a new text is cut for the width.
    label = ElidedLabel("weight of new for year: 0.2961")
    qtbot.addWidget(label)
    label.resize(400, 20)
    label.show()
    assert label.shown_text() == label.text() and label.toolTip() == ""
    label.resize(60, 20)
    cut = label.shown_text()
    assert cut.endswith("…") and label.toolTip() == label.text()
    label.setText("weight of new for year: 0.2961")  # the same text again
    assert label.shown_text() == cut and label.toolTip() == label.text()
    label.setText("weight of new for day: 0.1")
    assert label.shown_text().endswith("…") and label.toolTip() == "weight of new for day: 0.1"
    label.resize(400, 20)
    assert label.shown_text() == "weight of new for day: 0.1" and label.toolTip() == ""


def test_sentence_mode_latent_map_is_not_cut_off(open_window):
    window = open_window(make_tiny_vectors(), Settings(mode="sentences"), size=(1400, 900))
    flush(window)
    latent = window.latent
    assert latent.getPlotItem().geometry().width() <= latent.viewport().width() + 1
    latent.grab()
    visible = QRectF(latent.viewport().rect())
    for text, rect in latent.labels.painted:  # every label drawn is whole on screen
        assert visible.contains(rect), text
