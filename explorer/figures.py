"""How a view becomes a figure: its caption, laid out at the figure's size, painted on any device.

One painting routine, :func:`_paint_figure`, draws the caption band and then the source through
``QWidget.render`` / ``QGraphicsScene.render`` onto any QPainter device: a QImage (PNG), a
QSvgGenerator (SVG, real vector paths and text) or a QPdfWriter (PDF). While painting, pyqtgraph
items are put in export mode, as its own exporters do, so scatter symbols are drawn as paths (not
from the pixmap atlas) and the "A" auto-range button is hidden. The writers of each format are in
:mod:`explorer.export`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from core.explain.names import option_name
from core.files.atomic import ExportError
from explorer.header_gradients import rgb_header_gradients

if TYPE_CHECKING:
    from core.pipeline import Analysis

LOSSLESS = QPainter.RenderHint.LosslessImageRendering  # images in a PDF: Flate, not JPEG
CAPTION_PADDING = 8  # logical pixels around the caption text
Source = QWidget | QGraphicsScene
PathLike = str | os.PathLike[str]
_CAPTION_FLAGS = int(
    Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
)


# ----------------------------------------------------------------------------- caption


def figure_caption(analysis: Analysis, across: bool = False) -> str:
    """One line stating what the figure shows.

    Example: ``GloVe 6B 50d · 4 heads (random, seed 0, d_k=12) · scaled dot · softmax · T=1.00 ·
    query 'it'``; masks are added when set. ``across``: the figure is of the across-layers view
    (a trained model's rollout or flow), which no single layer or head makes.
    """
    s, heads = analysis.settings, analysis.heads
    if analysis.model is not None:
        return _model_caption(analysis, across)
    how = [option_name(heads.strategy)]
    if heads.strategy == "random":
        how.append(f"seed {s.seed}")  # the seed only changes anything for random projections
    how.append(f"d_k={heads.d_k}")
    noun = "head" if heads.n_heads == 1 else "heads"
    parts = [
        analysis.vectors_name,
        f"{heads.n_heads} {noun} ({', '.join(how)})",
        option_name(s.scoring),  # the names the controls show, not the settings' identifiers
        option_name(s.normalization),
        f"T={s.temperature:.2f}",
    ]
    masks = [name for name, on in (("causal", s.causal), ("no self", s.exclude_self)) if on]
    if masks:
        parts.append("mask: " + ", ".join(masks))
    parts.append(f"query '{analysis.query.text}'")
    return " · ".join(parts)


def _model_caption(analysis: Analysis, across: bool) -> str:
    """E.g. ``all-MiniLM-L6-v2 · 6 layers x 12 heads · 384 dims · layer 6, head 12 · query 'it'``
    with the interventions, when there are any (counted from 1, as on screen); ``across``: the
    rollout or flow's own title (``Attention rollout, layers 1-6 (...)``) for the layer and head,
    since it takes every head of every layer up to the one chosen."""
    m, s = analysis.model, analysis.settings
    assert m is not None
    head = "mean of heads" if s.selected_head is None else f"head {s.selected_head + 1}"
    shown = m.across_title if across and m.across_title else f"layer {m.layer + 1}, {head}"
    parts = [analysis.vectors_name, shown]
    interventions = m.run.interventions
    if interventions.ablated:
        heads = ", ".join(f"L{lay + 1} H{h + 1}" for lay, h in sorted(interventions.ablated))
        parts.append(f"ablated ({interventions.ablation}): {heads}")
    for change in interventions.changes:
        parts.append(f"what-if layer {change.layer + 1}: {option_name(change.scoring)}, "
                     f"{option_name(change.normalization)}, "
                     f"T={change.temperature:.2f}")
    parts.append(f"query '{analysis.query.text}'")
    return " · ".join(parts)


def _caption_font(source: Source) -> QFont:
    """The source's font, a little larger, sized in pixels.

    Pixels, not points: a point size is resolved against each device's DPI, so the same caption
    would come out at different sizes on a QImage, an SVG generator and a PDF writer (and a
    measured band would no longer fit the drawn text).
    """
    font = QFont(source.font()) if isinstance(source, QWidget) else QFont(QApplication.font())
    dpi = source_dpi(source)
    points = font.pointSizeF() if font.pointSizeF() > 0 else font.pixelSize() * 72 / dpi
    font.setPixelSize(max(round(max(points, 9.0) * 1.15 * dpi / 72), 8))
    return font


def _caption_height(caption: str | None, font: QFont, width: int) -> int:
    """Height of the caption band for a figure ``width`` logical pixels wide (0: no caption)."""
    if not caption:
        return 0
    inner = QRect(0, 0, max(width - 2 * CAPTION_PADDING, 20), 10_000)
    text = QFontMetrics(font).boundingRect(inner, _CAPTION_FLAGS, caption)
    return text.height() + 2 * CAPTION_PADDING


# ----------------------------------------------------------------------------- painting


def _source_size(source: Source) -> QSize:
    if isinstance(source, QWidget):
        return source.size()
    rect = source.sceneRect()
    return QSize(max(1, round(rect.width())), max(1, round(rect.height())))


def background(source: Source) -> QColor:
    if isinstance(source, QWidget):
        return source.palette().color(source.backgroundRole())
    brush = source.backgroundBrush()
    return QColor(brush.color()) if brush.style() != Qt.BrushStyle.NoBrush else QColor("white")


def _text_colour(source: Source) -> QColor:
    if isinstance(source, QWidget):
        return source.palette().color(source.foregroundRole())
    return QColor("black")


def _paint_figure(painter: QPainter, source: Source, size: QSize, caption: str | None) -> None:
    """Paint the caption band and ``source`` filling ``size`` (logical pixels) on ``painter``."""
    width, height = size.width(), size.height()
    font = _caption_font(source)
    band = _caption_height(caption, font, width)
    # Filled first: widgets that do not paint their own background would otherwise show the
    # device's initial contents (transparent, which PNG viewers show as black or checkered).
    painter.fillRect(QRectF(0, 0, width, height), background(source))
    if caption:
        painter.save()
        painter.setFont(font)
        painter.setPen(_text_colour(source))
        text_rect = QRectF(CAPTION_PADDING, CAPTION_PADDING, width - 2 * CAPTION_PADDING, band)
        painter.drawText(text_rect, _CAPTION_FLAGS, caption)
        painter.restore()
    content = _source_size(source)
    painter.save()
    try:
        painter.translate(0, band)
        # Stretch to the exact content box: a widget may refuse a size below its minimum size.
        painter.scale(width / content.width(), max(height - band, 1) / content.height())
        with _export_mode(source, painter):
            if isinstance(source, QWidget):
                # QWidget's render, also for a QGraphicsView (a pyqtgraph PlotWidget): the view's
                # own render(painter, target, source) draws the scene, not the widget.
                QWidget.render(source, painter, QPoint())
            else:
                target = QRectF(0, 0, content.width(), content.height())
                source.render(painter, target, source.sceneRect())
    finally:
        painter.restore()


def _views(source: Source) -> list[QGraphicsView]:
    if isinstance(source, QGraphicsScene):
        return []
    views = [source] if isinstance(source, QGraphicsView) else []
    return views + source.findChildren(QGraphicsView)


def _scenes(source: Source) -> list[QGraphicsScene]:
    if isinstance(source, QGraphicsScene):
        return [source]
    return [view.scene() for view in _views(source) if view.scene() is not None]


@contextmanager
def _export_mode(source: Source, painter: QPainter) -> Iterator[None]:
    """pyqtgraph items draw for export inside this block (see the module docstring)."""
    options = {"antialias": True, "painter": painter, "resolutionScale": 1.0}
    everything = [item for scene in _scenes(source) for item in scene.items()]
    items: list[Any] = [item for item in everything if hasattr(item, "setExportMode")]
    # pyqtgraph views cache their background as a pixmap, which would land in an SVG or PDF as
    # one bitmap per view; painting it directly keeps vector output free of such images.
    views = _views(source)
    cache_modes = [view.cacheMode() for view in views]
    # Without this hint QPdfWriter stores every heatmap image as JPEG (cells off by up to
    # 21/255, faint structure in blotches); a view paints with its own hints, not the
    # painter's, so each view is given it. Other devices ignore it.
    lossless = [not view.renderHints() & LOSSLESS for view in views]
    for view, add in zip(views, lossless, strict=True):
        view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        if add:
            view.setRenderHint(LOSSLESS, True)
    for item in items:
        item.setExportMode(True, options)
    try:
        yield
    finally:
        for item in items:
            item.setExportMode(False)
        for view, mode, added in zip(views, cache_modes, lossless, strict=True):
            view.setCacheMode(mode)
            if added:
                view.setRenderHint(LOSSLESS, False)


# ----------------------------------------------------------------------------- sizing


@contextmanager
def _laid_out(source: Source, size: QSize | None) -> Iterator[QSize]:
    """Lay ``source`` out at ``size`` (if given), yield its real size, then put it back.

    Layout requests and pyqtgraph's range updates are posted events: without processing them a
    freshly built or resized view renders empty or at its old geometry.

    A hidden window never activates its layouts, so a hidden window is shown off screen first,
    and a widget inside a layout cannot simply be resized (the layout puts it back): its window
    is resized by the difference instead, a few times, since a splitter or layout shares the
    extra space among its children.
    """
    if not isinstance(source, QWidget):
        yield _source_size(source)
        return
    window = source.window()
    old_window_size, old_size = window.size(), source.size()
    shown_here = not window.isVisible()
    if shown_here:  # hidden windows never get their layouts activated; show them off screen
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        window.show()
    try:
        _process_events()
        if size is not None:
            _resize_within_window(source, size)
        yield source.size()
    finally:
        if window.size() != old_window_size:
            window.resize(old_window_size)
        if source.isWindow() and source.size() != old_size:
            source.resize(old_size)
        if shown_here:
            window.hide()
            window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, False)
        _process_events()


def _resize_within_window(source: QWidget, size: QSize, attempts: int = 4) -> None:
    """Make ``source`` ``size`` big: directly if it is a window, else by resizing its window."""
    window = source.window()
    for _ in range(attempts):
        if source.size() == size:
            return
        before = source.size()
        if source is window:
            source.resize(size)
        else:
            window.resize(window.size() + size - source.size())
        _process_events()
        if source.size() == before:
            return  # limited by a minimum or maximum size: the painter stretches the rest


def _process_events() -> None:
    app = QApplication.instance()
    if app is not None:
        for _ in range(2):  # a layout pass can post another (nested layouts)
            app.processEvents()


def _figure_size(
    source: Source, size: tuple[int, int] | None, caption: str | None, scale: float
) -> tuple[QSize, QSize | None]:
    """(whole figure, content to lay the source out at) in logical pixels."""
    if size is None:
        content = _source_size(source)
        band = _caption_height(caption, _caption_font(source), content.width())
        return QSize(content.width(), content.height() + band), None
    width, height = (round(v / scale) for v in size)
    band = _caption_height(caption, _caption_font(source), width)
    if width < 1 or height - band < 1:
        raise ExportError(f"Figure size {size} is too small for the figure and its caption.")
    return QSize(width, height), QSize(width, height - band)


def figure_pixels(source: Source, caption: str | None, size: tuple[int, int] | None = None,
                  scale: float = 1.0, vector: bool = False) -> QSize:
    """The size of the file a figure of ``source`` would be, as the writers make it: ``size``
    when given, else the source's own size with the caption band above it, times ``scale`` for a
    PNG (``vector``: SVG and PDF, sized in logical pixels). The export dialog shows this, so the
    size it states is the size written."""
    if size is not None:
        return QSize(*size)
    figure, _ = _figure_size(source, None, caption, 1.0)
    return figure if vector else figure * scale  # QSize * float rounds, as the PNG writer does


def _check_size(size: tuple[int, int] | None, scale: float) -> None:
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise ExportError(f"Figure size must be two positive integers (width, height), got {size}.")
    if not scale > 0:
        raise ExportError(f"Scale must be positive, got {scale}.")


@contextmanager
def figure_layout(
    source: Source, size: tuple[int, int] | None, caption: str | None, scale: float = 1.0
) -> Iterator[QSize]:
    """Lay ``source`` out for the figure and yield the figure's logical size (caption included)."""
    _check_size(size, scale)
    _, content = _figure_size(source, size, caption, scale)
    with _laid_out(source, content):
        figure, _ = _figure_size(source, size, caption, scale)  # the size it really took
        yield figure


def source_dpi(source: Source) -> int:
    """The source's logical DPI, so point-sized fonts keep their size relative to the content."""
    return source.logicalDpiY() if isinstance(source, QWidget) else 96


def paint_on(
    device: Any,
    source: Source,
    figure: QSize,
    caption: str | None,
    path: PathLike,
    zoom: tuple[float, float] = (1.0, 1.0),
) -> None:
    """Paint the figure (``figure`` logical pixels, caption band included) on ``device``,
    magnified by ``zoom``; ``path`` only names the file in an error."""
    painter = QPainter()
    if not painter.begin(device):
        raise ExportError(f"Cannot write {path}: Qt could not start painting the figure.")
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setRenderHint(LOSSLESS, True)  # a scene drawn directly (see _export_mode)
        painter.scale(*zoom)
        with drawn_afresh(source), ExitStack() as stack:
            if isinstance(source, QWidget):
                stack.enter_context(rgb_header_gradients(source))  # a PDF can shade them
            _paint_figure(painter, source, figure, caption)
    finally:
        painter.end()


@contextmanager
def drawn_afresh(source: Source) -> Iterator[None]:
    """Turn off the pixmap caches of ``source``'s plot items while a figure is painted: a
    vector file must get their real lines and text, a larger PNG sharp ones (see
    explorer/views/axis_cache.py)."""
    scenes = [source] if isinstance(source, QGraphicsScene) else [
        view.scene() for view in (source, *source.findChildren(QGraphicsView))
        if isinstance(view, QGraphicsView) and view.scene() is not None]
    cached = [(item, item.cacheMode()) for scene in scenes for item in scene.items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)
