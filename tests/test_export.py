"""Exports: data (JSON, CSV, NPZ) from a real Analysis, figures (PNG, SVG, PDF) from real views."""

from __future__ import annotations

import csv
import json
import os
import re
import xml.etree.ElementTree as ET
import zlib
from collections import defaultdict

import numpy as np
import pytest

from core.files.atomic import ExportError
from core.files.export_data import (
    MEAN_HEAD,
    analysis_to_dict,
    export_csv,
    export_data,
    export_json,
    export_npz,
    load_json_weights,
)
from core.pipeline import Analysis, Pipeline
from core.settings import Settings

SENTENCE = "the cat sat on the mat"


def run(kv, **changes) -> Analysis:  # noqa: ANN001
    settings = Settings(**{"sentence": SENTENCE, "query": "drink", "n_heads": 2, **changes})
    return Pipeline(kv, "tiny test vectors").run(settings)


@pytest.fixture
def analysis(tiny_kv) -> Analysis:
    """The outside word "drink" attends over the sentence: 6 tokens + 1 query row, 2 heads."""
    return run(tiny_kv)


# ----------------------------------------------------------------------------- data


def test_analysis_dict_holds_everything_and_is_strict_json(analysis):
    data = analysis_to_dict(analysis)
    json.dumps(data, allow_nan=False)  # no NaN/Infinity: readable by any JSON parser
    assert data["tokens"] == SENTENCE.split()
    assert data["query"]["text"] == "drink" and data["query"]["position"] is None
    assert data["query_row"] == 6 and data["row_labels"][6] == "drink (query)"
    assert data["settings"] == analysis.settings.to_dict()
    assert data["vectors"] == {"name": "tiny test vectors", "dimension": 8}
    assert data["heads"]["note"] == analysis.heads.note and data["heads"]["n_heads"] == 2
    assert np.array(data["weights"]).shape == (2, 7, 6)  # heads x queries x keys
    assert np.array(data["output"]).shape == (7, 8)
    assert np.array(data["head_outputs"]).shape == analysis.result.head_outputs.shape
    coords = data["coords"]
    assert np.array(coords["tokens"]).shape == (6, 2) and len(coords["query"]) == 2
    assert np.array(coords["head_mixes"]).shape == (2, 2) and len(coords["output"]) == 2
    assert {n["near"] for n in coords["neighbours"]} == {"query", "output"}
    assert data["warnings"] == list(analysis.warnings)


def test_json_round_trip_of_weights(analysis, tmp_path):
    path = tmp_path / "analysis.json"
    export_json(analysis, path)
    np.testing.assert_array_equal(load_json_weights(path), analysis.weights.astype(np.float64))
    with pytest.raises(ExportError, match="not an Attention Explorer analysis"):
        (tmp_path / "other.json").write_text('{"weights": []}')
        load_json_weights(tmp_path / "other.json")


def test_masked_logits_become_null_in_json(tiny_kv, tmp_path):
    analysis = run(tiny_kv, causal=True)
    path = tmp_path / "causal.json"
    export_data(analysis, path)

    def reject(constant: str):  # noqa: ANN202
        raise AssertionError(f"non-standard JSON constant {constant}")

    data = json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)
    assert data["logits"][0][0][1] is None  # token 0 may not see token 1
    assert data["weights"][0][0][1] == 0.0


def test_csv_long_form(analysis, tmp_path):
    path = tmp_path / "weights.csv"
    export_csv(analysis, path)
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["head", "query_index", "query", "key_index", "key", "weight"]
    h, r, n = analysis.weights.shape
    assert len(rows) == (h + 1) * r * n  # every head, then the mean over heads
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for row in rows:
        sums[row["head"], row["query_index"]] += float(row["weight"])
        assert row["query"] == analysis.row_labels[int(row["query_index"])]
        assert row["key"] == analysis.col_labels[int(row["key_index"])]
    real_heads = {head for head, _ in sums if head != MEAN_HEAD}
    assert real_heads == {"0", "1"}
    for (head, _), total in sums.items():
        assert total == pytest.approx(1.0, abs=1e-6), head
    first = rows[0]
    assert float(first["weight"]) == pytest.approx(float(analysis.weights[0, 0, 0]), rel=1e-7)
    export_csv(analysis, path, include_mean=False)
    assert MEAN_HEAD not in path.read_text(encoding="utf-8")


