"""View tests with real widgets (offscreen): data in through set_*, signals out through clicks."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QScrollArea, QSplitter, QWidget
from qt_helpers import click_chip

from core.vectors.tokens import Token
from explorer.views.heatmap_layout import plan_layout
from explorer.views.heatmaps_view import HeatmapGrid
from explorer.views.label_layer import place_labels
from explorer.views.latent_view import LatentMap
from explorer.views.lines_view import LinesView
from explorer.views.palette import (
    HEAD_COLOURS,
    WEIGHT_COLORMAP,
    colour_at,
    head_colour,
    lut_index,
    lut_indices,
    text_colour_at,
    text_colour_on,
    weight_colour,
)
from explorer.views.tokens_view import TokenStrip

# "the" repeats: views must work by position, never by label.
LABELS = ["the", "cat", "sat", "on", "the"]
OUTSIDE_QUERY = "it"


def softmax_weights(heads: int, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """Random (heads, rows, cols) attention weights whose rows sum to 1."""
    logits = np.random.default_rng(seed).standard_normal((heads, rows, cols)) * 2
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def show(qtbot, widget, size=(600, 420)):  # noqa: ANN001, ANN201
    """Add, size, show and lay out a widget so clicks land where the items are drawn."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def make_tokens() -> list[Token]:
    """The LABELS sentence plus a skipped "!" in the middle and a zero-vector word."""
    texts = ["the", "cat", "!", "sat", "on", "the"]
    sources = ["vocab", "vocab", "skipped", "zero", "vocab", "vocab"]
    tokens, start = [], 0
    for text, source in zip(texts, sources, strict=True):
        reason = "" if source == "vocab" else f"{text}: not in the vocabulary"
        key = None if source != "vocab" else text
        tokens.append(Token(text, start, start + len(text), key, source, reason))
        start += len(text) + 1
    return tokens


# ---------------------------------------------------------------------------- palette


def test_palette_colours():
    assert len(HEAD_COLOURS) >= 12
    assert len({c.name() for c in HEAD_COLOURS}) == len(HEAD_COLOURS)
    assert head_colour(0) == head_colour(len(HEAD_COLOURS))  # cycles
    assert weight_colour(0.0) == WEIGHT_COLORMAP.map(0.0, mode="qcolor")
    assert weight_colour(0.0) != weight_colour(1.0)
    assert text_colour_on(0.0) == QColor("white")  # dark purple end of viridis
    assert text_colour_on(1.0) == QColor("black")  # light yellow end


def test_palette_indexes_many_weights_as_one_at_a_time():
    steps = np.arange(256) / 255
    weights = np.concatenate([steps, steps + 0.5 / 255, [np.nan, np.inf, -np.inf, -1.0, 2.0],
                              np.random.default_rng(0).random(1000)])
    assert lut_indices(weights).tolist() == [lut_index(w) for w in weights]
    # The chips' shared colours by index are those of the weights themselves.
    for w, i in zip(weights.tolist(), lut_indices(weights).tolist(), strict=True):
        assert colour_at(i) == weight_colour(w) and text_colour_at(i) == text_colour_on(w)


# ---------------------------------------------------------------------------- token strip


def test_token_strip_shading_marks_and_click(qtbot):
    strip = show(qtbot, TokenStrip(), (500, 120))
    tokens = make_tokens()
    strip.set_tokens(tokens)
    assert len(strip.chips) == 6 and len(strip.used_chips) == 5
    skipped = strip.chips[2]
    assert skipped.font.strikeOut() and skipped.toolTip() == tokens[2].reason
    assert strip.chips[3].font.italic()  # the zero-vector word is marked too

    weights = np.array([0.05, 0.6, 0.1, 0.05, 0.2])
    strip.set_weights(weights, query_position=1)
    backgrounds = [chip.background for chip in strip.used_chips]
    assert backgrounds[1] != backgrounds[0] and backgrounds[0] == backgrounds[3]
    assert strip.used_chips[1].toolTip().startswith("weight 0.600")
    assert [chip.outlined for chip in strip.used_chips] == [False, True, False, False, False]

    # The second "the" (used position 4, sentence position 5) reports its own position.
    with qtbot.waitSignal(strip.token_clicked, timeout=1000) as blocker:
        click_chip(qtbot, strip, strip.used_chips[4])
    assert blocker.args == [4]
    with qtbot.assertNotEmitted(strip.token_clicked):
        click_chip(qtbot, strip, skipped)
        qtbot.mouseClick(strip, Qt.MouseButton.LeftButton,  # between two chips: no token
                         pos=strip.chips[0].rect.topRight() + QPoint(2, 2))

    strip.set_weights(weights * 0.5, query_position=2)  # new colours and a new outline
    assert [chip.background for chip in strip.used_chips] == [
        weight_colour(w) for w in weights * 0.5]
    assert [chip.outlined for chip in strip.used_chips] == [False, False, True, False, False]
    assert strip.used_chips[1].toolTip().startswith("weight 0.300")

    strip.set_weights(None, None)
    assert len({chip.background.name() for chip in strip.used_chips}) == 1


