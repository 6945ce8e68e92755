"""The sentence as a strip of clickable tokens, each shaded by how much the query attends to it.

One widget lays out and paints every token (`explorer.views.token_chip.TokenChip`, a trained
model's word pieces drawn joined into words; the wrapping is `explorer.views.flow_layout.flow`).
``set_tokens`` makes the chips and places them (~1 ms for 512 tokens); ``set_weights`` only
changes their colours and repaints the chips whose colour changed (the tooltip is written when
the person hovers), so a slider drag stays cheap. One chip widget per token cost ~20 ms of
layout and show events for one 512-token text, and every chip event went through Python.
The strip is as tall as its wrapped lines; inside a QScrollArea it also keeps that area exactly
that tall (up to MAX_FITTED_LINES lines, then it scrolls), so no empty band is left under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QSplitter, QToolTip, QWidget

from core.vectors.tokens import Token
from explorer.views.flow_layout import MARGIN, SPACING, Flow, flow
from explorer.views.palette import lut_indices
from explorer.views.token_chip import CHIP_PAD_Y, TokenChip, chip_font, word_pieces

MAX_FITTED_LINES = 3
"""A longer sentence scrolls: the enclosing scroll area grows to at most this many lines."""
_MAX_FLOWS = 64  # widths whose wrapping is remembered


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
        self._chips: list[TokenChip] = []  # every token, skipped ones included
        self._used_chips: list[TokenChip] = []  # the used ones, in order: index = position
        self._shown: tuple[tuple[Token, ...], bool | None] = ((), None)  # set_tokens' last call
        self._fonts: dict[str, tuple[QFont, str]] = {}  # a token source's font, and its key
        self._flows: dict[int, Flow] = {}  # the chips wrapped to a width, until they change
        self._placed_width: int | None = None  # the width the chips' rects were placed for
        self._pressed: TokenChip | None = None  # the chip a left button went down on
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)  # its height is its wrapped lines, for the width it gets
        self.setSizePolicy(policy)
        self.setMouseTracking(True)  # the pointing hand over a token that can be clicked
        self._splitter_fit_pending = False
        self._fitted = 0  # the height the enclosing scroll area should have
        # A click on a token focuses the strip, not the scroll area around it, which would
        # take the arrow keys for scrolling: the strip hands them on (explorer.keyboard) to
        # move the query and step the heads.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    @property
    def chips(self) -> list[TokenChip]:
        """The chips of all tokens, in sentence order, placed for the strip's width."""
        self._place()
        return list(self._chips)

    @property
    def used_chips(self) -> list[TokenChip]:
        """The chips of the used tokens; index i is used-token position i."""
        self._place()
        return list(self._used_chips)

    def chip_at(self, point: QPoint) -> TokenChip | None:
        """The chip under ``point`` (strip coordinates), None over a gap."""
        self._place()
        for chip in self._chips:  # in reading order: stop at the first line below the point
            if chip.rect.top() > point.y():
                break
            if chip.rect.contains(point):
                return chip
        return None

    def set_tokens(self, tokens: Sequence[Token], pieces: bool | None = None) -> None:
        """Show a new sentence: all tokens, skipped and made-up ones marked. ``pieces``: the
        tokens are a trained model's word pieces, joined into words (None: when some are
        special tokens or "##" pieces; a GPT-2 text has neither, so say True). The same
        tokens again change nothing (another head, the temperature)."""
        if (tuple(tokens), pieces) == self._shown:
            return
        self._shown = (tuple(tokens), pieces)
        self._chips, self._used_chips = [], []
        for token, piece in zip(tokens, word_pieces(tokens, pieces), strict=True):
            chip = TokenChip(token, piece, *self._font_for(token.source))
            chip.position = len(self._used_chips) if token.used else None
            if token.used:
                self._used_chips.append(chip)
            self._chips.append(chip)
        self._relayout()

    def set_weights(self, weights: np.ndarray | None, query_position: int | None) -> None:
        """Shade the used tokens by ``weights`` (one per used token; None: unshaded) and outline
        the query token. A length mismatch (a sentence change still on its way) also clears the
        shading instead of colouring the wrong tokens."""
        if weights is not None and len(weights) != len(self._used_chips):
            weights = None
        self._place()  # the rects to repaint are where the chips are now
        changed = QRect()
        if weights is None:
            for i, chip in enumerate(self._used_chips):
                if chip.show_weight(None, i == query_position):
                    changed |= chip.rect
        else:  # colour indices in one NumPy step, not one lut_index call per chip
            values = np.asarray(weights, dtype=float)
            for i, (chip, weight, index) in enumerate(zip(
                    self._used_chips, values.tolist(), lut_indices(values).tolist(), strict=True)):
                if chip.show_weight(weight, i == query_position, index):
                    changed |= chip.rect
        if not changed.isEmpty():
            self.update(changed)

    # ----------------------------------------------------------------- layout

    def _font_for(self, source: str) -> tuple[QFont, str]:
        """The font of a token from ``source``, and its key (made once per font)."""
        if source not in self._fonts:
            font = chip_font(self.font(), source)
            self._fonts[source] = (font, font.key())
        return self._fonts[source]

    def _flow(self, width: int) -> Flow:
        """The chips wrapped to ``width`` (remembered: Qt asks heightForWidth many times)."""
        if width not in self._flows:
            if len(self._flows) >= _MAX_FLOWS:  # a window resized by dragging asks every width
                self._flows.clear()
            self._flows[width] = flow([c.size for c in self._chips],
                                      [c.joined_left for c in self._chips], width)
        return self._flows[width]

    def _relayout(self) -> None:
        """The chips or their sizes changed: wrap them again, resize, repaint."""
        self._flows.clear()
        self._placed_width = None
        self.updateGeometry()
        self._fit_scroll_area()
        self.update()

    def _place(self) -> None:
        """Give every chip its rect for the strip's width (once per width and set of chips)."""
        if self._placed_width == self.width():
            return
        self._placed_width = self.width()
        for chip, (x, y) in zip(self._chips, self._flow(self.width()).positions, strict=True):
            chip.rect = QRect(x, y, *chip.size)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.FontChange:  # the chips' fonts follow the strip's
            self._fonts.clear()
            for chip in self._chips:
                chip.set_font(*self._font_for(chip.token.source))
            self._relayout()
        super().changeEvent(event)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        """The height of the tokens wrapped to ``width``; at least one line, even when empty."""
        one_line = _chip_height(self) + 2 * MARGIN
        return max(self._flow(width).height, one_line) if self._chips else one_line

    def sizeHint(self) -> QSize:  # noqa: N802
        width = max(self.width(), self._flow(self.width()).widest_run)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._flow(self.width()).widest_run, self.heightForWidth(self.width()))

    def fitted_height(self, width: int) -> int:
        """How tall a scroll area around the strip should be (content, frame excluded)."""
        most = MAX_FITTED_LINES * (_chip_height(self) + SPACING) - SPACING + 2 * MARGIN
        return min(self.heightForWidth(width), most)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():  # rewrapped: maybe another height
            self._fit_scroll_area()

    # ----------------------------------------------------------------- painting and mouse

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        self._place()
        exposed = event.rect()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for chip in self._chips:
            if chip.rect.intersects(exposed):
                chip.paint(painter)
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:  # the hover text of the chip under the mouse
            help_event = cast(QHelpEvent, event)
            chip = self.chip_at(help_event.pos())
            text = chip.toolTip() if chip is not None else ""
            if chip is not None and text:
                QToolTip.showText(help_event.globalPos(), text, self, chip.rect)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed = self.chip_at(event.position().toPoint())
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        # A click is a press and a release on the same token, as on a button.
        pressed, self._pressed = self._pressed, None
        if event.button() == Qt.MouseButton.LeftButton and pressed is not None and \
                pressed is self.chip_at(event.position().toPoint()) and \
                pressed.position is not None:  # a skipped word has no place among the used
            self.token_clicked.emit(pressed.position)
        super().mouseReleaseEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        chip = self.chip_at(event.position().toPoint())
        clickable = chip is not None and chip.token.used
        if clickable != (self.cursor().shape() == Qt.CursorShape.PointingHandCursor):
            if clickable:
                self.setCursor(Qt.CursorShape.PointingHandCursor)
            else:
                self.unsetCursor()
        super().mouseMoveEvent(event)

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
        low = _chip_height(self) + 2 * MARGIN + frame
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


def _chip_height(widget: QWidget) -> int:
    """The height of one token chip in ``widget``'s font."""
    return widget.fontMetrics().height() + 2 * CHIP_PAD_Y