def test_npz_holds_every_array_without_pickle(analysis, tmp_path):
    path = tmp_path / "analysis.npz"
    export_data(analysis, path)
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["weights"], analysis.weights)
        for name in ("scores", "logits", "output", "head_outputs"):
            np.testing.assert_array_equal(npz[name], getattr(analysis.result, name))
        np.testing.assert_array_equal(npz["token_vectors"], analysis.sentence.vectors)
        np.testing.assert_array_equal(npz["query_vector"], analysis.query.vector)
        np.testing.assert_array_equal(npz["coords_tokens"], analysis.coords.tokens)
        np.testing.assert_array_equal(npz["coords_head_mixes"], analysis.coords.head_mixes)
        assert npz["neighbour_xy"].shape == (len(analysis.coords.neighbours), 2)
        assert npz["row_labels"].dtype.kind == "U"
        assert list(npz["row_labels"]) == analysis.row_labels
        assert list(npz["col_labels"]) == analysis.col_labels
        assert int(npz["query_row"]) == analysis.query_row
        assert Settings.from_json(str(npz["settings_json"])) == analysis.settings
        assert npz["warnings"].dtype.kind == "U"  # even when empty


def test_npz_is_a_usable_heads_file(analysis, tiny_kv, tmp_path):
    path = tmp_path / "heads.npz"
    export_npz(analysis, path)
    again = run(tiny_kv, head_strategy="file", heads_file=str(path))
    np.testing.assert_allclose(again.weights, analysis.weights, rtol=1e-6)


def test_unknown_data_suffix_lists_the_valid_ones(analysis, tmp_path):
    with pytest.raises(ExportError) as info:
        export_data(analysis, tmp_path / "weights.xlsx")
    assert ".json" in str(info.value) and ".csv" in str(info.value) and ".npz" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".json", ".csv", ".npz"])
def test_failed_data_export_keeps_the_old_file(analysis, tmp_path, monkeypatch, suffix):
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"previous export")
    with pytest.raises(ExportError, match="does not exist"):
        export_data(analysis, tmp_path / "missing" / f"out{suffix}")
    monkeypatch.setattr(os, "replace", _refuse)
    with pytest.raises(ExportError, match="permission denied"):
        export_data(analysis, target)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def _refuse(src, dst):  # noqa: ANN001, ANN202
    raise PermissionError(13, "Permission denied")


# ----------------------------------------------------------------------------- figures

CAPTION = "tiny test vectors · 2 heads (random, seed 0, d_k=4) · scaled dot · softmax"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def figure(qtbot):  # noqa: ANN001, ANN201
    """A heatmap with token ticks next to a scatter plot, like the real views (never shown)."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    top = QWidget()
    layout = QHBoxLayout(top)
    heatmap = pg.GraphicsLayoutWidget()
    heatmap.setBackground("w")
    plot = heatmap.addPlot()
    weights = np.random.default_rng(0).random((5, 6))
    image = pg.ImageItem(weights, axisOrder="row-major", levels=(0, 1))
    image.setColorMap(pg.colormap.get("viridis"))
    plot.addItem(image)
    plot.getAxis("bottom").setTicks([[(i + 0.5, f"key{i}") for i in range(6)]])
    plot.getAxis("left").setTicks([[(i + 0.5, f"query{i}") for i in range(5)]])
    scatter = pg.PlotWidget(background="w")
    scatter.plot(*np.random.default_rng(1).random((2, 12)), pen=None, symbol="o", symbolBrush="r")
    layout.addWidget(heatmap)
    layout.addWidget(scatter)
    qtbot.addWidget(top)
    top.resize(640, 360)
    top.heatmap, top.image = heatmap, image
    return top


def _colours(image, rect=None) -> int:  # noqa: ANN001
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB32)
    if rect is not None:
        image = image.copy(rect)
    pixels = np.frombuffer(image.constBits(), np.uint32, image.sizeInBytes() // 4)
    return len(np.unique(pixels))


def _heatmap_rect(figure):  # noqa: ANN001, ANN202
    """Where the heatmap image is, in the figure widget's coordinates."""
    view, image = figure.heatmap, figure.image
    polygon = view.mapFromScene(image.mapRectToScene(image.boundingRect()))
    rect = polygon.boundingRect().adjusted(4, 4, -4, -4)
    return rect.translated(view.mapTo(figure, rect.topLeft()) - rect.topLeft())


