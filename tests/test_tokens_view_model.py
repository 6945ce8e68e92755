"""The token strip with a trained model's word pieces (pytest-qt, offscreen): special tokens
faded, a word's pieces joined into one chip of several parts, clicks still by token position;
word vectors' tokens exactly as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import resvg_py
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QImage
from qt_helpers import click_chip

from core.vectors.tokens import EmbeddedSentence, Token, embed_sentence
from explorer.export import export_widget_png, export_widget_svg
from explorer.views.palette import weight_colour
from explorer.views.tokens_view import TokenStrip, word_pieces

MODELS = Path(__file__).parent / "data" / "transformer"
TEXT = "Naïve café swimming."  # tiny BERT: [CLS] n ##aive ca ##f ##e swimming . [SEP]


def model_sentence(folder: str, text: str) -> EmbeddedSentence:
    """A model's tokens as core/model_pipeline.py's ``_sentence`` makes them: the person's
    characters and offsets, the tokenizer's string as the key, "special" for [CLS]/[SEP]."""
    from core.transformer import load_model

    run = load_model(str(MODELS / folder)).run(text)
    tokens = []
    for i, (start, end) in enumerate(run.encoding.offsets):
        special = bool(run.special[i])
        tokens.append(Token(run.token_texts[i], int(start), int(end), run.tokens[i],
                            "special" if special else "vocab",
                            "a special token the model adds" if special else ""))
    x = run.hidden_states[0]  # (n, d)
    return EmbeddedSentence(tuple(tokens), x, ())


def show_strip(qtbot, tokens, pieces=None, width=600):
    strip = TokenStrip()
    qtbot.addWidget(strip)
    strip.resize(width, 120)
    strip.show()
    qtbot.waitExposed(strip)
    strip.set_tokens(tokens, pieces)
    strip.resize(width, strip.heightForWidth(width))
    qtbot.waitUntil(lambda: strip.chips[-1].rect.x() > 0)
    return strip


@pytest.fixture
def bert():
    return model_sentence("tiny-bert", TEXT)


