"""The sentence as a strip of clickable tokens, each shaded by how much the query attends to it.

The chips are built once per ``set_tokens`` (the sentence changes rarely); ``set_weights`` only
changes each chip's colours and asks the chips whose colour changed to repaint (the tooltip is
written when the person hovers), so a slider drag stays cheap.
The strip is as tall as its wrapped lines; inside a QScrollArea it also keeps that area exactly
that tall (up to MAX_FITTED_LINES lines, then it scrolls), so no empty band is left under it.

A trained model's special tokens ([CLS], [SEP]) are faded and italic (still clickable); a word's
later pieces ("##ming", or a piece starting where the one before ends in the person's text) touch
the piece before, a thin divider between them, so "swim|ming" reads as one word of two pieces.

The wrapping itself is `explorer.views.flow_layout.FlowLayout`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, cast

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolTip,
    QWidget,
)

from core.vectors.tokens import Token
from explorer.views.flow_layout import FlowLayout
from explorer.views.palette import lut_index, lut_indices, text_colour_on, weight_colour

_PAD_X, _PAD_Y, _SPACING = 6, 3, 4
_UNSHADED = QColor("#f0f0f0")  # background of used tokens before any weights arrive
_SKIPPED_TEXT = QColor("#9a9a9a")
_FADED = 0.45  # opacity of a special token: the model's, not the person's
_JOINED_PAD = 3  # padding at a side joined to the next piece of the same word
MAX_FITTED_LINES = 3
"""A longer sentence scrolls: the enclosing scroll area grows to at most this many lines."""
READY_CHIPS = 512
"""Chips the strip makes ahead of need, a few at a time while the window is idle, so the first
512-token text (a trained model's longest) finds them made: making 480 chips at once held the
window 60-70 ms."""
_CHIPS_PER_IDLE_TURN = 32  # ~4 ms of the event loop each
_IDLE_START_MS = 1000  # after the first sentence is shown: start-up and first paints come first


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
        self.background = _UNSHADED if token.used else QColor(0, 0, 0, 0)
        self.text_colour = QColor("black") if token.used else _SKIPPED_TEXT
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
        if weight is None:
            self.background, self.text_colour = QColor(_UNSHADED), QColor("black")
        else:
            self.background, self.text_colour = weight_colour(weight), text_colour_on(weight)
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
            metrics = self.fontMetrics()
            self._size = QSize(metrics.horizontalAdvance(self.piece.label) + sum(self._pads),
                               metrics.height() + 2 * _PAD_Y)
        return QSize(self._size)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.sizeHint()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.FontChange:  # its own, or the strip's passed down
            self._size = None
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


class TokenStrip(QWidget):
    """The sentence as wrapped, clickable tokens shaded by the query's attention weights.

    Signals
    -------
    token_clicked(int)
        The position among the *used* tokens of a clicked token (skipped tokens do not emit).
    """

    token_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = FlowLayout(self)
        self._chips: list[TokenChip] = []  # every token, skipped ones included
        self._used_chips: list[TokenChip] = []  # the used ones, in order: index = position
        self._spare_chips: list[TokenChip] = []  # hidden, out of the layout, for reuse
        self._readying = False  # making READY_CHIPS ahead has begun
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)  # its height is its wrapped lines, for the width it gets
        self.setSizePolicy(policy)
        self._splitter_fit_pending = False
        self._fitted = 0  # the height the enclosing scroll area should have
        # A click on a chip (which takes no focus) focuses the strip, not the scroll area
        # around it, which would take the arrow keys for scrolling: the strip hands them on
        # (explorer.keyboard) to move the query and step the heads.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    @property
    def chips(self) -> list[TokenChip]:
        """The chip widgets of all tokens, in sentence order (for tests and export)."""
        return list(self._chips)

    @property
    def used_chips(self) -> list[TokenChip]:
        """The chips of the used tokens; index i is used-token position i."""
        return list(self._used_chips)

    def set_tokens(self, tokens: Sequence[Token], pieces: bool | None = None) -> None:
        """Show a new sentence: all tokens, skipped and made-up ones marked. ``pieces``: the
        tokens are a trained model's word pieces, joined into words (None: when some are
        special tokens or "##" pieces; a GPT-2 text has neither, so say True)."""
        # The chips this sentence has no token for are kept for a longer one: making 480
        # chips again took ~0.1 s. (The layout's chips are self._chips, in order.)
        for chip in self._layout.take_widgets_from(len(tokens)):
            chip.hide()
            self._spare_chips.append(chip)
        kept, self._chips, self._used_chips = self._chips[:len(tokens)], [], []
        # Off while the chips change: each chip shown would lay the whole strip out again
        # (512 tokens: 1.3 s); one layout at the end instead.
        self._layout.setEnabled(False)
        added: list[TokenChip] = []
        for i, (token, piece) in enumerate(zip(tokens, word_pieces(tokens, pieces),
                                               strict=True)):
            if i < len(kept):
                chip = kept[i]
                chip.set_token(token, piece)
            else:
                chip = self._new_chip(token, piece)
                added.append(chip)
            chip.position = len(self._used_chips) if token.used else None
            if token.used:
                self._used_chips.append(chip)
            self._chips.append(chip)
        if not self._readying:
            self._readying = True
            QTimer.singleShot(_IDLE_START_MS, self, self._make_ready_chips)
        self._layout.add_widgets(added)
        for chip in added:
            chip.show()
        self._layout.setEnabled(True)
        self._layout.invalidate()
        self._layout.activate()
        self.updateGeometry()
        self._fit_scroll_area()

    def _make_ready_chips(self) -> None:
        """Make a few spare chips; again in a later turn until READY_CHIPS exist."""
        missing = READY_CHIPS - len(self._chips) - len(self._spare_chips)
        for _ in range(min(missing, _CHIPS_PER_IDLE_TURN)):
            chip = self._made_chip(Token("", 0, 0, None, "vocab"), None)
            chip.hide()
            self._spare_chips.append(chip)
        if missing > _CHIPS_PER_IDLE_TURN:
            QTimer.singleShot(0, self, self._make_ready_chips)

    def _made_chip(self, token: Token, piece: Piece | None) -> TokenChip:
        chip = TokenChip(token, self, piece)
        chip.clicked.connect(lambda c=chip: self._on_chip_clicked(c.position))
        return chip

    def _new_chip(self, token: Token, piece: Piece) -> TokenChip:
        """A chip for ``token``: a spare one from a longer sentence, or a new one."""
        if self._spare_chips:
            chip = self._spare_chips.pop()
            chip.set_token(token, piece)
            return chip
        return self._made_chip(token, piece)

    def set_weights(self, weights: np.ndarray | None, query_position: int | None) -> None:
        """Shade the used tokens by ``weights`` (one per used token; None: unshaded) and outline
        the query token. A length mismatch (a sentence change still on its way) also clears the
        shading instead of colouring the wrong tokens."""
        if weights is not None and len(weights) != len(self._used_chips):
            weights = None
        self.blockSignals(True)  # recolouring is not something the person did
        if weights is None:
            for i, chip in enumerate(self._used_chips):
                chip.show_weight(None, i == query_position)
        else:  # colour indices in one NumPy step, not one lut_index call per chip
            values = np.asarray(weights, dtype=float)
            for i, (chip, weight, index) in enumerate(zip(
                    self._used_chips, values.tolist(), lut_indices(values).tolist(), strict=True)):
                chip.show_weight(weight, i == query_position, index)
        self.blockSignals(False)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:  # passed on by the chip under the mouse
            help_event = cast(QHelpEvent, event)
            chip = self.childAt(help_event.pos())
            text = chip.toolTip() if isinstance(chip, TokenChip) else ""
            if text:
                QToolTip.showText(help_event.globalPos(), text, chip)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        """The height of the tokens wrapped to ``width``; at least one line, even when empty."""
        margins = self._layout.contentsMargins()
        one_line = _chip_height(self) + margins.top() + margins.bottom()
        return max(self._layout.heightForWidth(width), one_line)

    def sizeHint(self) -> QSize:  # noqa: N802
        width = max(self.width(), self._layout.minimumSize().width())
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._layout.minimumSize().width(), self.heightForWidth(self.width()))

    def fitted_height(self, width: int) -> int:
        """How tall a scroll area around the strip should be (content, frame excluded)."""
        margins = self._layout.contentsMargins()
        most = (MAX_FITTED_LINES * (_chip_height(self) + _SPACING) - _SPACING
                + margins.top() + margins.bottom())
        return min(self.heightForWidth(width), most)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():  # rewrapped: maybe another height
            self._fit_scroll_area()

    def _scroll_area(self) -> QScrollArea | None:
        """The QScrollArea showing this strip, if it is in one (its viewport is our parent)."""
        viewport = self.parentWidget()
        area = viewport.parentWidget() if viewport is not None else None
        return area if isinstance(area, QScrollArea) and area.widget() is self else None

    def _fit_scroll_area(self) -> None:
        """Make the enclosing scroll area exactly as tall as the wrapped tokens (up to a cap):
        its minimum is one line (a small window can still squeeze it), its maximum the whole
        content, so no empty band is left under the last line; a QSplitter holding it is then
        moved to the fitted height (all lines, up to MAX_FITTED_LINES)."""
        area = self._scroll_area()
        if area is None:
            return
        frame = 2 * area.frameWidth()
        width = area.viewport().width() if self.width() <= 0 else self.width()
        margins = self._layout.contentsMargins()
        low = _chip_height(self) + margins.top() + margins.bottom() + frame
        high = max(self.heightForWidth(width) + frame, low)
        self._fitted = self.fitted_height(width) + frame
        if (area.minimumHeight(), area.maximumHeight()) != (low, high):
            area.setMinimumHeight(low)
            area.setMaximumHeight(high)
        if not self._splitter_fit_pending:  # after the current layout pass (and a window's
            self._splitter_fit_pending = True  # showEvent that sets splitter sizes of its own)
            QTimer.singleShot(0, self, self._fit_splitter)

    def _fit_splitter(self) -> None:
        """Move the handle of a vertical QSplitter holding the scroll area to the fitted height:
        a QSplitter does not shrink a slot to its widget's maximum by itself, and a shorter
        sentence would leave an empty band under the area."""
        self._splitter_fit_pending = False
        area = self._scroll_area()
        splitter = area.parentWidget() if area is not None else None
        if area is None or not isinstance(splitter, QSplitter) \
                or splitter.orientation() != Qt.Orientation.Vertical or splitter.count() < 2:
            return
        index, sizes = splitter.indexOf(area), splitter.sizes()
        want = min(self._fitted, area.maximumHeight())
        if want != sizes[index] and sum(sizes) > 0:
            other = index + 1 if index + 1 < len(sizes) else index - 1
            sizes[other] = max(sizes[other] + sizes[index] - want, 0)
            sizes[index] = want
            splitter.setSizes(sizes)

    def _on_chip_clicked(self, position: int | None) -> None:
        if position is not None:  # a skipped word has no place among the used tokens
            self.token_clicked.emit(position)


def _chip_height(widget: QWidget) -> int:
    """The height of one token chip in ``widget``'s font."""
    return widget.fontMetrics().height() + 2 * _PAD_Y
