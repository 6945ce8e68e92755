"""The model view, a real widget (offscreen): every head as a small map; clicks and hover out."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from qt_helpers import settle, show_view

from explorer.views.model_view import HOVER_HINT, STALE_HINT, ModelView
from explorer.views.palette import WEIGHT_COLORMAP
from explorer.views.small_maps import MAX_CELLS, SHIFT_LEGEND, max_pool, shift_colour

LABELS = ["the", "animal", "was", "tired", "it"]


def random_attentions(layers: int, heads: int, n: int, seed: int = 0) -> np.ndarray:
    """(L, H, n, n) softmax rows, read-only like the core's results."""
    logits = np.random.default_rng(seed).standard_normal((layers, heads, n, n)) * 2
    weights = np.exp(logits)
    weights = (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)
    weights.flags.writeable = False
    return weights


def shown(qtbot, size=(760, 420)) -> ModelView:  # noqa: ANN001
    return show_view(qtbot, ModelView(), size)


def viewport_point(view: ModelView, scene_point: QPointF) -> QPoint:
    return view.canvas.mapFromScene(scene_point)


def click(qtbot, view: ModelView, scene_point: QPointF) -> None:  # noqa: ANN001
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=viewport_point(view, scene_point))


def test_every_head_is_one_map_placed_by_layer_and_head(qtbot):
    view = shown(qtbot)
    attentions = random_attentions(2, 3, 5)
    view.set_attentions(attentions, LABELS, query_row=4)
    settle()
    assert view.map_count() == 6
    rects = {(layer, head): view.map_scene_rect(layer, head)
             for layer in range(2) for head in range(3)}
    for (layer, head), rect in rects.items():
        np.testing.assert_array_equal(view.cells_for(layer, head), attentions[layer, head])
        drawn = view.maps.mapRectToScene(view.maps.drawn_rect(layer, head))
        assert drawn == rect  # the map is drawn in its square
        assert rect.width() == pytest.approx(rect.height())  # square maps
        assert rect.width() > 40
        if head:  # heads left to right in a row, layers top to bottom in a column
            left = rects[layer, head - 1]
            assert rect.left() > left.right() and rect.top() == pytest.approx(left.top())
        if layer:
            above = rects[layer - 1, head]
            assert rect.top() > above.bottom() and rect.left() == pytest.approx(above.left())
    assert view.vb.sceneBoundingRect().contains(rects[1, 2])  # the whole grid fits
    left_ticks = [name for _, name in view.plot.getAxis("left")._tickLevels[0]]
    top_ticks = [name for _, name in view.plot.getAxis("top")._tickLevels[0]]
    assert (left_ticks, top_ticks) == (["L1", "L2"], ["H1", "H2", "H3"])

    view.set_attentions(random_attentions(1, 2, 5), LABELS, 0)  # a smaller model: spare maps hide
    assert view.map_count() == 2
    view.set_attentions(np.zeros((1, 2, 0, 0), np.float32), [], 0)  # no tokens: no maps
    assert view.map_count() == 0
    view.grab()
    with pytest.raises(ValueError, match="L, H, n, n"):
        view.set_attentions(np.zeros((2, 5, 5)), LABELS, 0)


def test_clicking_a_map_emits_its_layer_and_head(qtbot):
    view = shown(qtbot)
    view.set_attentions(random_attentions(2, 3, 5), LABELS, query_row=4)
    settle()
    for layer, head in [(1, 2), (0, 1), (1, 0)]:
        with qtbot.waitSignal(view.head_clicked, timeout=1000) as blocker:
            click(qtbot, view, view.map_scene_rect(layer, head).center())
        assert blocker.args == [layer, head]

    emitted: list[tuple[int, int]] = []
    view.head_clicked.connect(lambda layer, head: emitted.append((layer, head)))
    gap = (view.map_scene_rect(0, 0).right() + view.map_scene_rect(0, 1).left()) / 2
    click(qtbot, view, QPointF(gap, view.map_scene_rect(0, 0).center().y()))
    view.set_selection(1, 1)  # updates never emit
    assert emitted == []


