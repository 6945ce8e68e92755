"""One token of the token strip: a chip painted as a rounded box by the strip, and where a token
sits in its word (a trained model's word pieces are drawn joined).

A trained model's special tokens ([CLS], [SEP]) are faded and italic (still clickable); a word's
later pieces ("##ming", or a piece starting where the one before ends in the person's text) touch
the piece before, a thin divider between them, so "swim|ming" reads as one word of two pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

from core.vectors.tokens import Token
from explorer.views.palette import colour_at, lut_index, text_colour_at

__all__ = ["CHIP_PAD_Y", "Piece", "TokenChip", "chip_font", "word_pieces"]

_PAD_X, _PAD_Y = 6, 3
_UNSHADED = QColor("#f0f0f0")  # background of used tokens before any weights arrive
_CLEAR = QColor(0, 0, 0, 0)  # skipped tokens: no box
_BLACK = QColor("black")
_SKIPPED_TEXT = QColor("#9a9a9a")
_FADED = 0.45  # opacity of a special token: the model's, not the person's
_JOINED_PAD = 3  # padding at a side joined to the next piece of the same word
_TEXT_SIZES: dict[tuple[str, str], tuple[int, int]] = {}  # (font key, label) -> width, height
_MAX_TEXT_SIZES = 50_000
_DASHED = QPen(QColor("#888888"), 1, Qt.PenStyle.DashLine)  # a made-up vector's box
_OUTLINE = QPen(QColor("#d62728"), 2)  # the query's


def _text_size(font: QFont, key: str, label: str) -> tuple[int, int]:
    """The width of ``label`` and the line height in ``font`` (whose ``key()`` is ``key``),
    measured once per font and text: a widget's fontMetrics() makes a new QFontMetrics each
    call, and a 512-token layout asks every chip."""
    size = _TEXT_SIZES.get((key, label))
    if size is None:
        if len(_TEXT_SIZES) >= _MAX_TEXT_SIZES:  # a bound: every text ever shown is a lot
            _TEXT_SIZES.clear()
        metrics = QFontMetrics(font)
        size = _TEXT_SIZES[(key, label)] = (metrics.horizontalAdvance(label), metrics.height())
    return size


CHIP_PAD_Y = _PAD_Y  # above and below a chip's text


class Piece(NamedTuple):
    """Where a token sits in its word, and what its chip shows."""

    label: str  #: the chip's text
    index: int  #: 0 for a word's first piece
    count: int  #: the word's pieces
    word: str  #: the whole word, as typed


def word_pieces(tokens: Sequence[Token], pieces: bool | None = None) -> list[Piece]:
    """Each token's `Piece`. ``pieces``: the tokens are a trained model's word pieces (None:
    when some are special tokens or "##" pieces); then a piece that starts where the one before
    ends (or inside it: one character in several bytes) continues that word."""
    if pieces is None:
        pieces = any(t.source == "special" or (t.key or "").startswith("##") for t in tokens)
    words: list[list[str]] = []  # the labels of each word's pieces
    for i, token in enumerate(tokens):
        label = (token.text.strip() or "␣") if pieces else token.text
        before = tokens[i - 1] if i else token
        if pieces and i and "special" not in (token.source, before.source) and \
                before.start <= token.start <= before.end and not token.text[:1].isspace():
            words[-1].append("·" if token.start < before.end else label)  # ·: same character
        else:
            words.append([label])
    return [Piece(label, k, len(word), "".join(w for w in word if w not in ("·", "␣")) or label)
            for word in words for k, label in enumerate(word)]


def chip_font(base: QFont, source: str) -> QFont:
    """The font of a token from ``source`` in the strip's font ``base``: tokens without their own
    vocabulary vector are marked, italic when made up (zero or subword vector) or added by the
    model, struck through when left out of attention altogether."""
    font = QFont(base)
    font.setItalic(source in ("zero", "subword", "skipped", "special"))
    font.setStrikeOut(source == "skipped")
    return font


class TokenChip:
    """One token of the strip: what it shows, its shading and where the strip draws it.

    Not a widget: the strip lays out and paints every chip itself (512 chip widgets took ~20 ms
    to lay out and show for one long text, and every chip event went through Python).
    """

    def __init__(self, token: Token, piece: Piece | None, font: QFont, font_key: str) -> None:
        self.token = token
        self.piece = piece or Piece(token.text, 0, 1, token.text)
        self.position: int | None = None  # among the used tokens; None for a skipped one
        self.joined_left = self.piece.index > 0  # a later piece of the word before
        self.joined_right = self.piece.index < self.piece.count - 1
        self.pads = (_JOINED_PAD if self.joined_left else _PAD_X,  # less at a joined side
                     _JOINED_PAD if self.joined_right else _PAD_X)
        self.opacity = _FADED if token.source == "special" else 1.0
        self.background = _UNSHADED if token.used else _CLEAR  # shared: never changed in place
        self.text_colour = _BLACK if token.used else _SKIPPED_TEXT
        self.outlined = False
        self.weight: float | None = None  # the shading's weight, None when unshaded
        self.rect = QRect()  #: where the strip draws it, in the strip's coordinates
        self.set_font(font, font_key)

    def set_font(self, font: QFont, key: str) -> None:
        """Draw in ``font`` (whose ``key()`` is ``key``); the chip's size follows."""
        self.font = font  #: the chip's own font (see chip_font)
        width, height = _text_size(font, key, self.piece.label)
        self.size = (width + sum(self.pads), height + 2 * _PAD_Y)  #: its box, padded text

    def show_weight(self, weight: float | None, outlined: bool, index: int | None = None) -> bool:
        """Shade the chip by ``weight`` (None: unshaded) and outline it or not; True when its
        colours or outline changed (the strip repaints only those chips).
        ``index``: the weight's colour-table index, when the caller has it already."""
        self.weight = weight
        if weight is not None and index is None:
            index = lut_index(weight)
        if weight is None or index is None:  # (the strip shades used tokens only)
            background, text_colour = _UNSHADED, _BLACK
        else:  # shared colours: a chip never changes its colours in place
            background, text_colour = colour_at(index), text_colour_at(index)
        changed = (background, text_colour, outlined) != (self.background, self.text_colour,
                                                           self.outlined)
        self.background, self.text_colour, self.outlined = background, text_colour, outlined
        return changed

    def toolTip(self) -> str:  # noqa: N802 (the name Qt's widgets use)
        """The weight (when shaded), which piece of which word it is, and why the token is
        marked; written when asked for (the strip asks for the chip under the mouse)."""
        t, p = self.token, self.piece
        lines = [] if self.weight is None else [f"weight {self.weight:.3f}"]
        if t.source == "special":  # its reason would say the same
            return "\n".join([*lines, f"special token {t.key or t.text}: added by the model"])
        if p.count > 1:
            lines.append(f"word piece {p.index + 1} of '{p.word}'" + (
                f" (the tokenizer's {t.key})" if t.key and t.key != p.label else ""))
        return "\n".join([*lines, t.reason] if t.reason else lines)

    def left_out_words(self) -> list[str]:
        """The words struck through on the chip (left out of its vector)."""
        return [self.token.text[a:b] for a, b in self.token.left_out]

    def paint(self, painter: QPainter) -> None:
        """Draw the chip in its rect (the painter in the strip's coordinates)."""
        rect = self.rect
        painter.setOpacity(self.opacity)
        # A side joined to another piece is square and reaches the edge, so pieces touch. It is
        # drawn square, not cut by a clip: an SVG keeps no clip, and other renderers drew the
        # next piece's overhanging box over the end of this one's text.
        box = rect.adjusted(0 if self.joined_left else 1, 1, 0 if self.joined_right else -1, -1)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.background)
        painter.drawRoundedRect(box, 4, 4)
        if self.joined_left or self.joined_right:  # square off the joined side's corners
            middle = box.center().x()
            left = box.left() if self.joined_left else middle
            right = box.right() if self.joined_right else middle
            painter.drawRect(QRect(left, box.top(), right - left + 1, box.height()))
        if self.token.source in ("zero", "subword") and not self.outlined:  # a made-up vector
            painter.setPen(_DASHED)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box, 4, 4)
        if self.outlined:  # the query: a closed outline, a joined piece's too
            painter.setPen(_OUTLINE)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
        if self.joined_left:  # the thin divider between two pieces of a word
            c = self.text_colour  # in the text's colour, which stands out on any shade
            painter.setPen(QPen(QColor(c.red(), c.green(), c.blue(), 110), 1))
            painter.setClipRect(rect)  # on its own side of the edge (a vector file: both)
            painter.drawLine(rect.left(), box.top() + 3, rect.left(), box.bottom() - 3)
            painter.setClipping(False)
        painter.setPen(self.text_colour)
        painter.setFont(self.font)
        # Centred between the paddings (the rect itself when no side is joined).
        text_box = rect.adjusted(self.pads[0] - _PAD_X, 0, _PAD_X - self.pads[1], 0)
        painter.drawText(text_box, Qt.AlignmentFlag.AlignCenter, self.piece.label)
        if self.token.left_out and self.piece.label == self.token.text:
            self._strike_left_out(painter, text_box)

    def _strike_left_out(self, painter: QPainter, text_box: QRect) -> None:
        """Strike through the words left out of the token's vector (a sentence's unknown
        words): the chip shows the whole sentence, and this shows what its mean lacks."""
        metrics = QFontMetrics(self.font)
        label = self.piece.label
        left = text_box.left() + (text_box.width() - metrics.horizontalAdvance(label)) / 2
        baseline = text_box.top() + (text_box.height() - metrics.height()) / 2 + metrics.ascent()
        y = baseline - metrics.strikeOutPos()
        painter.setPen(QPen(self.text_colour, max(1, metrics.lineWidth())))
        for start, end in self.token.left_out:
            x0 = left + metrics.horizontalAdvance(label[:start])
            x1 = left + metrics.horizontalAdvance(label[:end])
            painter.drawLine(QPointF(x0, y), QPointF(x1, y))
