"""Figures out: any view (a QWidget, or a QGraphicsScene) as PNG, SVG or PDF, with a caption.

Why not pyqtgraph's exporters: its SVGExporter fails with Qt >= 6.11 (pyqtgraph 0.14.0 raises
in ``correctCoordinates``), its printer exporter is disabled, and its image exporter opens a
dialog when given no file name. Instead each writer here paints the figure of
:mod:`explorer.figures` on a device of its format. Every file is written into memory first and
then saved with ``write_atomically``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRect, QSize, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter
from PySide6.QtSvg import QSvgGenerator

from core.files.atomic import ExportError, write_atomically
from explorer.figures import (
    PathLike,
    Source,
    background,
    figure_layout,
    paint_on,
    source_dpi,
)
from explorer.portable_svg import portable_svg

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
MAX_PIXELS = 100_000_000  # a 10,000 x 10,000 PNG; beyond this QImage allocation fails or swaps


def _buffer() -> QBuffer:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    return buffer


# ----------------------------------------------------------------------------- writers


def export_widget_png(source: Source, path: PathLike, *, size: tuple[int, int] | None = None,
                      scale: float = 1.0, caption: str | None = None,
                      title: str | None = None) -> None:
    """Save ``source`` (a QWidget or QGraphicsScene) as a PNG image.

    Parameters
    ----------
    size
        The image size in pixels, caption included; None: the widget's size times ``scale``.
    scale
        Pixels per logical pixel: 2.0 lays the widget out at half of ``size`` (or at its own
        size) and draws it twice as sharp.
    caption
        Text drawn in a band above the content.
    title
        Stored in the PNG's "Title" text chunk.

    Raises
    ------
    ExportError
        Bad size or scale, an image too large, or a failed write (the old file is kept).
    """
    with figure_layout(source, size, caption, scale) as figure:
        pixels = QSize(*size) if size else figure * scale  # QSize * float rounds
        image = _image(source, pixels, path)
        zoom = (pixels.width() / figure.width(), pixels.height() / figure.height())
        paint_on(image, source, figure, caption, path, zoom)
    metadata = (("Title", title), ("Description", caption), ("Software", "Attention Explorer"))
    for key, text in metadata:
        if text:
            image.setText(key, text)
    buffer = _buffer()
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]  # stub wrongly wants bytes
        raise ExportError(f"Cannot write {path}: Qt could not encode the PNG image.")
    write_atomically(path, bytes(buffer.data().data()))


def _image(source: Source, pixels: QSize, path: PathLike) -> QImage:
    """An image of ``pixels`` filled with ``source``'s background, at ``source``'s DPI."""
    if pixels.width() * pixels.height() > MAX_PIXELS:
        shape = f"{pixels.width()}x{pixels.height()}"
        raise ExportError(f"Cannot write {path}: a {shape} pixel image is too large.")
    image = QImage(pixels, QImage.Format.Format_RGB32)
    dots_per_metre = round(source_dpi(source) / 0.0254)  # as the widget's: point fonts match
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    image.fill(background(source))
    return image


def export_widget_svg(
    source: Source,
    path: PathLike,
    *,
    title: str | None = None,
    caption: str | None = None,
    size: tuple[int, int] | None = None,
) -> None:
    """Save ``source`` as an SVG drawing with real vector paths and text.

    Heatmap images stay embedded bitmaps (at their own resolution, one pixel per cell); axes,
    tick labels, lines, scatter symbols and the caption are vector elements.
    """
    with figure_layout(source, size, caption) as figure:
        buffer = _buffer()
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(figure)
        generator.setViewBox(QRect(0, 0, figure.width(), figure.height()))
        generator.setResolution(source_dpi(source))
        generator.setTitle(title or caption or "Attention Explorer figure")
        generator.setDescription(caption or "")
        paint_on(generator, source, figure, caption, path)
    svg = bytes(buffer.data().data()).decode("utf-8")
    write_atomically(path, portable_svg(svg).encode("utf-8"))  # alike in every viewer


def export_widget_pdf(
    source: Source,
    path: PathLike,
    *,
    title: str | None = None,
    caption: str | None = None,
    size: tuple[int, int] | None = None,
) -> None:
    """Save ``source`` as a one-page PDF whose page is exactly the figure (vector content)."""
    with figure_layout(source, size, caption) as figure:
        buffer = _buffer()
        writer = QPdfWriter(buffer)
        dpi = source_dpi(source)
        writer.setResolution(dpi)  # one device unit = one widget pixel
        points = QSizeF(figure.width() * 72 / dpi, figure.height() * 72 / dpi)
        exact = QPageSize.SizeMatchPolicy.ExactMatch  # never snap to the nearest paper size
        page = QPageSize(points, QPageSize.Unit.Point, "figure", exact)
        writer.setPageLayout(QPageLayout(page, QPageLayout.Orientation.Portrait, QMarginsF()))
        writer.setTitle(title or caption or "Attention Explorer figure")
        writer.setCreator("Attention Explorer")
        paint_on(writer, source, figure, caption, path)  # QPainter.end() completes the PDF
    write_atomically(path, bytes(buffer.data().data()))


def export_figure(
    source: Source,
    path: PathLike,
    *,
    caption: str | None = None,
    title: str | None = None,
    size: tuple[int, int] | None = None,
    scale: float = 1.0,
) -> None:
    """Save ``source`` in the format named by the suffix of ``path`` (.png, .svg, .pdf).

    ``scale`` only matters for PNG (vector formats are resolution independent).

    Raises
    ------
    ExportError
        An unknown suffix (the message lists the valid ones) or a failed export.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        export_widget_png(source, path, size=size, scale=scale, caption=caption, title=title)
    elif suffix in (".svg", ".pdf"):
        write: Callable[..., None] = export_widget_svg if suffix == ".svg" else export_widget_pdf
        write(source, path, title=title, caption=caption, size=size)
    else:
        raise ExportError(
            f"Cannot export a figure to {path}: unknown file type {suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(FIGURE_SUFFIXES)}."
        )