# ---------------------------------------------------------------------------- lines view


def test_lines_view_opacity_follows_weights_and_click(qtbot):
    view = show(qtbot, LinesView())
    weights = softmax_weights(3, 5, 5)
    view.set_data(LABELS, LABELS, weights, query_row=4)
    alphas = view.line_alphas()
    assert alphas.shape == (3, 5, 5)
    # The query row is drawn at full strength, its lines ordered exactly like its weights.
    np.testing.assert_allclose(alphas[:, 4], weights[:, 4])
    assert (alphas[:, 0] < alphas[:, 4].max()).all()
    view.set_selected_head(1)
    alphas = view.line_alphas()
    assert alphas[0].max() == 0 and alphas[2].max() == 0
    assert np.array_equal(np.argsort(alphas[1, 4]), np.argsort(weights[1, 4]))

    with qtbot.waitSignal(view.token_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton,
                         pos=view.label_rect("q", 4).center().toPoint())
    assert blocker.args == [4]
    with qtbot.assertNotEmitted(view.token_clicked):  # a key on the right is not a query
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton,
                         pos=view.label_rect("k", 2).center().toPoint())


def test_lines_view_hover_and_outside_query(qtbot):
    view = show(qtbot, LinesView())
    weights = softmax_weights(3, 6, 5)
    view.set_data([OUTSIDE_QUERY, *LABELS], LABELS, weights, query_row=0)
    view.grab()  # paints once with r = n + 1
    qtbot.mouseMove(view, view.label_rect("k", 2).center().toPoint())
    alphas = view.line_alphas()
    assert alphas[:, :, [0, 1, 3, 4]].max() == 0  # only lines into key 2
    np.testing.assert_allclose(alphas[:, :, 2], weights[:, :, 2])


# ---------------------------------------------------------------------------- heatmaps


