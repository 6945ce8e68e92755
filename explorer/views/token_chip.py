"""One token of the token strip: a chip painted as a rounded box, and where a token sits in
its word (a trained model's word pieces are drawn joined).

A trained model's special tokens ([CLS], [SEP]) are faded and italic (still clickable); a word's
later pieces ("##ming", or a piece starting where the one before ends in the person's text) touch
the piece before, a thin divider between them, so "swim|ming" reads as one word of two pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.vectors.tokens import Token
from explorer.views.palette import colour_at, lut_index, text_colour_at

__all__ = ["CHIP_PAD_Y", "Piece", "TokenChip", "word_pieces"]

_PAD_X, _PAD_Y = 6, 3
_UNSHADED = QColor("#f0f0f0")  # background of used tokens before any weights arrive
_CLEAR = QColor(0, 0, 0, 0)  # skipped tokens: no box
_BLACK = QColor("black")
_SKIPPED_TEXT = QColor("#9a9a9a")
_FADED = 0.45  # opacity of a special token: the model's, not the person's
_JOINED_PAD = 3  # padding at a side joined to the next piece of the same word
_TEXT_SIZES: dict[tuple[str, str], tuple[int, int]] = {}  # (font key, label) -> width, height
_MAX_TEXT_SIZES = 50_000


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


class TokenChip(QWidget):
    """One token, painted as a rounded box: cheaper to recolour than a style-sheeted QLabel."""

    clicked = Signal()

    def __init__(self, token: Token, parent: QWidget | None = None,
                 piece: Piece | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.position: int | None = None  # among the used tokens; None for a skipped one
        self._size: QSize | None = None  # see sizeHint
        self._font_key: str | None = None  # self.font().key(), None until asked after a change
        self.set_token(token, piece)

    def set_token(self, token: Token, piece: Piece | None = None) -> None:
        """Show ``token`` (unshaded): a new sentence reuses the chips it has, since making and
        deleting widgets cost most of a 512-token sentence change. The same token as before
        is left as it is, shading and all: an edit changes a few tokens, and the strip's
        ``set_weights`` that follows every ``set_tokens`` shades the chips anew."""
        piece = piece or Piece(token.text, 0, 1, token.text)
        before: Token | None = getattr(self, "token", None)
        if before == token and self.piece == piece:
            return
        resized = before is None or self.piece != piece or before.source != token.source
        self.token = token
        self.piece = piece
        self.joined_left = self.piece.index > 0  # a later piece of the word before
        self.joined_right = self.piece.index < self.piece.count - 1
        self._pads = (_JOINED_PAD if self.joined_left else _PAD_X,  # less at a joined side
                      _JOINED_PAD if self.joined_right else _PAD_X)
        self.opacity = _FADED if token.source == "special" else 1.0
        self.background = _UNSHADED if token.used else _CLEAR  # shared: never changed in place
        self.text_colour = _BLACK if token.used else _SKIPPED_TEXT
        self.outlined = False
        self.weight: float | None = None  # the shading's weight, None when unshaded
        self._shade: tuple[int | None, bool] | None = None  # what the last paint request showed
        # Font, cursor and size only when they change: each is an event or a layout
        # invalidation, and a reused chip mostly keeps them (512 chips: ~10 ms).
        if before is None or before.source != token.source:
            font = QFont(self.font())
            # Tokens without their own vocabulary vector are marked: italic when made up (zero
            # or subword vector), struck through when left out of attention altogether.
            font.setItalic(token.source in ("zero", "subword", "skipped", "special"))
            font.setStrikeOut(token.source == "skipped")
            self.setFont(font)
        if before is None or before.used != token.used:
            if token.used:
                self.setCursor(Qt.CursorShape.PointingHandCursor)
            else:
                self.unsetCursor()
        if resized:
            self._size = None
            self.updateGeometry()  # its text, and so its size, may have changed
        self.update()

    def show_weight(self, weight: float | None, outlined: bool, index: int | None = None) -> None:
        """Shade the chip by ``weight`` (None: unshaded) and outline it or not; it repaints
        only when its colours or outline change (a slider drag moves most weights a little).
        ``index``: the weight's colour-table index, when the caller has it already."""
        self.weight = weight
        if weight is not None and index is None:
            index = lut_index(weight)
        shade = (None if weight is None else index, outlined)
        if shade == self._shade:
            return
        self._shade = shade
        if weight is None or index is None:
            self.background, self.text_colour = _UNSHADED, _BLACK
        else:  # shared colours: a chip never changes its colours in place
            self.background, self.text_colour = colour_at(index), text_colour_at(index)
        self.outlined = outlined
        self.update()

    def toolTip(self) -> str:  # noqa: N802 (QWidget's name)
        """The weight (when shaded), which piece of which word it is, and why the token is
        marked; written when asked for, not on every update (setToolTip on 512 chips cost
        more than their repaint). The strip shows it: a chip has no tooltip of its own, so
        Qt hands the hover on to the strip (a Python ``event`` on every chip had every
        event of 512 chips pass through Python, ~2,000 for one new sentence)."""
        t, p = self.token, self.piece
        lines = [] if self.weight is None else [f"weight {self.weight:.3f}"]
        if t.source == "special":  # its reason would say the same
            return "\n".join([*lines, f"special token {t.key or t.text}: added by the model"])
        if p.count > 1:
            lines.append(f"word piece {p.index + 1} of '{p.word}'" + (
                f" (the tokenizer's {t.key})" if t.key and t.key != p.label else ""))
        return "\n".join([*lines, t.reason] if t.reason else lines)

    def sizeHint(self) -> QSize:  # noqa: N802
        # Kept until the text or the font changes: a 512-token layout pass asks every chip
        # (twice per new sentence, minimumSizeHint too).
        if self._size is None:
            font = self.font()
            if self._font_key is None:
                self._font_key = font.key()
            width, height = _text_size(font, self._font_key, self.piece.label)
            self._size = QSize(width + sum(self._pads), height + 2 * _PAD_Y)
        return QSize(self._size)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.sizeHint()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.FontChange:  # its own, or the strip's passed down
            self._size = self._font_key = None
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setOpacity(self.opacity)
        # A side joined to another piece runs past the edge: its corners are cut, pieces touch.
        box = self.rect().adjusted(-_PAD_X if self.joined_left else 1, 1,
                                   _PAD_X if self.joined_right else -1, -1)
        dashed = self.token.source in ("zero", "subword") and not self.outlined
        painter.setPen(QPen(QColor("#888888"), 1, Qt.PenStyle.DashLine) if dashed
                       else Qt.PenStyle.NoPen)
        painter.setBrush(self.background)
        painter.drawRoundedRect(box, 4, 4)
        if self.outlined:  # the query: a closed outline, a joined piece's too
            painter.setPen(QPen(QColor("#d62728"), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(self.rect().adjusted(1, 1, -1, -1), 4, 4)
        if self.joined_left:  # the thin divider between two pieces of a word
            c = self.text_colour  # in the text's colour, which stands out on any shade
            painter.setPen(QPen(QColor(c.red(), c.green(), c.blue(), 110), 1))
            painter.drawLine(0, box.top() + 3, 0, box.bottom() - 3)
        painter.setPen(self.text_colour)
        # Centred between the paddings (the rect itself when no side is joined).
        text_box = self.rect().adjusted(self._pads[0] - _PAD_X, 0, _PAD_X - self._pads[1], 0)
        painter.drawText(text_box, Qt.AlignmentFlag.AlignCenter, self.piece.label)
        painter.end()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        inside = self.rect().contains(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and inside:
            self.clicked.emit()
        super().mouseReleaseEvent(event)
