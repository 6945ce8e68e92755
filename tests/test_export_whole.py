"""Figures of the explorer view from the window: every head and token (no pager, no scroll bar),
never the previous text's result while a new one computes, the caption of the head shown."""

from __future__ import annotations

import pytest
from conftest import TINY_WORDS
from PySide6.QtGui import QImage
from test_model_window import open_tiny

from core.settings import Settings
from explorer.commands import export_actions

HEADS = 8


@pytest.fixture
def crowded(open_window, tiny_kv):
    """A small window whose explorer view pages its small maps and scrolls its token strip."""
    window = open_window(tiny_kv, Settings(n_heads=HEADS), size=(900, 600))
    window.apply(sentence=" ".join(TINY_WORDS * 3))
    window.controller.flush()
    return window


def _strip_hides_tokens(window) -> bool:  # noqa: ANN001
    return window.token_strip.height() > window.token_strip.parentWidget().height()


def test_explorer_figure_shows_every_head_and_token(crowded, tmp_path, monkeypatch):
    """At the view's own size the figure had "heads 1-5 of 8" with the pager's arrows and a
    token strip cut to three lines with a scroll bar (the CLI's larger figure had them all)."""
    window = crowded
    assert window.heatmaps.pages.isVisible() and len(window.heatmaps.shown_heads()) < HEADS
    assert _strip_hides_tokens(window)
    sizes = (window.size(), window.main_splitter.sizes(), window.views_splitter.sizes())
    drawn = []

    def spy(source, path, **options):  # noqa: ANN001, ANN003, ANN202 (the real writer runs)
        drawn.append((window.heatmaps.shown_heads(), window.heatmaps.pages.isVisible(),
                      _strip_hides_tokens(window)))
        real(source, path, **options)

    real = export_actions.export_figure
    monkeypatch.setattr(export_actions, "export_figure", spy)
    stated = window.exports.figure_size("explorer", 1.0)  # what the dialog says it will write
    path = tmp_path / "explorer.png"
    window.exports.write_figure("explorer", str(path))
    assert drawn == [(range(HEADS), False, False)]
    image = QImage(str(path))
    assert (image.width(), image.height()) == (stated.width(), stated.height())
    assert image.height() > window.main_splitter.height()  # laid out larger than on screen
    # The window is as the person left it.
    assert (window.size(), window.main_splitter.sizes(), window.views_splitter.sizes()) == sizes
    assert window.heatmaps.pages.isVisible() and _strip_hides_tokens(window)


def test_exporting_while_a_long_text_computes_is_refused(open_window, tiny_kv, qtbot, tmp_path,
                                                         errors):
    """It wrote the previous sentence's figure as if it were the new one's."""
    window = open_window(tiny_kv, size=(1400, 900))
    open_tiny(window, qtbot)
    window.controller.sync_tokens = 16  # the tiny model takes 64 tokens: "long" is past 16
    long_text = " ".join(["the animal was not swimming"] * 8)
    window.apply(sentence=long_text)
    window.controller.flush()
    assert window.controller.jobs.busy("forward")
    figure, data = tmp_path / "during.png", tmp_path / "during.json"
    assert not window.exports.export_target("explorer", str(figure))
    assert not window.exports.export_data_to(str(data))
    assert not figure.exists() and not data.exists()
    assert len(errors) == 2 and all("Still computing" in message for message in errors)
    qtbot.waitUntil(lambda: not window.controller.jobs.busy("forward"), timeout=30000)
    assert window.exports.export_target("explorer", str(figure))
    assert window.controller.analysis.settings.sentence == long_text  # the new text's figure


def test_caption_names_the_head_the_views_show(open_window, tiny_kv, qtbot, tmp_path):
    """Focusing a head recomputes nothing, so the caption (from the analysis) still said
    "mean of heads" under the large map of head 3."""
    window = open_window(tiny_kv, size=(1400, 900))
    open_tiny(window, qtbot)
    window.apply(selected_head=2)
    window.controller.flush()
    path = tmp_path / "head3.png"
    window.exports.write_figure("explorer", str(path))
    caption = QImage(str(path)).text("Description")
    assert "layer 2, head 3" in caption and "mean of heads" not in caption