def test_selection_outlines_one_map_or_the_whole_layer(qtbot):
    view = shown(qtbot)
    view.set_selection(1, 2)  # before any data: kept and shown when the data comes
    assert not view.outline.isVisible()
    view.set_attentions(random_attentions(2, 3, 5), LABELS, query_row=0)
    geometry = view.geometry_of_maps
    outline = view.outline.rect()
    assert view.outline.isVisible()
    assert outline.contains(geometry.map_rect(1, 2))
    for layer in range(2):
        for head in range(3):
            if (layer, head) != (1, 2):
                assert not outline.intersects(geometry.map_rect(layer, head))

    view.set_selection(0, None)  # the layer's mean: the whole first row
    outline = view.outline.rect()
    assert all(outline.contains(geometry.map_rect(0, head)) for head in range(3))
    assert not any(outline.intersects(geometry.map_rect(1, head)) for head in range(3))

    view.set_selection(5, 0)  # not in this model
    assert not view.outline.isVisible()


def test_hover_reads_the_query_rows_strongest_key_and_the_key_under_the_mouse(qtbot):
    view = shown(qtbot)
    attentions = np.full((2, 3, 5, 5), 0.1, np.float32)
    attentions[1, 2, 4] = [0.05, 0.678, 0.1, 0.021, 0.151]  # "it" -> "animal" in layer 2, head 3
    view.set_attentions(attentions, LABELS, query_row=4)
    settle()
    assert view.readout.text() == HOVER_HINT
    rect = view.map_scene_rect(1, 2)
    key_3 = QPointF(rect.left() + rect.width() * 3.5 / 5, rect.top() + rect.height() * 0.2)
    qtbot.wait(20)  # pyqtgraph drops moves less than 10 ms apart (its mouseRateLimit)
    qtbot.mouseMove(view.canvas.viewport(), viewport_point(view, key_3))
    qtbot.waitUntil(lambda: view.readout.text() != HOVER_HINT, timeout=1000)
    assert view.readout.text() == (
        "layer 2 head 3: it -> animal 0.678; under the mouse: it -> tired 0.021")

    view.set_ablated([(1, 2)])
    assert view.readout.text().endswith("0.021 (ablated)")
    view.set_shift(np.full((2, 3), 0.25))
    assert view.readout.text().endswith("0.021; shift 0.25 (ablated)")
    view.set_stale("updating…")
    assert view.readout.text().endswith("(ablated) (not current)")
    qtbot.wait(20)  # pyqtgraph drops moves less than 10 ms apart (its mouseRateLimit)
    qtbot.mouseMove(view.canvas.viewport(), QPoint(2, 2))  # off the maps
    qtbot.waitUntil(lambda: view.readout.text() == STALE_HINT, timeout=1000)  # not "point at"
    view.set_stale(None)
    assert view.readout.text() == f"{HOVER_HINT} {SHIFT_LEGEND}"  # what the corners say
    view.set_shift(None)
    assert view.readout.text() == HOVER_HINT


def test_ablated_heads_are_greyed_and_crossed_out(qtbot):
    view = shown(qtbot)
    view.set_attentions(random_attentions(2, 3, 5), LABELS, query_row=0)
    view.set_ablated([(0, 1), (1, 2), (7, 7)])  # (7, 7) is not in this model
    assert view.ablated_heads() == {(0, 1), (1, 2)}
    path, geometry = view.ablation_marks.path(), view.geometry_of_maps
    for layer in range(2):
        for head in range(3):
            centre = geometry.map_rect(layer, head).center()
            assert path.contains(centre) == ((layer, head) in {(0, 1), (1, 2)})
    assert path.elementCount() == 2 * (5 + 4)  # each: a closed square and two diagonals
    view.set_ablated([])
    assert view.ablation_marks.path().isEmpty()