def test_png_has_the_requested_size_and_real_content(figure, tmp_path):
    from PySide6.QtGui import QImage

    from explorer.export import export_figure

    path = tmp_path / "figure.png"
    export_figure(figure, path, size=(800, 450), caption=CAPTION, title="heads")
    image = QImage(str(path))
    assert (image.width(), image.height()) == (800, 450)
    assert _colours(image) > 20
    assert image.text("Title") == "heads" and image.text("Description") == CAPTION
    assert figure.size().width() == 640  # the widget is put back as it was


def test_png_heatmap_region_is_not_uniform(figure, tmp_path):
    from PySide6.QtGui import QImage

    from explorer.export import export_widget_png

    path = tmp_path / "plain.png"
    export_widget_png(figure, path)  # the widget's own size: coordinates map one to one
    image = QImage(str(path))
    assert (image.width(), image.height()) == (640, 360)
    assert _colours(image, _heatmap_rect(figure)) >= 10  # the 30 random cells, not one colour


def test_png_caption_band_and_scale(figure, tmp_path):
    from PySide6.QtGui import QImage

    from explorer.export import export_widget_png

    export_widget_png(figure, tmp_path / "plain.png")
    export_widget_png(figure, tmp_path / "captioned.png", caption=CAPTION, scale=2.0)
    plain, captioned = QImage(str(tmp_path / "plain.png")), QImage(str(tmp_path / "captioned.png"))
    assert captioned.width() == 2 * plain.width()
    band = captioned.height() - 2 * plain.height()
    assert 20 < band < 200
    dark = [
        captioned.pixelColor(x, y).lightness() < 100
        for x in range(0, captioned.width(), 2)
        for y in range(band)
    ]
    assert sum(dark) > 50  # text drawn in the band (on a light, not black, background)
    assert captioned.pixelColor(1, 1).lightness() > 200


def test_svg_is_vector_with_paths_and_text(figure, tmp_path):
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from explorer.export import export_figure

    path = tmp_path / "figure.svg"
    export_figure(figure, path, caption=CAPTION, title="heads")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "key3" in texts and "query4" in texts and "scaled dot" in texts
    assert len(list(root.iter(f"{SVG}path"))) >= 10  # scatter symbols as paths, not pixmaps
    assert len(list(root.iter(f"{SVG}polyline"))) > 10  # axes and ticks
    images = list(root.iter(f"{SVG}image"))
    assert len(images) == 1 and images[0].get("width") == "6"  # only the 6 x 5 heatmap cells
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    raster = QImage(renderer.defaultSize(), QImage.Format.Format_RGB32)
    raster.fill(QColor("magenta"))
    painter = QPainter(raster)
    renderer.render(painter)
    painter.end()
    assert _colours(raster) > 20


def test_pdf_is_one_vector_page(figure, tmp_path):
    from explorer.export import export_figure

    path = tmp_path / "figure.pdf"
    export_figure(figure, path, caption=CAPTION)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert data.count(b"/Type /Page\n") == 1
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert box and float(box[1]) == pytest.approx(640 * 72 / 96, abs=1)
    streams = re.findall(rb"stream\r?\n(.*?)endstream", data, re.S)
    content = b"".join(_inflate(s) for s in streams)
    assert content.count(b"BT") >= 10  # tick labels and caption as text
    assert content.count(b" l\n") > 50  # axes, ticks and symbols as lines
    # It renders: PDFium draws the page with the heatmap's many colours.
    import pypdfium2

    page = pypdfium2.PdfDocument(str(path))[0].render(scale=0.5).to_numpy()  # (h, w, 3)
    assert len(np.unique(page.reshape(-1, page.shape[-1]), axis=0)) > 20