def test_word_pieces_are_joined_into_words(qtbot, bert):
    strip = show_strip(qtbot, bert.tokens)
    chips = strip.chips
    assert [c.token.key for c in chips] == ["[CLS]", "n", "##aive", "ca", "##f", "##e",
                                            "swimming", ".", "[SEP]"]
    assert [c.joined_left for c in chips] == [False, False, True, False, True, True, False,
                                              True, False]  # "." touches "swimming" in the text
    assert [c.piece.word for c in chips[1:6]] == ["Naïve"] * 2 + ["café"] * 3
    assert [c.piece.label for c in chips] == [t.text for t in bert.tokens]  # the person's own
    for left, right in zip(chips, chips[1:], strict=False):
        gap = right.rect.x() - left.rect.right() - 1
        assert left.rect.y() == right.rect.y()  # one line at this width
        assert gap == (0 if right.joined_left else 4), (left.token.key, right.token.key)
    # The divider, not a gap: the column where two pieces meet is painted (no strip background).
    image = strip.grab().toImage()
    scale = image.width() / strip.width()
    y = int((chips[2].rect.y() + chips[2].rect.height() // 2) * scale)
    joint, gap = chips[2].rect.x(), chips[3].rect.x() - 2  # "n|aive"; between "Naïve", "café"
    background = image.pixelColor(int(gap * scale), y)
    assert image.pixelColor(int(joint * scale), y) != background
    assert image.pixelColor(int((joint - 1) * scale), y) != background


def test_special_tokens_are_faded_italic_and_clickable(qtbot, bert):
    strip = show_strip(qtbot, bert.tokens)
    cls, first, sep = strip.chips[0], strip.chips[1], strip.chips[-1]
    assert cls.opacity < 1 and sep.opacity < 1 and first.opacity == 1
    assert cls.font.italic() and not first.font.italic()
    assert cls.toolTip() == "special token [CLS]: added by the model"
    strip.set_weights(np.full(9, 1 / 9), 0)  # [CLS] and "n" get the same shade
    assert cls.toolTip().startswith("weight 0.111\nspecial token [CLS]")
    image = strip.grab(cls.rect).toImage()  # faded: the shade is mixed with what lies under it
    centre = image.pixelColor(4, image.height() // 2)
    assert centre != weight_colour(1 / 9)
    plain = strip.grab(first.rect).toImage().pixelColor(4, image.height() // 2)
    assert plain == weight_colour(1 / 9)
    with qtbot.waitSignal(strip.token_clicked, timeout=1000) as blocker:
        click_chip(qtbot, strip, cls)
    assert blocker.args == [0]


def test_clicks_select_the_token_index_of_each_piece(qtbot, bert):
    strip = show_strip(qtbot, bert.tokens)
    for index in (2, 4, 5, 7, 8):
        with qtbot.waitSignal(strip.token_clicked, timeout=1000) as blocker:
            click_chip(qtbot, strip, strip.used_chips[index])
        assert blocker.args == [index]
    strip.set_weights(np.linspace(0.02, 0.2, 9), 4)  # the query is the piece "##f"
    assert [c.outlined for c in strip.used_chips] == [i == 4 for i in range(9)]


def test_piece_tooltips_name_the_word(qtbot, bert):
    strip = show_strip(qtbot, bert.tokens)
    aive, swimming = strip.chips[2], strip.chips[6]
    assert aive.toolTip() == "word piece 2 of 'Naïve' (the tokenizer's ##aive)"
    assert strip.chips[1].toolTip() == "word piece 1 of 'Naïve' (the tokenizer's n)"
    assert swimming.toolTip().startswith("word piece 1 of 'swimming.'")
    strip.set_weights(np.full(9, 1 / 9), None)
    assert aive.toolTip() == "weight 0.111\nword piece 2 of 'Naïve' (the tokenizer's ##aive)"


def test_a_word_wraps_as_a_whole(qtbot):
    tokens = model_sentence("tiny-bert", "unbelievable unbelievable unbelievable").tokens
    strip = show_strip(qtbot, tokens, width=260)
    lines: dict[str, set[int]] = {}
    words = 0
    for chip in strip.chips:
        words += not chip.joined_left
        lines.setdefault(f"{words}", set()).add(chip.rect.y())
    assert len({y for ys in lines.values() for y in ys}) >= 2  # it did wrap
    assert all(len(ys) == 1 for ys in lines.values())  # but never inside a word


def test_gpt2_pieces_join_when_told_and_drop_the_leading_space(qtbot):
    sentence = model_sentence("tiny-gpt2", "The animal  Naïve")
    assert not any(t.source == "special" for t in sentence.tokens)  # nothing to guess from
    assert all(p.count == 1 for p in word_pieces(sentence.tokens))
    strip = show_strip(qtbot, sentence.tokens, pieces=True)
    labels = [c.piece.label for c in strip.chips]
    assert labels == ["The", "an", "imal", "␣", "␣", "N", "a", "ï", "·", "v", "e"]
    assert [c.piece.word for c in strip.chips[1:3]] == ["animal", "animal"]
    assert strip.chips[5].piece.word == "Naïve"  # the space piece and both bytes of "ï"
    assert strip.chips[8].toolTip() == "word piece 5 of 'Naïve' (the tokenizer's ¯)"
    assert strip.chips[2].rect.x() == strip.chips[1].rect.right() + 1


def test_word_vector_tokens_are_never_joined(qtbot, tiny_kv):
    sentence = embed_sentence("the cat sat on the street.", tiny_kv, "zero")
    assert sentence.tokens[-1].start == sentence.tokens[-2].end  # "street" "." touch
    pieces = word_pieces(sentence.tokens)
    assert [p.label for p in pieces] == [t.text for t in sentence.tokens]
    assert all(p.count == 1 for p in pieces)
    strip = show_strip(qtbot, sentence.tokens)
    assert not any(c.joined_left or c.joined_right for c in strip.chips)
    assert all(c.opacity == 1 for c in strip.chips)
    gaps = {b.rect.x() - a.rect.right() - 1 for a, b in zip(strip.chips, strip.chips[1:],
                                                             strict=False)}
    assert gaps == {4}


def test_the_model_pipelines_tokens_click_to_their_rows(qtbot):
    from core.model_pipeline import ModelPipeline
    from core.settings import Settings
    from core.transformer import load_model

    pipeline = ModelPipeline(load_model(str(MODELS / "tiny-bert")))
    a = pipeline.run(Settings(source="model", sentence=TEXT, query="swimming", n_heads=4))
    strip = show_strip(qtbot, a.sentence.tokens)
    assert len(strip.used_chips) == len(a.col_labels)
    assert strip.chips[4].joined_left and strip.chips[0].opacity < 1
    strip.set_weights(a.query_weights.mean(axis=0), a.query.position)
    assert a.row_labels[a.query_row] == "swimming"
    assert strip.used_chips[a.query.position].outlined
    with qtbot.waitSignal(strip.token_clicked, timeout=1000) as blocker:
        click_chip(qtbot, strip, strip.used_chips[5])
    assert a.col_labels[blocker.args[0]] == "##é"


def test_joined_pieces_look_the_same_in_another_renderer_of_the_svg(qtbot, bert, tmp_path):
    """A later piece's box ran past its left edge and a clip cut it on screen, but an SVG keeps
    no clip: in every other renderer (resvg, librsvg, browsers) the box of "." covered the end
    of "swimming" ("swimmin|."). The end of each piece before a join keeps its ink."""
    strip = show_strip(qtbot, bert.tokens)
    svg, png = tmp_path / "strip.svg", tmp_path / "strip.png"
    export_widget_svg(strip, svg)
    export_widget_png(strip, png)
    expected = QImage(str(png))
    drawn = QImage.fromData(QByteArray(resvg_py.svg_to_bytes(
        svg_path=str(svg), width=expected.width(), height=expected.height())), "PNG")

    def grey(image: QImage) -> np.ndarray:
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        rgba = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
        rgba = rgba[:, :image.width()].astype(np.float64)
        alpha = rgba[..., 3:] / 255
        return (rgba[..., :3] * alpha + 255 * (1 - alpha)).mean(axis=-1)

    drawn_grey, expected_grey = grey(drawn), grey(expected)
    for chip in strip.chips:
        if chip.joined_left:  # the 6 pixels left of a join: the end of the piece before it
            rect = chip.rect
            area = (slice(rect.top() + 4, rect.bottom() - 3), slice(rect.left() - 6, rect.left()))
            ink = int((expected_grey[area] < 128).sum())  # dark text pixels, as Qt draws them
            assert ink > 0, chip.piece.label
            # Before: none at all in resvg (the box over them), 10-13 in Qt's PNG.
            assert (drawn_grey[area] < 128).sum() >= 0.6 * ink, chip.piece.label
