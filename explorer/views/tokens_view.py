"""The sentence as a strip of clickable tokens, each shaded by how much the query attends to it.

The chips are built once per ``set_tokens`` (the sentence changes rarely); ``set_weights`` only
changes each chip's colours and asks the chips whose colour changed to repaint (the tooltip is
written when the person hovers), so a slider drag stays cheap.
The strip is as tall as its wrapped lines; inside a QScrollArea it also keeps that area exactly
that tall (up to MAX_FITTED_LINES lines, then it scrolls), so no empty band is left under it.

Each token is an `explorer.views.token_chip.TokenChip` (a trained model's word pieces drawn
joined into words); the wrapping itself is `explorer.views.flow_layout.FlowLayout`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QHelpEvent, QHideEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolTip,
    QWidget,
)

from core.vectors.tokens import Token
from explorer.views.flow_layout import SPACING, FlowLayout
from explorer.views.palette import lut_indices
from explorer.views.token_chip import CHIP_PAD_Y, Piece, TokenChip, word_pieces

MAX_FITTED_LINES = 3
"""A longer sentence scrolls: the enclosing scroll area grows to at most this many lines."""
READY_CHIPS = 512
"""Chips the strip makes ahead of need, a few at a time while the window is idle, so the first
512-token text (a trained model's longest) finds them made: making 480 chips at once held the
window 60-70 ms."""
_CHIPS_PER_IDLE_TURN = 32  # ~4 ms of the event loop each
_IDLE_MS = 1000  # "idle": the strip was not updated for this long
_BETWEEN_TURNS_MS = 20


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
        self._shown: tuple[tuple[Token, ...], bool | None] = ((), None)  # set_tokens' last call
        # Making READY_CHIPS ahead: each update of the strip puts it off until it is idle,
        # so it never lengthens an update the person waits for.
        self._ready_timer = QTimer(self, singleShot=True, interval=_IDLE_MS)
        self._ready_timer.timeout.connect(self._make_ready_chips)
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
        special tokens or "##" pieces; a GPT-2 text has neither, so say True). The tokens
        shown already are left as they are."""
        if (tuple(tokens), pieces) == self._shown:
            return
        self._shown = (tuple(tokens), pieces)
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
        self._put_off_ready_chips()
        self._layout.add_widgets(added)
        for chip in added:
            chip.show()
        self._layout.setEnabled(True)
        self._layout.invalidate()
        self._layout.activate()
        self.updateGeometry()
        self._fit_scroll_area()

    def _missing_chips(self) -> int:
        return READY_CHIPS - len(self._chips) - len(self._spare_chips)

    def _put_off_ready_chips(self) -> None:
        """The strip is being updated: make ready chips only once it has been idle a while."""
        if self._missing_chips() > 0:
            self._ready_timer.start(_IDLE_MS)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._put_off_ready_chips()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        # A hidden strip (a closed window's, a benchmark's old window) makes none: the work
        # would land in the updates of whatever window is in use.
        self._ready_timer.stop()
        super().hideEvent(event)

    def _make_ready_chips(self) -> None:
        """Make a few spare chips; more a moment later until READY_CHIPS exist."""
        if not self.isVisible():
            return
        missing = self._missing_chips()
        for _ in range(min(missing, _CHIPS_PER_IDLE_TURN)):
            chip = self._made_chip(Token("", 0, 0, None, "vocab"), None)
            chip.hide()
            self._spare_chips.append(chip)
        if missing > _CHIPS_PER_IDLE_TURN:
            self._ready_timer.start(_BETWEEN_TURNS_MS)

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
        self._put_off_ready_chips()
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
        most = (MAX_FITTED_LINES * (_chip_height(self) + SPACING) - SPACING
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
    return widget.fontMetrics().height() + 2 * CHIP_PAD_Y