def test_pdf_heatmap_cells_are_stored_losslessly(figure, tmp_path):
    """Qt's PDF writer stored images as JPEG (cells off by up to 21/255): every image stream
    must be lossless, and each cell in a PDF rendering must have the PNG's colour."""
    import pypdfium2
    from PySide6.QtGui import QImage

    from explorer.export import export_figure

    export_figure(figure, tmp_path / "cells.pdf")  # no caption: page pixels = widget pixels
    export_figure(figure, tmp_path / "cells.png")
    data = (tmp_path / "cells.pdf").read_bytes()
    assert b"/Subtype /Image" in data
    assert b"/DCTDecode" not in data
    png = QImage(str(tmp_path / "cells.png")).convertToFormat(QImage.Format.Format_RGB888)
    page = pypdfium2.PdfDocument(str(tmp_path / "cells.pdf"))[0].render(scale=96 / 72)
    pdf = page.to_numpy()[..., 2::-1]  # (h, w, 3): PDFium gives BGR
    assert pdf.shape[:2] == (png.height(), png.width())
    rect = _heatmap_rect(figure).adjusted(-4, -4, 4, 4)  # the whole image: 6 x 5 cells
    for row in range(5):
        for col in range(6):
            x = round(rect.left() + (col + 0.5) * rect.width() / 6)
            y = round(rect.top() + (row + 0.5) * rect.height() / 5)
            want = png.pixelColor(x, y)
            got = pdf[y, x].astype(int)
            assert np.abs(got - [want.red(), want.green(), want.blue()]).max() <= 2, (row, col)


def _inflate(stream: bytes) -> bytes:
    try:
        return zlib.decompress(stream)
    except zlib.error:
        return b""


def test_scene_export_and_export_mode_is_undone(figure, tmp_path):
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QGraphicsView

    from explorer.export import export_figure

    scene = figure.heatmap.scene()
    cache = figure.heatmap.cacheMode()
    export_figure(scene, tmp_path / "scene.png", scale=1.5)
    export_figure(figure, tmp_path / "again.svg")
    assert _colours(QImage(str(tmp_path / "scene.png"))) > 20
    assert all(getattr(item, "_exportOpts", False) is False for item in scene.items())
    assert figure.heatmap.cacheMode() == cache != QGraphicsView.CacheModeFlag.CacheNone


def test_shown_widget_export(figure, qtbot, tmp_path):
    from PySide6.QtGui import QImage

    from explorer.export import export_figure

    figure.show()
    qtbot.waitExposed(figure)
    export_figure(figure, tmp_path / "shown.png", size=(500, 300))
    assert QImage(str(tmp_path / "shown.png")).size().toTuple() == (500, 300)
    assert figure.isVisible()


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_failed_figure_export_keeps_the_old_file(figure, tmp_path, monkeypatch, suffix):
    from explorer.export import export_figure

    with pytest.raises(ExportError, match="does not exist"):
        export_figure(figure, tmp_path / "missing" / f"figure{suffix}")
    target = tmp_path / f"figure{suffix}"
    target.write_bytes(b"previous figure")
    monkeypatch.setattr(os, "replace", _refuse)
    with pytest.raises(ExportError, match="permission denied"):
        export_figure(figure, target)
    assert target.read_bytes() == b"previous figure"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_bad_figure_requests(figure, tmp_path):
    from explorer.export import export_figure

    with pytest.raises(ExportError, match=r"\.png, \.svg, \.pdf"):
        export_figure(figure, tmp_path / "figure.jpg")
    with pytest.raises(ExportError, match="too small"):
        export_figure(figure, tmp_path / "figure.png", size=(100, 10), caption=CAPTION)
    with pytest.raises(ExportError, match="positive"):
        export_figure(figure, tmp_path / "figure.png", size=(0, 10))
    assert list(tmp_path.iterdir()) == []


def test_figure_caption_states_the_settings(tiny_kv):
    from explorer.figures import figure_caption

    caption = figure_caption(run(tiny_kv, temperature=0.5))
    assert caption == (
        "tiny test vectors · 2 heads (random, seed 0, d_k=4) · scaled dot · softmax · T=0.50 · "
        "query 'drink'"
    )
    masked = figure_caption(run(tiny_kv, causal=True, head_strategy="split", n_heads=1))
    assert "1 head (split dimensions, d_k=8)" in masked and "mask: causal" in masked
