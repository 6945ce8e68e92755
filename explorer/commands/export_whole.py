"""The explorer view as a figure with nothing cut off: every head's small map, every token.

On screen the explorer view pages its small heatmaps when they do not all fit ("heads 10-12 of
12" with the pager's arrows) and scrolls the token strip after three lines. A figure drawn at
the view's own size showed exactly that: some heads missing, the pager, a scroll bar. A figure
cannot page or scroll, so when no size is asked for it is laid out larger instead:

- wider and taller, in steps, until one page holds every head (up to :data:`MAX_GROWTH` times
  the view's size: with very many heads the last layout is kept, and says so by its pager);
- then taller by what the token strip hides, which the strip is given (the maps keep their
  room), so every token is in the figure.

The size it takes is measured the same way for the export dialog, so the size it states is the
size written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QScrollArea, QSplitter, QWidget

from explorer.figures import figure_layout, figure_pixels
from explorer.views.heatmap_pages import PageBar

__all__ = ["MAX_GROWTH", "whole_layout"]

MAX_GROWTH = 2.5  # at most this many times the view's own width and height
_STEP = 1.2


def _paged(view: QWidget) -> bool:
    """True while a page bar is shown: some heads' small maps are on another page."""
    return any(bar.isVisibleTo(view) for bar in view.findChildren(PageBar))


def _split_areas(view: QWidget) -> list[tuple[QScrollArea, QSplitter]]:
    """The scroll areas shown in a pane of a vertical splitter (the token strip's)."""
    found = []
    for area in view.findChildren(QScrollArea):
        splitter = area.parentWidget()
        if area.isVisibleTo(view) and area.widget() is not None and \
                isinstance(splitter, QSplitter) and \
                splitter.orientation() == Qt.Orientation.Vertical:
            found.append((area, splitter))
    return found


def _scrolled(view: QWidget) -> list[tuple[QScrollArea, QSplitter, int]]:
    """The split scroll areas that hide part of their contents, with how many pixels."""
    found = []
    for area, splitter in _split_areas(view):
        widget = area.widget()
        assert widget is not None
        hidden = widget.height() - area.viewport().height()
        if hidden > 0:
            found.append((area, splitter, hidden))
    return found


@contextmanager
def _no_scroll_bars(view: QWidget) -> Iterator[None]:
    """No vertical scroll bar on the split scroll areas: one appearing or going would change
    the strip's width, so it wraps anew and its splitter pane is put back to three lines."""
    areas = [area for area, _ in _split_areas(view)]
    policies = [area.verticalScrollBarPolicy() for area in areas]
    for area in areas:
        area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    try:
        yield
    finally:
        for area, policy in zip(areas, policies, strict=True):
            area.setVerticalScrollBarPolicy(policy)


def _unpaged_size(view: QWidget) -> QSize:
    """The smallest size, in steps from the view's own, at which no heads are paged."""
    own = view.size()
    size = QSize(own)
    while True:
        with figure_layout(view, (size.width(), size.height()), None):
            if not _paged(view):
                return size
        grown = QSize(round(size.width() * _STEP), round(size.height() * _STEP))
        if grown.width() > own.width() * MAX_GROWTH or grown.height() > own.height() * MAX_GROWTH:
            return size
        size = grown


def _show_scrolled(view: QWidget) -> None:
    """Give each scroll area that hides part of its contents the room to show all of it,
    taken from the splitter pane after it."""
    for area, splitter, hidden in _scrolled(view):
        sizes, index = splitter.sizes(), splitter.indexOf(area)
        other = index + 1 if index + 1 < len(sizes) else index - 1
        sizes[index] += hidden
        sizes[other] = max(sizes[other] - hidden, 0)
        splitter.setSizes(sizes)


@contextmanager
def whole_layout(view: QWidget, caption: str | None) -> Iterator[tuple[int, int]]:
    """Lay ``view`` out with nothing paged or scrolled and yield the figure's logical size,
    caption band included, for the writers' ``size`` (times the scale for a PNG); put the view
    back afterwards."""
    splitters = [view] if isinstance(view, QSplitter) else []
    saved = [(splitter, splitter.sizes()) for splitter in splitters
             + view.findChildren(QSplitter)]  # the person's own, put back at the end
    stack = ExitStack()
    try:
        stack.enter_context(_no_scroll_bars(view))
        content = _unpaged_size(view)
        with figure_layout(view, (content.width(), content.height()), None):
            hidden = sum(hidden for _, _, hidden in _scrolled(view))
        content = QSize(content.width(), content.height() + hidden)
        with figure_layout(view, (content.width(), content.height()), None):
            figure = figure_pixels(view, caption, vector=True)  # the caption band added
        with figure_layout(view, (figure.width(), figure.height()), caption):
            _show_scrolled(view)  # the extra height goes to the token strip, not to the maps
            yield figure.width(), figure.height()
    finally:
        stack.close()  # the scroll bars back first: the strip then fits its pane again
        for splitter, sizes in saved:
            splitter.setSizes(sizes)
