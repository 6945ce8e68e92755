"""Pages of small heatmaps: which heads one page shows, and the bar that turns the pages.

When the small maps of every head no longer fit beside a large focused map (50 heads), they
are shown a page at a time (the mean's map on every page); the page follows the focused head,
so a head chosen with the keys or the controls is always on screen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

__all__ = ["PageBar", "page_heads"]


def page_heads(heads: int, per_page: int, page: int) -> range:
    """The heads (0-based) of page ``page`` when ``per_page`` heads fit on one."""
    per_page = max(per_page, 1)
    start = min(max(page, 0), max(pages(heads, per_page) - 1, 0)) * per_page
    return range(start, min(start + per_page, heads))


def pages(heads: int, per_page: int) -> int:
    """How many pages ``heads`` heads take."""
    return max(-(-heads // max(per_page, 1)), 1)


class PageBar(QWidget):
    """"◀ heads 1–16 of 50 ▶": hidden while every head fits on one page.

    Signals
    -------
    page_requested(int)
        The page the person turned to.
    """

    page_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.previous = QToolButton()
        self.previous.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous.setToolTip("Previous heads")
        self.next = QToolButton()
        self.next.setArrowType(Qt.ArrowType.RightArrow)
        self.next.setToolTip("Next heads")
        self.label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for widget in (self.previous, self.label, self.next):
            layout.addWidget(widget)
        self._page, self._pages = 0, 1
        # The bar keeps its room while hidden: showing it must not shrink the canvas, since a
        # shorter canvas may fit every head on one page, hide the bar, grow the canvas again and
        # so on: the layout then never settled (a random session hung in it).
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.previous.clicked.connect(lambda: self.page_requested.emit(self._page - 1))
        self.next.clicked.connect(lambda: self.page_requested.emit(self._page + 1))
        self.setVisible(False)

    def show_page(self, page: int, shown: range, heads: int, per_page: int) -> None:
        """Say which heads are shown; hide the bar when one page holds them all."""
        self._page, self._pages = page, pages(heads, per_page)
        paged = self._pages > 1
        self.setVisible(paged)
        if not paged or not len(shown):
            return
        self.label.setText(f"heads {shown.start + 1}–{shown.stop} of {heads}")
        self.previous.setEnabled(page > 0)
        self.next.setEnabled(page < self._pages - 1)
