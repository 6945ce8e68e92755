"""Sentence mode in the window: every sentence shown says what its vector is made of, and what
the views show of a long sentence is whole or visibly cut ("…"), never cut mid-word."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QStyle
from qt_helpers import settle

from core.settings import Settings
from explorer.views.computation_dock import MATRICES_TAB
from explorer.views.token_chip import TokenChip

SENTENCES = ("I eat salmon", "I eat steak", "I drink red-wine", "I drink water",
             "I drink a white-wine mix")


def sentence_window(open_window, kv, size=(1400, 900), **changes):  # noqa: ANN001, ANN201
    settings = Settings(mode="sentences", query_sentence="I drink water with fine",
                        context_sentences=SENTENCES).updated(**changes)
    window = open_window(kv, settings, size)
    window.controller.flush()
    settle()
    return window


def test_the_glove_example_loses_no_word_and_each_chip_says_what_it_is_the_mean_of(
        open_window, glove):
    window = sentence_window(open_window, glove)
    # GloVe 6B has no "red-wine" or "white-wine", but their parts: nothing is left out.
    assert "Out of vocabulary" not in window.status.message.text()
    chips = window.token_strip.used_chips
    assert [c.token.text for c in chips] == list(SENTENCES)
    assert chips[2].toolTip().endswith("the mean of the vectors of: I, drink, red, wine")


def test_a_sentence_chip_names_the_words_left_out_of_its_mean(open_window, glove):
    window = sentence_window(open_window, glove, context_sentences=(
        "I eat salmon", "I drink qqzzx water"))
    chips = window.token_strip.used_chips
    assert [c.token.text for c in chips] == ["I eat salmon", "I drink qqzzx water"]
    tip = chips[1].toolTip()
    assert "the mean of the vectors of: I, drink, water" in tip
    assert "left out, not in the vectors: qqzzx" in tip
    assert "left out" not in chips[0].toolTip()
    assert chips[1].left_out_words() == ["qqzzx"] and chips[0].left_out_words() == []
    # ... and struck through where the sentence is shown: the chip paints a line over it.
    struck, plain = (chip_image(chips[1], token) for token in (
        chips[1].token, replace(chips[1].token, left_out=())))
    assert struck != plain


def chip_image(chip, token) -> QImage:  # noqa: ANN001
    """``chip`` painted alone with ``token``'s text and marks."""
    copy = TokenChip(token, None, chip.font, chip.font.key())
    copy.rect = QRect(0, 0, *copy.size)
    image = QImage(copy.rect.size(), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    copy.paint(painter)
    painter.end()
    return image


def test_the_lines_views_sentence_labels_fit_or_end_in_an_ellipsis(open_window, glove):
    window = sentence_window(open_window, glove)
    window.tabs.setCurrentWidget(window.lines)
    settle()
    lines = window.lines
    metrics = QFontMetricsF(lines._geometry()[4])  # the labels' font (it follows the rows)
    cut = 0
    for side, labels in (("q", [*SENTENCES, "I drink water with fine (query)"]),
                         ("k", list(SENTENCES))):
        for i, full in enumerate(labels):
            shown = lines.shown_label(side, i)
            rect = lines.label_rect(side, i)
            assert metrics.horizontalAdvance(shown) <= rect.width(), (side, shown)
            if shown != full:  # cut: visibly, keeping its start, the whole name on hover
                cut += 1
                assert "…" in shown and full.startswith(shown.split("…")[0]), shown
                assert lines.label_tooltip(rect.center()) == full
            else:
                assert lines.label_tooltip(rect.center()) == ""
    assert cut  # at 1400x900 the columns are narrower than the longest sentences



@pytest.mark.parametrize("size", [(1400, 900), (1920, 1080)])
def test_the_matrices_show_whole_numbers_or_a_heatmap_never_cut_numbers(open_window, glove,
                                                                         size):
    # Q is 12 x 6 here: at 1400x900 its columns were cut at the panel's edge ("-0.0774" read
    # "-0.07", a header "I eat salmo"), the scroll bar below the dock's fold.
    window = sentence_window(open_window, glove, size)
    dock = window.computation.dock
    dock.tabs.setCurrentIndex(MATRICES_TAB)
    window.controller.flush()
    settle()
    grids = 0
    for symbol in ("Q", "K", "V", "A", "A′"):
        panel = dock.matrices.panels[symbol]
        if panel.is_heatmap():  # too narrow for its numbers: colours, a number on hover
            assert panel.readout.isVisible() and panel.image.image.shape == \
                dock.matrices._data.by_symbol(symbol).array.shape
            continue
        grids += 1
        table, model = panel.table, panel.model
        header = table.horizontalHeader()
        assert header.length() <= table.viewport().width(), symbol  # no column past the edge
        metrics = QFontMetricsF(table.font())
        margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1
        for col in range(model.columnCount()):
            label = model.headerData(col, Qt.Orientation.Horizontal)
            assert model.headerData(col, Qt.Orientation.Horizontal,
                                    Qt.ItemDataRole.ToolTipRole) == label  # whole on hover
            room = header.sectionSize(col) - 2 * margin
            for row in range(model.rowCount()):
                text = model.cell_text(row, col)
                assert metrics.horizontalAdvance(text) <= room, (symbol, text)  # whole
                tip = model.data(model.index(row, col), Qt.ItemDataRole.ToolTipRole)
                assert tip.startswith(f"{symbol}[“") and f"“{label}”] = " in tip
    assert grids if size == (1920, 1080) else grids < 5  # wide: numbers; 1400: some maps
