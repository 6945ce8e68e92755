"""The computation dock as a person reads and exports it, in the real window (offscreen): the
Steps tab exported whole, the size the export dialog states is the size written, no "-0", one
name per option on screen and in captions, dimensions counted from 1 on screen."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialog

from core.explain.names import option_name
from core.explain.steps import format_fixed, format_number, format_percent
from core.settings import Settings
from explorer.commands.export_dialogs import FigureDialog
from explorer.figures import figure_caption

SVG = "{http://www.w3.org/2000/svg}"
NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0(?:\.0*)?(?![\w.])|-0%")


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv, Settings(n_heads=3), size=(1200, 800))


def dock_of(window):  # noqa: ANN001, ANN201
    return window.computation.dock


def svg_texts(path) -> list[str]:  # noqa: ANN001
    root = ET.fromstring(path.read_bytes())
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def answer_dialog(monkeypatch, path, choose=None) -> list[str]:  # noqa: ANN001
    """The real figure dialog, answered without showing it: ``choose(dialog)`` sets its fields,
    then Save is pressed; the size line it showed is recorded."""
    stated: list[str] = []

    def accept(dialog: FigureDialog) -> QDialog.DialogCode:
        dialog.path.setText(str(path))
        if choose is not None:
            choose(dialog)
        stated.append(dialog.size_label.text())
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(FigureDialog, "exec", accept)
    return stated


def stated_size(text: str) -> tuple[int, int]:
    width, height = re.match(r"(\d+) × (\d+) pixels", text).groups()
    return int(width), int(height)


# ------------------------------------------------------------------------------ whole table
def test_exported_steps_tab_has_every_row_of_the_table(window, tmp_path, errors):
    """On screen the table shows a few rows and scrolls; the figure holds every key's row, the
    Σ row and the formulas, and no scroll bar."""
    dock = dock_of(window)
    dock.tabs.setCurrentIndex(0)
    panel, n = dock.panel, len(window.controller.analysis.col_labels)
    assert len(panel._table.rows_on_screen()) < n  # the premise: the screen shows a part
    out = tmp_path / "steps.svg"
    assert window.exports.export_target("computation", str(out)), errors
    # Qt writes a run of text as one or more <text> elements (a bold run is split): compare
    # without the spaces between them.
    joined = re.sub(r"\s+", "", "".join(svg_texts(out)))
    for row in range(n + 1):  # every key and the Σ row: their key, score and weight cells
        for col in (0, 1, 5):
            cell = re.sub(r"\s+", "", panel.cell_text(row, col))
            assert cell in joined, (row, col, cell)
    assert "Σ=headoutput" in joined and "weight=exp(" in joined
    wo_row = re.sub(r"\s+", "", panel.cell_text(n + 1, 6))  # long: on screen it is cut with "…"
    assert wo_row.endswith("])") and wo_row in joined
    assert "Headsonthequeryrow" in joined  # the statistics beside the table
    assert dock.tabs.currentIndex() == 0 and window.size().toTuple() == (1200, 800)


def test_exported_steps_png_is_as_tall_as_the_table(window, tmp_path, errors):
    dock = dock_of(window)
    n = len(window.controller.analysis.col_labels)
    out = tmp_path / "steps.png"
    assert window.exports.export_target("computation", str(out)), errors
    image = QImage(str(out))
    row_height = dock.panel._table.verticalHeader().defaultSectionSize()
    assert image.height() > (n + 2) * row_height  # all rows, the header, formulas and caption
    assert image.width() >= dock.panel.width()  # as wide as on screen, wider if cells need it


# ------------------------------------------------------------------------------ dialog size
@pytest.mark.parametrize("target", ["latent", "computation", "explorer"])
def test_figure_dialog_states_the_size_it_writes(window, monkeypatch, tmp_path, errors, target):
    out = tmp_path / f"{target}.png"
    stated = answer_dialog(monkeypatch, out)  # the defaults: scale 2×
    assert window.exports.export_figure_dialog(target), errors
    assert QImage(str(out)).size().toTuple() == stated_size(stated[0])


def test_figure_dialog_exact_size_and_another_view(window, monkeypatch, tmp_path, errors):
    out = tmp_path / "exact.png"

    def choose(dialog: FigureDialog) -> None:
        dialog.target.setCurrentIndex(dialog.target.findData("heatmaps"))
        dialog.scale.setValue(1.5)
        dialog.by_size.setChecked(True)
        dialog.width_box.setValue(700)

    stated = answer_dialog(monkeypatch, out, choose)
    assert window.exports.export_figure_dialog("latent"), errors
    image = QImage(str(out))
    assert image.size().toTuple() == stated_size(stated[0]) and image.width() == 700


def test_figure_dialog_size_follows_the_scale_and_the_caption(window, qtbot):
    exports = window.exports
    dialog = FigureDialog(None, {"latent": "Map"}, "latent", "/tmp/x.png", exports.figure_size)
    qtbot.addWidget(dialog)
    view = window.latent.size()
    width, height = stated_size(dialog.size_label.text())
    assert width == 2 * view.width() and height > 2 * view.height()  # the caption band: taller
    dialog.scale.setValue(1.0)
    assert stated_size(dialog.size_label.text()) == (view.width(), height // 2)


# ------------------------------------------------------------------------------ negative zero
def test_no_negative_zero_anywhere_in_the_panel(open_window, tiny_kv):
    """The first word with a causal mask attends to itself alone: entropy -0.0, once "-0%"."""
    window = open_window(tiny_kv, Settings(n_heads=3, causal=True, query="The"))
    dock = dock_of(window)
    statistics = dock.statistics
    shown = [text for h in range(3) for text in statistics.head_row_texts(h)]
    assert [statistics.head_row_texts(h)[1] for h in range(3)] == ["0%"] * 3
    heads_model, similarity_model = statistics.models()
    shown += [similarity_model.cell_text(r, c) for r in range(3) for c in range(3)]
    panel, n = dock.panel, len(window.controller.analysis.col_labels)
    shown += [panel.cell_text(r, c) for r in range(n + 2) for c in range(7)]
    shown += [panel.formulas_text(), panel.title_text()]
    assert not [text for text in shown if NEGATIVE_ZERO.search(text)]


def test_format_helpers_never_print_negative_zero():
    assert format_percent(-1e-17) == "0%" and format_percent(-0.0) == "0%"
    assert format_percent(0.654) == "65%" and format_percent(-0.02) == "-2%"
    assert format_fixed(-0.001, 2) == "0.00" and format_fixed(-0.01, 2) == "-0.01"
    assert format_number(-0.0) == "0" and format_number(-1e-20) == "-1e-20"


# ------------------------------------------------------------------------------ names
def test_captions_name_options_as_the_controls_do(window):
    controls = window.controls
    window.apply(scoring="scaled_dot", normalization="relu", head_strategy="split", n_heads=2)
    window.controller.flush()
    caption = figure_caption(window.controller.analysis)
    for combo, value in ((controls.scoring, "scaled_dot"), (controls.normalization, "relu"),
                         (controls.head_strategy, "split")):
        assert combo.currentText().startswith(option_name(value))  # the screen's name
        assert f"{option_name(value)}" in caption
    assert "scaled_dot" not in caption and "scaled dot · ReLU" in caption
    assert "scaled dot, ReLU" in dock_of(window).panel.title_text()


def test_every_option_has_the_name_its_combo_box_starts_with(window):
    controls = window.controls
    for combo in (controls.scoring, controls.normalization, controls.head_strategy):
        for i in range(combo.count()):
            assert combo.itemText(i).startswith(option_name(combo.itemData(i))), combo.itemText(i)


# ------------------------------------------------------------------------------ index bases
def test_dimensions_count_from_one_on_screen_and_the_dock_says_so(window):
    dock = dock_of(window)
    dock.tabs.setCurrentIndex(1)
    window.controller.flush()
    matrices = dock.matrices
    d = window.controller.analysis.sentence.vectors.shape[1]
    data = matrices._data
    assert data.by_symbol("I").row_labels == tuple(str(i) for i in range(1, d + 1))
    assert data.by_symbol("Q").row_labels[0] == "1"
    assert "count from 1 here" in dock.index_note.text()
    assert "data files count from 0" in dock.index_note.toolTip()
    assert dock.index_note.isVisible()
    formulas = dock.panel.formulas_text()
    d_v = dock.panel.steps().head_output.size
    assert f"W_O[rows 1–{d_v}]" in formulas  # head 1's rows of W_O, counted from 1


# ------------------------------------------------------------------------------ matrices, words
def matrices_shown(window):  # noqa: ANN001, ANN201
    dock = dock_of(window)
    dock.tabs.setCurrentIndex(1)
    window.controller.flush()
    return dock.matrices


def test_word_mode_matrices_name_their_rows_and_columns(window, qtbot):
    matrices = matrices_shown(window)
    a = window.controller.analysis
    panel = matrices.panels["A′"]
    qtbot.waitUntil(lambda: panel.plot.isVisible() and panel.plot.view.height() > 200)
    assert panel.is_heatmap()  # 16 tokens: too many for a grid of numbers
    heatmap = panel.plot
    rows = [text for _, text in heatmap.left._tickLevels[0]]
    cols = [text for _, text in heatmap.bottom._labels]
    assert rows[:2] == list(a.col_labels[:2])  # keys down the side (every one that fits)
    assert cols[0] == a.row_labels[0] and set(cols) <= set(a.row_labels)  # queries along
    dims = [text for _, text in matrices.panels["Q"].plot.left._tickLevels[0]]
    assert dims[0] == "1"  # dimensions counted from 1


def test_word_mode_matrices_have_a_colour_key(window):
    matrices = matrices_shown(window)
    for symbol, signed in (("A′", False), ("A", True), ("I", True)):
        heatmap = matrices.panels[symbol].plot
        low, high = heatmap.key_view.viewRange()[1]
        levels = heatmap.image.getLevels()
        assert (low, high) == pytest.approx(tuple(levels))
        assert (low, high) == ((pytest.approx(-high), high) if signed else (0.0, 1.0))
        assert heatmap.key_axis.isVisible() and heatmap.key_image.image.shape[0] > 100


def test_word_mode_matrices_read_out_the_number_under_the_pointer(window, qtbot):
    matrices = matrices_shown(window)
    a = window.controller.analysis
    panel = matrices.panels["A′"]
    qtbot.waitUntil(lambda: panel.plot.view.width() > 50 and panel.plot.view.height() > 200)
    heatmap = panel.plot
    key, query = 1, a.query_row  # "animal" for the query "it"
    centre = heatmap.view.mapViewToScene(pg.Point(query + 0.5, key + 0.5))
    heatmap.scene().sigMouseMoved.emit(centre)
    weight = a.result.weights[0, a.query_row, key]
    assert panel.readout.text() == f"A′[“animal”, “it”] = {format_number(weight)}"
    assert panel.readout.isVisible()


def test_matrices_figure_shows_the_numbers_when_the_cells_have_room(window, tmp_path, errors):
    matrices = matrices_shown(window)
    out = tmp_path / "matrices.svg"
    assert window.exports.export_target("computation", str(out), size=(3600, 2400)), errors
    joined = " ".join(svg_texts(out))
    q = matrices._data.by_symbol("Q").array  # (d_k, n): 2 × 16, wide cells at this size
    for value in q.ravel():
        assert format_number(value, 3) in joined
    assert "animal" in joined and "Point at a cell" not in joined  # names, no screen hint


def test_colour_key_never_says_minus_zero(qtbot):
    """A tick one rounding away from zero (-2.4 + 12 × 0.2): pyqtgraph's own axis writes it
    "-2.22045e-16"; the key writes 0."""
    from explorer.views.matrix_heatmap import KeyAxis

    ticks = [-0.2, -2.220446049250313e-16, 0.2]
    assert pg.AxisItem("right").tickStrings(ticks, 1.0, 0.2)[1] == "-2.22045e-16"
    assert KeyAxis("right").tickStrings(ticks, 1.0, 0.2) == ["-0.2", "0", "0.2"]