def test_stale_overlay_shows_its_message_over_the_grid_and_hides(qtbot):
    view = shown(qtbot)
    view.set_attentions(random_attentions(2, 3, 5), LABELS, query_row=0)
    assert view.stale_message() is None and not view.overlay.isVisible()
    view.set_stale("updating…")
    assert view.overlay.isVisible() and view.stale_message() == "updating…"
    assert view.overlay.geometry() == view.canvas.rect()  # greys all of the grid
    view.set_stale("no result: the text is empty")
    assert view.overlay.text() == "no result: the text is empty"
    view.resize(600, 380)
    settle()
    assert view.overlay.geometry() == view.canvas.rect()
    with qtbot.waitSignal(view.head_clicked, timeout=1000) as blocker:  # the grid stays usable
        click(qtbot, view, view.map_scene_rect(1, 0).center())
    assert blocker.args == [1, 0]
    view.set_stale(None)
    assert not view.overlay.isVisible() and view.stale_message() is None


def test_shift_badges_show_each_heads_shift_and_hide(qtbot):
    view = shown(qtbot)
    view.set_attentions(random_attentions(2, 3, 5), LABELS, query_row=0)
    shift = np.array([[0.0, 0.42, 1.0], [0.05, 0.5, 0.999]])
    view.set_shift(shift)
    assert view.badges.isVisible()
    assert [view.badges.text(1, h) for h in range(3)] == ["0.05", "0.5", "1"]
    assert view.badges.text(0, 1) == "0.42"
    view.grab()  # paints without error
    view.set_shift(None)
    assert not view.badges.isVisible() and view.badges.text(0, 1) is None


def test_query_row_is_marked_in_every_map(qtbot):
    view = shown(qtbot)
    view.set_attentions(random_attentions(2, 3, 5), LABELS, query_row=3)
    geometry, path = view.geometry_of_maps, view.query_marks.path()
    for layer in range(2):
        for head in range(3):
            rect = geometry.map_rect(layer, head)
            assert path.contains(QPointF(rect.center().x(), rect.top() + 3.5 / 5))
            assert not path.contains(QPointF(rect.center().x(), rect.top() + 1.5 / 5))


def test_the_screen_shows_the_weights_in_the_shared_colour_map(qtbot):
    view = shown(qtbot)
    attentions = np.zeros((1, 2, 4, 4), np.float32)
    attentions[0, 0, 0, 3] = attentions[0, 0, 1:, 0] = 1.0  # query 0 -> key 3, the rest -> key 0
    attentions[0, 1] = 0.25  # rows sum to 1
    view.set_attentions(attentions, LABELS[:4], query_row=0)
    settle()
    image = view.canvas.grab().toImage()

    def shows(head: int, row: int, col: int, weight: float) -> bool:
        """Whether cell (query row, key col) of a map is on screen in the weight's colour."""
        rect = view.map_scene_rect(0, head)
        point = viewport_point(view, QPointF(rect.left() + (col + 0.5) * rect.width() / 4,
                                             rect.top() + (row + 0.5) * rect.height() / 4))
        expected, got = WEIGHT_COLORMAP.map(weight, mode="qcolor"), QColor(image.pixel(point))
        return max(abs(got.red() - expected.red()), abs(got.green() - expected.green()),
                   abs(got.blue() - expected.blue())) <= 3

    # Queries down, keys across, query 0 at the top (not flipped, not transposed).
    assert shows(0, 0, 3, 1.0) and shows(0, 1, 0, 1.0) and shows(0, 3, 0, 1.0)
    assert shows(0, 0, 0, 0.0) and shows(0, 3, 3, 0.0) and shows(0, 2, 1, 0.0)
    assert shows(1, 3, 2, 0.25) and shows(1, 1, 1, 0.25)


def test_bert_base_sized_input_makes_144_maps(qtbot):
    view = shown(qtbot, (900, 760))
    attentions = random_attentions(12, 12, 64, seed=3)
    view.set_attentions(attentions, [f"t{i}" for i in range(64)], query_row=10)
    view.set_selection(11, 11)
    settle()
    assert view.map_count() == 144
    assert view.cells_for(11, 11).shape == (32, 32)  # 2 x 2 tokens per cell
    np.testing.assert_array_equal(view.cells_for(5, 7), max_pool(attentions)[5, 7])
    assert view.vb.sceneBoundingRect().contains(view.map_scene_rect(11, 11))
    with qtbot.waitSignal(view.head_clicked, timeout=1000) as blocker:
        click(qtbot, view, view.map_scene_rect(11, 11).center())
    assert blocker.args == [11, 11]
    with qtbot.waitSignal(view.head_clicked, timeout=1000) as blocker:
        click(qtbot, view, view.map_scene_rect(6, 0).center())
    assert blocker.args == [6, 0]
    assert not view.grab().isNull()


