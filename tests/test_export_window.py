"""Exporting from the real window: File menu, Ctrl+E, each view's context menu, data export."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import defaultdict

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent, QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QTabWidget
from test_cli import distinct_colours, viridis_indices

from core.files.export_data import load_json_weights
from core.settings import Settings
from explorer.commands import export_dialogs
from explorer.commands.export_actions import EXPLORER, EXPORT_VIEW_TEXT
from explorer.commands.export_dialogs import FigureRequest
from explorer.figures import figure_caption
from explorer.main_window import MainWindow

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv, Settings(n_heads=3))


@pytest.fixture
def asked(monkeypatch):
    """The figure dialog answers with ``asked.answer`` (a function of the preselected view)."""
    calls: list[tuple[str, list[str]]] = []

    def choose(_parent, targets, target, path, _size):  # noqa: ANN001, ANN202
        calls.append((target, list(targets)))
        return asked.answer(target, path)

    asked = type("Asked", (), {"calls": calls, "answer": None})
    monkeypatch.setattr(export_dialogs, "choose_figure", choose)
    return asked


def file_menu_texts(window: MainWindow) -> list[str]:
    menu = window.menuBar().actions()[0].menu()
    return [a.text() for a in menu.actions()]


def test_file_menu_and_shortcuts(window):
    texts = file_menu_texts(window)
    for text in ("Export &figure…", "Export &data…", "&Open session…", "&Save session",
                 "Save session &as…"):
        assert texts.index(text) < texts.index("&Quit")
    e = window.exports
    assert e.export_figure_action.shortcut() == QKeySequence("Ctrl+E")
    assert window.sessions.save_action.shortcut() == QKeySequence("Ctrl+S")
    assert window.sessions.open_action.shortcut() == QKeySequence("Ctrl+Shift+O")
    assert e.export_figure_action in window.actions()  # the shortcut works without the menu
    assert {"explorer", "window", "heatmaps", "lines", "latent", "tokens"} <= set(e.targets)


def test_ctrl_e_exports_the_explorer_view_as_png(window, asked, tmp_path, errors):
    out = tmp_path / "explorer.png"
    asked.answer = lambda target, path: FigureRequest(target, str(out), (900, 640))
    tab_bar = window.tabs.tabBar()
    window.exports.export_figure_action.trigger()
    assert asked.calls[0][0] == EXPLORER and errors == []
    image = QImage(str(out))
    assert image.size().toTuple() == (900, 640)
    assert distinct_colours(image) > 300
    cells = viridis_indices(image)
    assert len(cells) > 5000 and len(np.unique(cells)) > 15  # real, varied heatmap cells
    assert image.text("Description") == figure_caption(window.controller.analysis)
    assert "3 heads" in image.text("Description")
    assert out.name in window.status.message.text()
    assert tab_bar.isVisible() and window.heatmaps.hover_label.isVisible()  # figure mode undone
    assert window.size().toTuple() == (1200, 800)


def test_png_by_scale(window, asked, tmp_path):
    out = tmp_path / "latent.png"
    asked.answer = lambda target, path: FigureRequest("latent", str(out), None, 2.0)
    window.exports.export_figure_dialog("latent")
    image, size = QImage(str(out)), window.latent.size()
    assert image.width() == 2 * size.width() and image.height() > 2 * size.height()


@pytest.mark.parametrize(("target", "suffix"), [
    ("heatmaps", ".svg"), ("lines", ".pdf"), ("tokens", ".svg"), ("window", ".pdf"),
])
def test_each_view_as_svg_or_pdf(window, asked, tmp_path, errors, target, suffix):
    out = tmp_path / f"{target}{suffix}"
    asked.answer = lambda _target, path: FigureRequest(target, str(out))
    assert window.exports.export_figure_dialog(target), errors
    data = out.read_bytes()
    if suffix == ".pdf":
        assert data.startswith(b"%PDF")
    else:
        root = ET.fromstring(data)
        assert len(list(root.iter(f"{SVG}path"))) + len(list(root.iter(f"{SVG}rect"))) > 5
        texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
        assert "The" in texts and "softmax" in texts  # the view's words and the caption
    assert window.tabs.currentWidget() is window.heatmaps  # a page shown for export goes back


def test_right_click_a_view_exports_it(window, asked, tmp_path, qtbot):
    out = tmp_path / "map.png"
    asked.answer = lambda target, path: FigureRequest(target, str(out))
    viewport = window.latent.viewport()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, QPoint(40, 40),
                              viewport.mapToGlobal(QPoint(40, 40)))
    QApplication.sendEvent(viewport, event)
    menu = window.exports.last_menu
    assert menu is not None and menu.actions()[0].text() == EXPORT_VIEW_TEXT
    menu.actions()[0].trigger()
    menu.close()
    assert asked.calls[-1][0] == "latent" and QImage(str(out)).width() > 100
    strip = window.token_strip
    at = strip.used_chips[0].rect.topLeft() + QPoint(2, 2)  # on a token
    QApplication.sendEvent(strip, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at,
                                                    strip.mapToGlobal(at)))
    window.exports.last_menu.actions()[0].trigger()
    window.exports.last_menu.close()
    assert asked.calls[-1][0] == "tokens"


def test_right_click_on_a_matrix_plot_offers_our_export_menu(window, asked, qtbot):
    """The matrix plots build no pyqtgraph menu (axis controls no one needs there): our menu,
    with the export entries, opens instead."""
    from explorer.views.matrix_view import MatrixPanel

    asked.answer = lambda target, path: None  # cancelled: nothing written
    panel = window.findChildren(MatrixPanel)[0]
    tabs = next(t for t in window.findChildren(QTabWidget) if t.isAncestorOf(panel))
    tabs.setCurrentIndex(tabs.count() - 1)  # the Matrices page
    panel.stack.setCurrentWidget(panel.plot)  # drawn as a heatmap, not numbers
    qtbot.waitUntil(lambda: panel.plot.isVisible() and panel.plot.width() > 20)
    viewport = panel.plot.viewport()
    centre = viewport.rect().center()
    QApplication.sendEvent(viewport, QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, centre, viewport.mapToGlobal(centre)))
    menu = window.exports.last_menu
    assert menu is not None and menu.actions()[0].text() == EXPORT_VIEW_TEXT
    menu.actions()[0].trigger()
    menu.close()
    assert asked.calls[-1][0] == "computation"


def test_pyqtgraph_export_entry_is_ours(window, asked, tmp_path):
    asked.answer = lambda target, path: None  # cancelled: nothing written
    scene = window.heatmaps.canvas.scene()
    assert [a.text() for a in scene.contextMenu] == [EXPORT_VIEW_TEXT]
    scene.contextMenu[0].trigger()
    assert asked.calls[-1][0] == "heatmaps"
    assert scene.exportDialog is None  # pyqtgraph's dialog (ImageExporter) never opened


def test_figure_errors_are_shown_not_raised(window, asked, tmp_path, errors):
    asked.answer = lambda target, path: FigureRequest(target, str(tmp_path / "no" / "x.png"))
    assert not window.exports.export_figure_dialog()
    asked.answer = lambda target, path: FigureRequest(target, str(tmp_path / "x.gif"))
    assert not window.exports.export_figure_dialog()
    assert "does not exist" in errors[0] and ".png, .svg, .pdf" in errors[1]
    assert list(tmp_path.glob("x.*")) == []


def test_export_data_json_and_csv(window, monkeypatch, tmp_path, errors):
    paths = iter([str(tmp_path / "a.json"), str(tmp_path / "a.csv"), None])
    monkeypatch.setattr(export_dialogs, "choose_data_file", lambda _p, _start: next(paths))
    for _ in range(3):
        window.exports.export_data_action.trigger()
    a = window.controller.analysis
    np.testing.assert_allclose(load_json_weights(tmp_path / "a.json"), a.weights, atol=1e-12)
    sums: dict[tuple[str, str], float] = defaultdict(float)
    with (tmp_path / "a.csv").open(newline="") as stream:
        for row in csv.DictReader(stream):
            sums[row["head"], row["query_index"]] += float(row["weight"])
    assert len(sums) == (3 + 1) * len(a.row_labels)  # 3 heads and the mean, every query row
    np.testing.assert_allclose(list(sums.values()), 1.0, atol=1e-9)
    assert errors == []


def test_nothing_to_export_before_vectors(qtbot, tmp_path, errors, asked):
    w = MainWindow(None, None, str(tmp_path / "cache"))
    qtbot.addWidget(w)
    assert not w.exports.export_figure_dialog() and not w.exports.export_data_dialog()
    assert asked.calls == [] and len(errors) == 2 and "wait for the vectors" in errors[0]


def test_figure_dialog_suffix_picks_the_format(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QFileDialog

    dialog = export_dialogs.FigureDialog(None, {"explorer": "Explorer", "latent": "Map"},
                                         "latent", str(tmp_path / "f.png"), QSize(640, 480))
    qtbot.addWidget(dialog)
    assert dialog.request() == FigureRequest("latent", str(tmp_path / "f.png"), None, 2.0)
    dialog.by_size.setChecked(True)
    assert dialog.request().size == (640, 480)
    dialog.path.setText(str(tmp_path / "f.svg"))
    assert "SVG" in dialog.format_label.text() and not dialog.scale.isEnabled()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *_args: (str(tmp_path / "chosen"), "PDF document (*.pdf)"))
    dialog._on_browse_clicked()
    assert dialog.path.text() == str(tmp_path / "chosen.pdf")


def test_computation_pdf_draws_the_table_headers_without_qt_warnings(window, tmp_path, qtlog):
    """Fusion's header gradient mixed HSV and RGB stops: QPdfWriter printed ~25 "unable to
    create a gradient between colors of different spec" lines and left the headers unfilled."""
    from explorer.header_gradients import header_gradient

    path = tmp_path / "computation.pdf"
    palette = window.computation.dock.tabs.palette()
    window.exports.write_figure("computation", str(path))
    assert not [r.message for r in qtlog.records if "gradient" in r.message]
    assert b"/ShadingType" in path.read_bytes()  # the header sections' shading is in the file
    stops = header_gradient(palette.button().color()).stops()
    assert {colour.spec() for _, colour in stops} == {stops[0][1].spec()}
    from PySide6.QtWidgets import QHeaderView

    headers = window.computation.dock.findChildren(QHeaderView)
    assert headers and all(h.palette().window().gradient() is None for h in headers)  # put back
