"""A sheet over a group of views with one line of text: "updating…" while a long forward pass
runs in the background, or "No result: …" while the settings cannot be computed, so the
numbers under it are never taken as current."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

__all__ = ["NoResultOverlay", "NoResultSheets", "UpdatingOverlay"]

# What the person does to the covered views that changes what they show.
_INPUT = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
                    QEvent.Type.Wheel, QEvent.Type.KeyPress})

# What leaves the backing store without the views where they are now, until they paint again.
_MOVED = frozenset({QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.Show, QEvent.Type.Hide})


class UpdatingOverlay(QLabel):
    """Covers ``target`` (following its size and place) while it has a message; hidden
    otherwise. It is a child of ``host``, an ancestor of ``target``: a splitter would take a
    child of its own for one more pane.

    A see-through sheet costs a repaint of every view under it, and it goes up while a forward
    pass keeps both cores busy: 20-50 ms at 512 tokens, the longest stall of the run. So the
    sheet starts opaque, painting the views' last picture (copied from the window's backing
    store, which already holds it) dimmed under its text, and nothing under it repaints. It
    turns see-through, showing the views live, as soon as they change under it (see
    :meth:`views_changed`), the person clicks, scrolls or types in them, or it is resized.
    """

    VEIL = QColor(245, 245, 245, 170)  # the sheet's background (painted by hand over a still)
    STYLE = (f"QLabel {{ background: rgba({VEIL.red()}, {VEIL.green()}, {VEIL.blue()},"
             f" {VEIL.alpha()}); color: #333; font-size: 15px; font-weight: bold; }}")
    SNAPSHOT = True  # start from a still of the views (the grey "No result" sheet needs none)

    def __init__(self, target: QWidget, host: QWidget) -> None:
        super().__init__(host)
        self._target = target
        self._still: QImage | None = None  # the views' picture as the sheet went up
        self._drawn = False  # the views are in the backing store at their size and place
        self._leaving = QTimer(self)  # takes the sheet away on the event loop's next turn
        self._leaving.setSingleShot(True)
        self._leaving.setInterval(1)  # a real timer: a 0 ms one is a posted event, same turn
        self._leaving.timeout.connect(self._leave)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet(self.STYLE)
        # Clicks go through: the person may pick a head or a token while it computes.
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        target.installEventFilter(self)
        # The window's paint passes: the views are in its backing store once one has run
        # since they last moved. (A dock floated later paints in a window of its own: its
        # backing store's size then tells, below.)
        self._painted_window = host.window() if self.SNAPSHOT else None
        if self._painted_window is not None:
            self._painted_window.installEventFilter(self)
        self.hide()

    def set_message(self, message: str | None) -> None:
        """Show ``message`` over the views; None or "" takes the sheet away."""
        if message:
            self._leaving.stop()
            self.setText(message)
            if not self.isVisible():
                self._cover()
                self._hold_still(self._copy_views() if self.SNAPSHOT else None)
                self.raise_()
                self.show()
        elif self._still is not None and self.isVisible():
            # The new result is handed to the views right after this (tens of milliseconds at
            # 512 tokens); their paint, tens more, waits under the still for the next turn of
            # the event loop instead of running in the same one: two shorter stalls, not one.
            self._leaving.start()
            # No more input to watch for (views_changed waits for nothing now), and the
            # hand-over's many layout events need not pass through Python on their way.
            self._watch_input(False)
        else:
            self._leave()

    def _leave(self) -> None:
        self._leaving.stop()
        self.hide()
        self._hold_still(None)

    def is_still(self) -> bool:
        """Whether the sheet shows a still of the views (True) rather than the views live."""
        return self._still is not None

    def views_changed(self) -> None:
        """The views under the sheet show something new (a head picked meanwhile): let them
        through. (Not the result the sheet waited for: the sheet is leaving then.)"""
        if self._still is not None and not self._leaving.isActive():
            self._hold_still(None)
            self.update()

    def _copy_views(self) -> QImage | None:
        """The pixels under the sheet as the window last painted them, or None where the
        window's backing store is not an image in memory (then the sheet is see-through)."""
        window = self.window()
        if not self._drawn:  # not painted since shown or resized: the store holds no views
            return None
        store = window.backingStore() if window.isVisible() else None
        image = store.paintDevice() if store is not None else None
        if not isinstance(image, QImage) or image.isNull():
            return None
        ratio = image.devicePixelRatio()
        if image.size() != window.size() * ratio:  # resized, not painted since
            return None
        top_left = self.mapTo(window, QPoint(0, 0)) * ratio
        area = QRect(top_left, self.size() * ratio)
        if area.isEmpty() or not image.rect().contains(area):
            return None
        still = image.copy(area)  # a copy: the backing store is painted over next
        still.setDevicePixelRatio(ratio)
        return still

    def _hold_still(self, still: QImage | None) -> None:
        self._still = still
        # Opaque, Qt paints nothing under the sheet; see-through, the views under it first.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, still is not None)
        self._watch_input(still is not None)

    def _watch_input(self, on: bool) -> None:
        """See (or stop seeing) every event of the application: input to the covered views."""
        app = QApplication.instance()
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        if self._still is not None:
            painter = QPainter(self)
            painter.drawImage(QPoint(0, 0), self._still)  # its size: a resize drops the still
            # An opaque widget gets no style sheet background from Qt: the grey veil is ours.
            painter.fillRect(self.rect(), self.VEIL)
            painter.end()
        super().paintEvent(event)  # the text (and, see-through, the style sheet's veil)

    def _cover(self) -> None:
        host = self.parentWidget()
        self.setGeometry(QRect(self._target.mapTo(host, QPoint(0, 0)), self._target.size()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind == QEvent.Type.UpdateRequest and watched is self._painted_window:
            self._drawn = True  # (a paint pass paints whatever is dirty, the views included)
        elif watched is self._target and kind in _MOVED:
            self._drawn = False
            if self.isVisible():
                self._cover()
                self.views_changed()  # the still no longer fits
        elif kind in _INPUT and isinstance(watched, QWidget) and \
                (watched is self._target or self._target.isAncestorOf(watched)):
            self.views_changed()  # (only while there is a still: the filter is on for it)
        return super().eventFilter(watched, event)


class NoResultOverlay(UpdatingOverlay):
    """An almost opaque grey sheet: the settings were refused, so what is under it belongs to
    older settings and must not be read, nor clicked (a token of the old sentence, a cell of
    the old weights) or pointed at (the heatmaps' readout of old numbers)."""

    STYLE = ("QLabel { background: rgba(225, 225, 225, 235); color: #8a0015;"
             " font-size: 14px; font-weight: bold; padding: 8px; }")
    SNAPSHOT = False  # almost opaque already; and the person must see that clicks stop here

    def __init__(self, target: QWidget) -> None:
        super().__init__(target, target)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        # A QLabel passes the mouse on to its parent, the covered view itself (the token strip
        # would take a click on an old token): the sheet keeps it.
        self.setAttribute(Qt.WidgetAttribute.WA_NoMousePropagation, True)


class NoResultSheets:
    """One :class:`NoResultOverlay` over each of some views, shown and hidden together."""

    def __init__(self, views: list[object]) -> None:
        self._sheets = [NoResultOverlay(v) for v in views if isinstance(v, QWidget)]

    def cover(self, widget: QWidget) -> None:
        """Cover ``widget`` too."""
        self._sheets.append(NoResultOverlay(widget))

    def set_message(self, message: str | None) -> None:
        """"No result: ``message``" over every view; None takes the sheets away."""
        for sheet in self._sheets:
            sheet.set_message(message and f"No result: {message}")