def test_max_pool_keeps_each_blocks_strongest_weight():
    rng = np.random.default_rng(5)
    for n in (48, 49, 128, 512):
        weights = rng.random((2, 3, n, n), dtype=np.float32)
        pooled = max_pool(weights)
        k = -(-n // MAX_CELLS)
        m = -(-n // k)
        assert pooled.shape == ((2, 3, n, n) if n <= MAX_CELLS else (2, 3, m, m))
        assert pooled.shape[-1] <= MAX_CELLS
        for i, j in [(0, 0), (m - 1, m - 1), (m // 2, 1)]:
            block = weights[1, 2, i * k:(i + 1) * k, j * k:(j + 1) * k]
            assert pooled[1, 2, i, j] == block.max()
    previous_token = np.eye(512, k=-1, dtype=np.float32)  # a one-cell line survives pooling
    pooled = max_pool(previous_token[None, None])[0, 0]
    assert pooled.shape == (47, 47) and np.all(np.diagonal(pooled)[1:] == 1)


def test_pooled_maps_are_made_once_per_result_whichever_thread_asks_first():
    """The background job pools a long text's maps; the view asking for the same array gets
    those, and a new result (even with equal numbers) is pooled anew."""
    import threading

    from explorer.views.small_maps import pooled_maps

    rng = np.random.default_rng(5)
    first = rng.random((2, 3, 130, 130)).astype(np.float32)
    first.flags.writeable = False
    made: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: made.append(pooled_maps(first)))
    worker.start()
    worker.join()
    assert pooled_maps(first) is made[0]
    np.testing.assert_array_equal(made[0], max_pool(first))
    again = first.copy()
    assert pooled_maps(again) is not made[0]
    np.testing.assert_array_equal(pooled_maps(again), made[0])


def test_small_shifts_read_in_significant_digits_and_differ_in_colour(qtbot):
    """One ablation moves most later heads by 0.001 to 0.01: neither "0.00" in the hover line
    nor one pale colour for all of them."""
    view = shown(qtbot)
    view.set_attentions(random_attentions(2, 3, 5), LABELS, query_row=0)
    view.set_shift(np.array([[0.0, 0.00123, 0.0087], [0.00004, 0.05, 0.3]]))
    assert [view.badges.text(0, h) for h in range(3)] == ["0", "0.0012", "0.0087"]
    assert view.badges.text(1, 0) == "<1e-4"
    rect = view.map_scene_rect(0, 1)
    qtbot.wait(20)  # pyqtgraph drops moves less than 10 ms apart (its mouseRateLimit)
    qtbot.mouseMove(view.canvas.viewport(), viewport_point(view, rect.center()))
    qtbot.waitUntil(lambda: "shift" in view.readout.text(), timeout=1000)
    assert view.readout.text().endswith("; shift 0.00123")
    lightness = [shift_colour(v).lightnessF() for v in (0.0, 0.001, 0.01, 0.1, 1.0)]
    assert lightness == sorted(lightness, reverse=True)  # darker with every tenfold shift
    assert lightness[1] - lightness[2] > 0.1  # 0.001 and 0.01 are told apart at a glance
    assert view.readout.toolTip() == SHIFT_LEGEND or SHIFT_LEGEND in view.readout.toolTip()


def test_a_long_overlay_message_is_set_smaller_to_fit(qtbot):
    view = shown(qtbot)
    view.set_attentions(random_attentions(2, 3, 5), LABELS, query_row=0)
    view.set_stale("updating…")
    big = view.overlay.styleSheet()
    view.set_stale("sentence mode: each sentence is one embedding, so there are no layers and "
                   "heads to show")
    assert view.overlay.styleSheet() != big and "11pt" in view.overlay.styleSheet()
    assert view.readout.text() == STALE_HINT
