"""Sentence mode in the window: every sentence shown says what its vector is made of, and what
the views show of a long sentence is whole or visibly cut ("…"), never cut mid-word."""

from __future__ import annotations

from qt_helpers import settle

from core.settings import Settings

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