def click_scene_point(qtbot, graphics_view, scene_point: QPointF) -> None:  # noqa: ANN001
    """A real mouse click on the viewport where ``scene_point`` is shown."""
    pos: QPoint = graphics_view.mapFromScene(scene_point)
    qtbot.mouseClick(graphics_view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


@pytest.mark.parametrize("outside", [False, True])
def test_heatmaps_show_weights_ticks_and_mean(qtbot, outside):
    grid = show(qtbot, HeatmapGrid(), (700, 450))
    rows = [OUTSIDE_QUERY, *LABELS] if outside else LABELS
    weights = softmax_weights(3, len(rows), 5)
    grid.set_data(rows, LABELS, weights, query_row=0, inspected_col=2)
    qtbot.wait(10)
    for head in range(3):
        np.testing.assert_allclose(grid.image_for(head).image, weights[head], rtol=1e-6)
    np.testing.assert_allclose(grid.image_for(None).image, weights.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(grid.focused.image.image, weights.mean(axis=0), rtol=1e-6)
    assert grid.tick_labels() == (rows, LABELS)
    assert grid.focused.plot.titleLabel.text == "mean of heads"
    assert grid.focused.image.levels is not None and list(grid.focused.image.levels) == [0, 1]
    weights[:] = 0  # the view keeps its own copy
    assert grid.image_for(0).image.max() > 0

    grid.set_selected_head(1)
    assert grid.focused.plot.titleLabel.text == "head 2"
    assert np.allclose(grid.focused.image.image, grid.image_for(1).image)


def test_heatmaps_name_new_words_and_make_room_for_longer_ones(qtbot):
    grid = show(qtbot, HeatmapGrid(), (700, 450))
    weights = softmax_weights(3, 5, 5)
    grid.set_data(LABELS, LABELS, weights, query_row=0)
    qtbot.wait(10)
    left = grid.focused.plot.getAxis("left")
    width = left.width()
    typed = [*LABELS[:-1], "cat"]  # another word typed, no wider than the others: same room
    grid.set_data(typed, typed, weights, query_row=0)
    qtbot.wait(10)  # the layout pass
    assert grid.tick_labels() == (typed, typed)
    assert left.width() == width
    long = [*LABELS[:-1], "enormously"]  # a long word: the row names need more room
    grid.set_data(long, long, weights, query_row=0)
    qtbot.wait(10)
    assert grid.tick_labels() == (long, long)
    assert left.width() > width
    assert grid.image_for(2).image.shape == (5, 5)


def test_heatmap_clicks_emit_cell_and_head(qtbot):
    grid = show(qtbot, HeatmapGrid(), (700, 450))
    weights = softmax_weights(3, 5, 5)
    grid.set_data(LABELS, LABELS, weights, query_row=1)
    qtbot.wait(20)
    centre = grid.focused.image.mapToScene(QPointF(3.5, 4.5))  # col 3, row 4 (the second "the")
    with qtbot.waitSignal(grid.cell_clicked, timeout=1000) as blocker:
        click_scene_point(qtbot, grid.canvas, centre)
    assert blocker.args == [4, 3]

    small = grid.small_heatmap(2).image.mapToScene(QPointF(0.5, 1.5))
    emitted: list[tuple] = []
    grid.head_selected.connect(lambda head: emitted.append(("head", head)))
    grid.cell_clicked.connect(lambda row, col: emitted.append(("cell", row, col)))
    click_scene_point(qtbot, grid.canvas, small)
    assert emitted == [("head", 2)]  # a small map only focuses its head

    mean = grid.small_heatmap(None).image.mapToScene(QPointF(0.5, 0.5))
    with qtbot.waitSignal(grid.head_selected, timeout=1000) as blocker:
        click_scene_point(qtbot, grid.canvas, mean)
    assert blocker.args == [None]

    grid._on_mouse_moved(centre)  # hover text names head, words and weight
    expected = f"mean of heads: the → on  {weights.mean(axis=0)[4, 3]:.4f}"
    assert grid.hover_label.text() == expected


def test_heatmap_head_count_changes_reuse_items(qtbot):
    grid = show(qtbot, HeatmapGrid(), (700, 450))
    scene = grid.canvas.scene()
    for heads in (3, 8, 2, 4):
        grid.set_data(LABELS, LABELS, softmax_weights(heads, 5, 5), query_row=0)
        qtbot.wait(1)
        shown = [h for h in range(8) if h < heads]
        assert all(grid.small_heatmap(h).plot.isVisible() for h in shown)
    assert not grid.small_heatmap(5).plot.isVisible()  # built for 8 heads, hidden for 4
    count = len(scene.items())
    for i in range(20):
        grid.set_data(LABELS, LABELS, softmax_weights(4, 5, 5, seed=i), query_row=i % 5,
                      inspected_col=i % 5)
    qtbot.wait(1)
    assert len(scene.items()) == count


# ---------------------------------------------------------------------------- latent map


def latent_args(seed: int = 0, heads: int = 3, weights: np.ndarray | None = None) -> dict:
    rng = np.random.default_rng(seed)
    token_xy = rng.standard_normal((5, 2))
    mixes = rng.standard_normal((heads, 2)) * 0.3
    return dict(
        token_xy=token_xy, token_labels=LABELS, query_xy=np.array([0.1, 0.2]),
        query_label=OUTSIDE_QUERY,
        query_weights=softmax_weights(1, 1, 5)[0, 0] if weights is None else weights,
        head_mix_xy=mixes, output_xy=mixes.mean(axis=0),
        neighbours=[("dog", 1.0, 1.0, "query"), ("mat", -1.0, 0.5, "output")],
        axis_labels=("PC 1", "PC 2"), selected_head=None,
    )


def test_latent_map_points_labels_lines(qtbot):
    view = show(qtbot, LatentMap())
    args = latent_args()
    view.set_data(**args)
    x, y = view.tokens.getData()
    np.testing.assert_allclose(np.c_[x, y], args["token_xy"])
    assert view.labels.texts == [*LABELS, OUTSIDE_QUERY, "h1", "h2", "h3", "output"]
    assert view.neighbour_labels.texts == ["dog", "mat"]
    assert view.getPlotItem().getAxis("bottom").labelText == "PC 1"
    weights = args["query_weights"]
    widths = [view.lines.pen_for(i).widthF() for i in range(5)]
    alphas = [view.lines.pen_for(i).color().alphaF() for i in range(5)]
    assert np.array_equal(np.argsort(widths), np.argsort(weights))
    assert np.array_equal(np.argsort(alphas), np.argsort(weights))


def test_latent_map_head_mixes_reuse_their_markers(qtbot):
    """Markers are rendered once per brush object: new brushes per update piled up renders."""
    view = show(qtbot, LatentMap())
    for seed in range(6):  # mixes move, as when the temperature changes
        view.set_data(**latent_args(seed=seed))
        view.grab()
        if seed == 0:
            rendered = len(view.head_mixes.fragmentAtlas)
    assert len(view.head_mixes.fragmentAtlas) == rendered
    brushes = view.head_mixes.data["brush"]
    assert [b.color().name() for b in brushes] == [head_colour(i).name() for i in range(3)]


def test_latent_map_axes_show_plain_numbers_for_small_coordinates(qtbot):
    view = show(qtbot, LatentMap())
    args = latent_args()
    for key in ("token_xy", "query_xy", "head_mix_xy", "output_xy"):
        args[key] = args[key] * 1e-3  # toy vectors a few thousandths apart
    args["neighbours"] = []
    view.set_data(**args)
    qtbot.wait(1)
    for name in ("bottom", "left"):
        axis = view.getPlotItem().getAxis(name)
        assert "x0.001" not in axis.labelString() and "(m" not in axis.labelString()


def test_crowded_latent_map_labels_the_most_attended_words(qtbot):
    from explorer.views.label_layer import MAX_OPTIONAL

    view = show(qtbot, LatentMap(), (500, 500))
    n = 400
    rng = np.random.default_rng(3)
    weights = rng.dirichlet(np.ones(n))
    weights[123] = 0.5  # one word gets much of the attention
    weights /= weights.sum()
    labels = [f"w{i}" for i in range(n)]
    view.set_data(token_xy=rng.standard_normal((n, 2)), token_labels=labels,
                  query_xy=np.zeros(2), query_label="query", query_weights=weights,
                  head_mix_xy=np.zeros((2, 2)), output_xy=np.zeros(2), neighbours=[],
                  axis_labels=("x", "y"), selected_head=None)
    view.grab()  # paint: the labels are placed for the view
    drawn = [text for text, _ in view.labels.painted]
    assert "w123" in drawn and "query" in drawn and "output" in drawn
    assert len([t for t in drawn if t.startswith("w")]) <= MAX_OPTIONAL


def test_latent_map_ranges_only_when_points_change(qtbot):
    view = show(qtbot, LatentMap())
    view.set_data(**latent_args())
    vb = view.getPlotItem().vb
    vb.setRange(xRange=(-5, 5), yRange=(-5, 5), padding=0)  # the person zoomed out
    view.set_data(**latent_args(weights=np.full(5, 0.2)))  # only weights changed: keep the view
    assert vb.viewRange()[0] == pytest.approx([-5, 5])
    view.set_data(**latent_args(seed=1))  # new points: fit them
    assert vb.viewRange()[0] != pytest.approx([-5, 5])


def test_latent_map_keeps_its_axes_while_a_new_map_fills_them(qtbot):
    """Each key typed makes a new map; while its points fit the view well, the axes hold still."""
    view = show(qtbot, LatentMap())
    args = latent_args()
    view.set_data(**args)
    vb = view.getPlotItem().vb
    fitted = [*vb.viewRange()[0], *vb.viewRange()[1]]

    def typed(scale: float) -> dict:
        new = latent_args()
        new["token_xy"] = args["token_xy"] * scale
        new["token_labels"] = [*LABELS[:-1], "another"]  # another sentence
        return new

    view.set_data(**typed(0.95))  # nearly the same map
    assert [*vb.viewRange()[0], *vb.viewRange()[1]] == pytest.approx(fitted)
    view.set_data(**typed(3.0))  # points beyond the view: fitted to them
    wide = vb.viewRect()
    assert wide.width() > 2 * (fitted[1] - fitted[0])
    assert all(wide.contains(QPointF(*xy)) for xy in args["token_xy"] * 3.0)
    view.set_data(**typed(0.3))  # a small cluster in a wide view: fitted again, not kept
    assert vb.viewRect().width() < 0.5 * wide.width()
    vb.setRange(xRange=(-50, 50), yRange=(-50, 50), padding=0)  # zoomed out, then "A":
    view._on_fit_requested()  # the button fits exactly, whatever the view held
    assert vb.viewRect().width() < 10


def test_latent_map_click_and_updates(qtbot):
    view = show(qtbot, LatentMap())
    args = latent_args()
    view.set_data(**args)
    qtbot.wait(20)
    target = view.tokens.mapToScene(QPointF(*args["token_xy"][4]))  # the second "the"
    with qtbot.waitSignal(view.point_clicked, timeout=1000) as blocker:
        click_scene_point(qtbot, view, target)
    assert blocker.args == [4]

    scene = view.scene()
    view.set_data(**latent_args(heads=5))
    count = len(scene.items())
    for i in range(20):
        view.set_data(**{**latent_args(heads=5), "selected_head": i % 5})
    assert len(scene.items()) == count


def test_selected_head_set_before_data_is_kept(qtbot):
    grid = show(qtbot, HeatmapGrid(), (700, 450))
    lines = show(qtbot, LinesView())
    grid.set_selected_head(2)
    lines.set_selected_head(2)
    weights = softmax_weights(3, 5, 5)
    grid.set_data(LABELS, LABELS, weights, query_row=0)
    lines.set_data(LABELS, LABELS, weights, query_row=0)
    assert grid.focused.plot.titleLabel.text == "head 3"
    assert lines.line_alphas()[:2].max() == 0
    grid.set_data(LABELS, LABELS, weights[:1], query_row=0)  # one head: show the mean
    assert grid.focused.plot.titleLabel.text == "head 1"  # the mean of one head is that head


def test_the_mean_of_one_head_is_called_head_1(qtbot):
    grid = show(qtbot, HeatmapGrid(), (700, 450))
    weights = softmax_weights(1, 5, 5)
    grid.set_data(LABELS, LABELS, weights, query_row=0)
    qtbot.wait(10)
    assert grid.focused.plot.titleLabel.text == "head 1"
    centre = grid.focused.image.mapToScene(QPointF(3.5, 4.5))
    grid._on_mouse_moved(centre)  # the readout under the pointer names it alike
    assert grid.hover_label.text().startswith("head 1: the → on")
    grid.set_data(LABELS, LABELS, softmax_weights(2, 5, 5), query_row=0)
    assert grid.focused.plot.titleLabel.text == "mean of heads"


def test_views_accept_an_empty_sentence(qtbot):
    grid, lines, latent = HeatmapGrid(), LinesView(), LatentMap()
    strip = TokenStrip()
    for widget in (grid, lines, latent, strip):
        show(qtbot, widget)
    empty = np.zeros((2, 0, 0))
    grid.set_data([], [], empty, query_row=0)
    lines.set_data([], [], empty, query_row=0)
    lines.grab()
    strip.set_tokens([])
    strip.set_weights(np.zeros(0), None)
    latent.set_data(np.zeros((0, 2)), [], np.zeros(2), "it", np.zeros(0), np.zeros((2, 2)),
                    np.zeros(2), [], ("x", "y"), None)
    latent.grab()
    assert grid.tick_labels() == ([], [])


# ---------------------------------------------------------------------------- layout polish


def test_latent_labels_never_overlap(qtbot):
    """Tokens on one spot, neighbours on top of them: every painted label has its own room."""
    view = show(qtbot, LatentMap(), (500, 400))
    token_xy = np.array([[0.0, 0.0], [0.01, 0.0], [0.0, 0.01], [1.0, 1.0], [0.02, 0.02]])
    labels = ["on", "the", "The", "far", "in"]
    neighbours = [("same", 0.0, 0.0, "query"), ("well", 0.01, 0.01, "query"),
                  ("(212)", 0.5, 0.5, "output"), ("so", 1.0, 1.0, "output")]
    view.set_data(token_xy, labels, np.array([0.5, 0.5]), "it", np.full(5, 0.2),
                  np.array([[0.0, 0.0], [0.01, 0.01]]), np.array([0.005, 0.0]), neighbours,
                  ("x", "y"), None)
    view.grab()
    painted = view.labels.painted + view.neighbour_labels.painted
    texts = [t for t, _ in painted]
    assert {"it", "h1", "h2", "output"} <= set(texts)  # these are always shown
    assert "(212)" not in texts and "(212)" not in view.neighbour_labels.texts  # not a word
    rects = [r for _, r in painted]
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not a.intersects(b), (painted)


def test_latent_labels_keep_off_the_points_when_there_is_room(qtbot):
    """Two words a few pixels apart: the first one's label goes where it covers no dot."""
    view = show(qtbot, LatentMap(), (500, 400))
    token_xy = np.array([[0.0, 0.0], [0.04, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    view.set_data(token_xy, ["on", "the", "far", "away"], np.array([1.0, -1.0]), "it",
                  np.array([0.4, 0.3, 0.2, 0.1]), np.array([[-1.0, 1.0]]),
                  np.array([-0.5, 0.8]), [], ("x", "y"), None)
    view.grab()
    vb = view.getPlotItem().vb
    to_pixels = vb.childTransform() * vb.sceneTransform() * view.viewportTransform()
    rects = [r for _, r in view.labels.painted]
    assert len(rects) == 7  # four words, the query, h1 and the output
    for x, y in [*token_xy, (1.0, -1.0), (-1.0, 1.0), (-0.5, 0.8)]:
        centre = to_pixels.map(QPointF(x, y))
        dot = QRectF(centre.x() - 3, centre.y() - 3, 6, 6)
        assert not any(dot.intersects(r) for r in rects), (x, y, view.labels.painted)


def test_place_labels_never_hide_a_point_kept_clear():
    """A crowded map lets a label cover drawn points, but not the ones kept clear (the query's
    star, the output's diamond): an optional label is left out rather than hide them."""
    bounds = QRectF(0, 0, 200, 200)
    anchor, size, gap = [QPointF(100, 100)], [(30.0, 12.0)], [5.0]
    dots = [QRectF(50, 50, 100, 100)]  # every spot around the anchor covers some dot
    star = QRectF(104, 80, 40, 40)  # over every spot right of the anchor
    rect = place_labels(anchor, size, gap, [False], bounds, avoid=dots)[0]
    assert rect is not None and rect.intersects(star)  # the first spot: right of the point
    rect = place_labels(anchor, size, gap, [False], bounds, avoid=dots, keep_clear=[star])[0]
    assert rect is not None and not rect.intersects(star) and rect.right() <= 100
    everywhere = [QRectF(40, 40, 120, 120)]
    assert place_labels(anchor, size, gap, [False], bounds, keep_clear=everywhere) == [None]
    assert place_labels(anchor, size, gap, [True], bounds, keep_clear=everywhere)[0] is not None


def test_a_crowded_latent_map_keeps_the_star_and_the_diamond_uncovered(qtbot):
    """Words piled on the query and the output: no word's or head's label hides either."""
    view = show(qtbot, LatentMap(), (420, 320))
    rng = np.random.default_rng(3)
    query, output = np.array([0.0, 0.0]), np.array([0.05, -0.05])
    token_xy = np.vstack([rng.normal(0, 0.08, (30, 2)), [[1.0, 1.0], [-1.0, -1.0]]])
    labels = [f"w{i}" for i in range(len(token_xy))]
    mixes = output + rng.normal(0, 0.03, (6, 2))
    view.set_data(token_xy, labels, query, "it", np.full(len(labels), 1 / len(labels)), mixes,
                  output, [], ("x", "y"), None)
    view.grab()
    vb = view.getPlotItem().vb
    to_pixels = vb.childTransform() * vb.sceneTransform() * view.viewportTransform()
    for (x, y), half in ((query, 10), (output, 8)):  # the markers' half sizes in pixels
        centre = to_pixels.map(QPointF(float(x), float(y)))
        marker = QRectF(centre.x() - half + 1, centre.y() - half + 1, 2 * half - 2, 2 * half - 2)
        covering = [t for t, r in view.labels.painted if r.intersects(marker)
                    and t not in ("it", "output")]
        assert not covering, covering


def test_place_labels_skips_only_optional_labels():
    bounds = QRectF(0, 0, 200, 200)
    anchors = [QPointF(100, 100)] * 14
    rects = place_labels(anchors, [(30.0, 12.0)] * 14, [5.0] * 14, [True] + [False] * 13, bounds)
    assert rects[0] is not None and None in rects  # no room for all: optional ones give way
    shown = [r for r in rects if r is not None]
    assert all(bounds.contains(r) for r in shown)
    assert not any(a.intersects(b) for i, a in enumerate(shown) for b in shown[i + 1:])


def test_token_strip_shows_only_the_new_sentence_at_once(qtbot):
    """A grab or export straight after a sentence change shows the new tokens, not the old."""
    strip = show(qtbot, TokenStrip(), (500, 120))
    strip.set_tokens(make_tokens())
    strip.grab()
    strip.set_tokens(make_tokens()[:2])  # no event loop in between
    image = strip.grab().toImage()
    assert [chip.token.text for chip in strip.chips] == [t.text for t in make_tokens()[:2]]
    right = max(chip.rect.right() for chip in strip.chips)
    row = strip.chips[0].rect.center().y()
    background = image.pixelColor(image.width() - 3, row)
    scale = image.width() / strip.width()
    assert all(image.pixelColor(int(x * scale), int(row * scale)) == background
               for x in range(right + 3, strip.width() - 3))  # nothing of the old sentence


def test_token_strip_area_is_as_tall_as_its_lines(qtbot):
    area = QScrollArea()
    strip = TokenStrip()
    area.setWidget(strip)
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(area)
    splitter.addWidget(QWidget())
    show(qtbot, splitter, (420, 500))
    splitter.setSizes([200, 300])  # far too tall for one line
    strip.set_tokens(make_tokens())
    qtbot.waitUntil(lambda: splitter.sizes()[0] < 60, timeout=1000)
    one_line = splitter.sizes()[0]
    assert area.height() == one_line  # no empty band in the splitter's slot
    assert one_line <= strip.chips[0].rect.height() + 16

    long_text = [Token(f"word{i}", 0, 1, f"word{i}", "vocab", "") for i in range(30)]
    strip.set_tokens(long_text)
    qtbot.waitUntil(lambda: splitter.sizes()[0] > one_line + 20, timeout=1000)
    chip_bottom = max(chip.rect.bottom() for chip in strip.chips)
    lines = len({chip.rect.y() for chip in strip.chips})
    assert lines >= 2
    if lines <= 3:  # everything visible, nothing to scroll and no band under the last line
        assert chip_bottom < area.viewport().height() <= chip_bottom + 12
    strip.set_tokens(make_tokens()[:2])  # short again: the area shrinks back
    qtbot.waitUntil(lambda: splitter.sizes()[0] == one_line, timeout=1000)


def test_focused_heatmap_is_square_and_labels_every_token(qtbot):
    labels = [f"tok{i}" for i in range(18)]
    for size in ((540, 700), (900, 450)):  # tall: small maps below; wide: beside
        grid = show(qtbot, HeatmapGrid(), size)
        grid.set_data(labels, labels, softmax_weights(4, 18, 18), query_row=0)
        qtbot.wait(10)
        vb = grid.focused.plot.vb
        assert abs(vb.width() - vb.height()) <= 2 and vb.width() > 200
        assert grid.tick_labels() == (labels, labels)  # every token named
        small = grid.small_heatmap(3).plot.sceneBoundingRect()
        assert not small.intersects(grid.focused.plot.sceneBoundingRect())
        assert grid.canvas.sceneRect().contains(small)


def test_plan_layout_prefers_the_roomier_arrangement():
    tall = plan_layout(500, 700, 120, 90, 5)
    wide = plan_layout(900, 420, 120, 90, 5)
    assert tall.below and not wide.below
    for plan, (w, h) in ((tall, (500, 700)), (wide, (900, 420))):
        assert plan.cols * plan.rows >= 5 and plan.small >= 40
        assert plan.side + 120 <= w and plan.side + 90 <= h


def test_every_small_heatmap_and_its_title_fit_in_a_crowded_canvas(qtbot):
    """12 heads, 300 words, a short canvas: pyqtgraph widens a plot to its title, so a plan with
    maps narrower than "head 12" pushed the last column out of sight."""
    labels = [f"word{i}" for i in range(300)]
    grid = show(qtbot, HeatmapGrid(), (557, 370))
    grid.set_data(labels, labels, softmax_weights(12, 300, 300), query_row=0)
    qtbot.wait(10)
    visible = grid.canvas.mapToScene(grid.canvas.viewport().rect()).boundingRect()
    boxes = [grid.small_heatmap(h).plot.sceneBoundingRect() for h in [None, *range(12)]]
    for i, box in enumerate(boxes):
        assert visible.contains(box), (i, box, visible)
        title = grid.small_heatmap(None if i == 0 else i - 1).plot.titleLabel
        assert title.boundingRect().width() <= box.width() + 0.5
        assert not any(box.intersects(other) for other in boxes[i + 1:])


def test_hovering_a_chip_shows_its_weight_and_why_it_is_marked(qtbot):
    """The hover text of the chip under the mouse, and none over the gap between chips."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    strip = show(qtbot, TokenStrip(), (500, 120))
    strip.set_tokens(make_tokens())
    strip.set_weights(np.array([0.1, 0.6, 0.1, 0.1, 0.1]), 0)

    def hover(at: QPoint) -> None:
        QApplication.sendEvent(strip, QHelpEvent(QEvent.Type.ToolTip, at, strip.mapToGlobal(at)))

    for chip, expected in ((strip.chips[1], "weight 0.600"), (strip.chips[3], "weight 0.100\n"
                                                                    "sat: not in the")):
        hover(chip.rect.topLeft() + QPoint(3, 3))
        qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
        assert QToolTip.text() == chip.toolTip() and QToolTip.text().startswith(expected)
    gap = strip.chips[0].rect.topRight() + QPoint(2, 2)
    assert strip.chip_at(gap) is None
    hover(gap)
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)

def test_the_same_tokens_again_leave_the_strip_as_it_is(qtbot):
    """A result for the same sentence (another head, the temperature) touches no chip and
    lays nothing out again; a different one does."""
    strip = show(qtbot, TokenStrip(), (500, 120))
    strip.set_tokens(make_tokens())
    strip.set_weights(np.full(5, 0.2), 1)
    chips = strip.chips
    strip.set_tokens(list(make_tokens()))  # equal tokens, another list
    assert all(a is b for a, b in zip(strip.chips, chips, strict=True))
    assert strip.used_chips[1].outlined  # the shading kept
    strip.set_tokens(make_tokens()[:3])
    assert [c.token.text for c in strip.chips] == ["the", "cat", "!"]

def test_chips_take_the_size_of_their_text_and_never_overlap(qtbot):
    """A sentence after another is laid out at its own texts' widths, nothing overlapping, and
    the strip is as tall as its lines."""
    strip = show(qtbot, TokenStrip(), (500, 160))

    def words(texts: list[str]) -> list[Token]:
        tokens, start = [], 0
        for text in texts:
            tokens.append(Token(text, start, start + len(text), text, "vocab"))
            start += len(text) + 1
        return tokens

    strip.set_tokens(words(["a"] * 12))
    strip.grab()
    long = ["a", "b", *[f"{'w' * (i % 5 + 1)}{i}" for i in range(10)]]
    strip.set_tokens(words(long))
    strip.grab()
    chips = strip.chips
    assert [c.piece.label for c in chips] == long
    metrics = strip.fontMetrics()
    for chip in chips:  # the text and six pixels each side
        assert chip.rect.width() == metrics.horizontalAdvance(chip.piece.label) + 12
    boxes = [c.rect for c in chips]
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert all(strip.rect().contains(box) for box in boxes)
    assert strip.heightForWidth(strip.width()) == max(b.bottom() for b in boxes) + 1 + 4

def test_only_the_focused_small_map_has_a_bold_title_as_the_focus_moves(qtbot):
    grid = show(qtbot, HeatmapGrid(), (700, 400))
    grid.set_data(LABELS, LABELS, softmax_weights(3, len(LABELS), 5), query_row=0)

    def bold() -> list[bool]:
        return ["font-weight:700" in grid.small_heatmap(h).plot.titleLabel.item.toHtml()
                for h in (None, 0, 1, 2)]  # as drawn, not as last asked for

    assert bold() == [True, False, False, False]  # the mean is focused at first
    for head in (1, 2, 1):  # back and forth: no title keeps an old focus
        grid.set_selected_head(head)
        assert bold() == [h == head for h in (None, 0, 1, 2)], head
    grid.set_data(LABELS[:4], LABELS[:4], softmax_weights(3, 4, 5), query_row=0)  # relayout
    assert bold() == [False, False, True, False]


def test_widest_label_is_the_widest_cut_name_in_that_font(qtbot):
    """The room the focused map keeps for its axis names: the widest name as cut for the axis,
    measured in the tick font, the same when asked again or with an equal font, wider in a
    bigger font."""
    from PySide6.QtGui import QFont, QFontMetricsF

    from explorer.views.heatmap_layout import short_label, widest_label

    names = ["a", "internationalisation", "WWWW", "a", "[SEP]"] * 100
    font = QFont()
    font.setPointSizeF(9.0)
    metrics = QFontMetricsF(font)
    for cut in (6, 14, 40):
        expected = max(metrics.horizontalAdvance(short_label(t, cut)) for t in names)
        assert widest_label(font, names, cut) == expected
        assert widest_label(QFont(font), list(names), cut) == expected  # remembered alike
    bigger = QFont(font)
    bigger.setPointSizeF(14.0)
    assert widest_label(bigger, names, 14) > widest_label(font, names, 14)
    assert widest_label(font, [], 14) == 0.0


def test_latent_labels_each_spot_of_a_word_once_as_one_by_one_comparison_does():
    """Which points get a label: each word's first point at each of its spots (np.allclose),
    checked against the point-by-point rule on repeats, float32 near-twins and distinct spots."""
    from explorer.views.latent_view import _first_at_each_spot

    rng = np.random.default_rng(11)
    words = rng.choice(["the", "cat", "sat", "it", "a"], size=300).tolist()
    xy = rng.normal(size=(300, 2))
    for i in range(0, 300, 3):  # every third point sits on the spot of an earlier one
        j = int(rng.integers(0, i + 1))
        words[i] = words[j]
        xy[i] = xy[j] * (1 + 1e-7 * rng.normal())  # a last-digit difference

    def one_by_one() -> list[int]:
        keep, seen = [], {}
        for i, word in enumerate(words):
            spots = seen.setdefault(word, [])
            if any(np.allclose(xy[i], spot, rtol=1e-5, atol=1e-6) for spot in spots):
                continue
            spots.append(xy[i])
            keep.append(i)
        return keep

    expected = one_by_one()
    assert 100 < len(expected) < 300
    assert _first_at_each_spot(words, xy) == expected
    assert _first_at_each_spot(["x"] * 4, np.zeros((4, 2))) == [0]


def test_chips_grow_with_the_strips_font(qtbot):
    """The chips' sizes follow a font change of the strip."""
    from PySide6.QtGui import QFont

    strip = show(qtbot, TokenStrip(), (500, 160))
    strip.set_tokens(make_tokens())
    strip.grab()
    before = [chip.rect for chip in strip.chips]
    font = QFont(strip.font())
    font.setPointSizeF(font.pointSizeF() * 2)
    strip.setFont(font)
    strip.grab()
    after = [chip.rect for chip in strip.chips]
    assert all(a.height() > b.height() and a.width() > b.width()
               for a, b in zip(after, before, strict=True))


def test_the_top_bars_source_label_ends_in_an_ellipsis_when_cut(qtbot):
    """A narrow window cut "GloVe 6B 50d · 400" mid-word (a rich-text QLabel cannot elide):
    the rest gives way first, then the bold name, and the tooltip has the whole text."""
    from PySide6.QtGui import QFont, QFontMetrics

    from explorer.views.source_label import SourceLabel

    label = show(qtbot, SourceLabel(), (600, 30))
    label.set_parts("GloVe 6B 50d", " · 400,000 words · 50 dims")
    whole = "GloVe 6B 50d · 400,000 words · 50 dims"
    assert label.shown_text() == whole and label.toolTip() == whole
    bold = QFont(label.font())
    bold.setBold(True)
    name_width = QFontMetrics(bold).horizontalAdvance("GloVe 6B 50d")
    label.resize(name_width + 40, 30)
    shown = label.shown_text()
    assert shown.startswith("GloVe 6B 50d") and shown.endswith("…") and shown != whole
    assert label.toolTip() == whole and label.text() == "<b>GloVe 6B 50d</b>" + \
        " · 400,000 words · 50 dims"  # text() is the whole text, as set
    label.resize(name_width // 2, 30)
    assert label.shown_text().endswith("…") and "·" not in label.shown_text()
    label.resize(600, 30)
    assert label.shown_text() == whole
