"""BertViz-style model view: every head of a trained transformer as one small attention map.

Rows of maps are layers (L1 at the top), columns are heads (H1 at the left); each map shows a
head's (n, n) weights (queries down, keys across) in the shared weight colour map with fixed
levels 0..1, so maps compare by colour. The chosen (layer, head) is outlined (the whole layer row
for the layer's mean), the query row is marked in every map, ablated heads are greyed and
crossed out, and an intervention's shift per head can be shown as a corner badge. Clicking a map
asks to focus it (``head_clicked``); pointing at one reads it in the line under the grid.

Everything lives in one pyqtgraph ViewBox and is built once: one item drawing every map
(explorer/views/map_grid.py), one path for all query-row marks, one for all ablation marks, one
rectangle for the outline, one item painting every badge, and the layer and head names as axis
ticks (no text item per map: each is a full graphics item, and hundreds make every update slow).
An update hands the grid item the pooled weights (small_maps.max_pool) and rebuilds a path or
two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import PySide6  # noqa: F401  (before pyqtgraph, which would try PyQt6 first)

# isort: split
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QLabel, QVBoxLayout, QWidget

from explorer.views.arrays import frozen
from explorer.views.elided_label import ElidedLabel
from explorer.views.map_grid import MapGrid
from explorer.views.palette import BACKGROUND, FOREGROUND
from explorer.views.small_maps import SHIFT_LEGEND, GridGeometry, ShiftBadges, pooled_maps

HOVER_HINT = "Point at a map to read it; click one to focus that head."
STALE_HINT = "The greyed maps are not current."
_LONG_MESSAGE = 40  # characters: a longer overlay message is set smaller, to fit the grid
_TICK_POINTS = 8.0
_LEFT_AXIS, _TOP_AXIS = 30, 18  # pixels for "L12" and "H12"
_PAD = 4  # pixels around everything
_OUTLINE_COLOUR = "#1f1f1f"
_QUERY_COLOUR = QColor(214, 39, 40, 200)  # the heatmaps' query-row red, a little see-through
_ABLATED_FILL = QColor(215, 215, 215, 190)  # the map shows through, faintly
_ABLATED_PEN = QColor(110, 110, 110)
_STALE_STYLE = ("background: rgba(238, 238, 238, 200); color: #202020; font-size: {}pt;"
                " font-weight: bold; padding: 12px;")


class ModelView(QWidget):
    """All L x H attention maps of a model in one grid.

    Signals
    -------
    head_clicked(int, int)
        (layer, head), both from 0, of a clicked map.
    """

    head_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        self.readout = ElidedLabel(HOVER_HINT)  # a long line never widens the view
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.readout)
        self._build_overlay()
        self.plot = self.canvas.addPlot(enableMenu=False)
        self._build_plot()
        self.vb: pg.ViewBox = self.plot.vb
        self.maps = MapGrid()
        self.maps.setZValue(1)
        self.vb.addItem(self.maps, ignoreBounds=True)
        self._build_marks()
        self._geometry = GridGeometry(0, 0)
        self._attentions = np.zeros((0, 0, 0, 0), np.float32)
        # The array the images show, pooled: read-only and owning its data (arrays.frozen), so
        # the same object means the same weights and nothing is pooled again.
        self._pooled_from: np.ndarray | None = None
        self._labels: list[str] = []
        self._query_row = 0
        self._selection: tuple[int, int | None] | None = None
        self._shift: np.ndarray | None = None
        self._ablated: frozenset[tuple[int, int]] = frozenset()
        self._hovered: tuple[int, int, int] | None = None  # (layer, head, key) under the mouse
        self.canvas.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.installEventFilter(self)  # keeps the overlay as large as the canvas

    def _build_overlay(self) -> None:
        self.overlay = QLabel(self.canvas)  # over the grid when the data is not current
        self.overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.overlay.setWordWrap(True)
        self.overlay.setStyleSheet(_STALE_STYLE.format(15))
        # Clicks and hover reach the maps through it: the person may pick a head meanwhile.
        self.overlay.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.overlay.hide()

    def _build_marks(self) -> None:
        """Query-row marks, ablation marks, shift badges and the outline, over the maps."""
        self.query_marks = self._add_path(pg.mkPen(_QUERY_COLOUR, width=1), QBrush(), z=2)
        self.ablation_marks = self._add_path(pg.mkPen(_ABLATED_PEN, width=1.5),
                                             QBrush(_ABLATED_FILL), z=3)
        self.badges = ShiftBadges()
        self.badges.setZValue(4)
        self.vb.addItem(self.badges, ignoreBounds=True)
        self.outline = QGraphicsRectItem()
        self.outline.setPen(pg.mkPen(_OUTLINE_COLOUR, width=3))
        self.outline.setZValue(5)
        self.outline.hide()
        self.vb.addItem(self.outline, ignoreBounds=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(760, 560)

    def _build_plot(self) -> None:
        """A plot with no mouse, menu or padding; layer names left, head names on top."""
        plot = self.plot
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.setDefaultPadding(0.0)
        plot.invertY(True)  # layer 1 at the top
        plot.setAspectLocked(True)  # square maps, however the widget is shaped
        plot.hideAxis("bottom")
        plot.showAxis("top")
        font = QFont(self.font())
        font.setPointSizeF(_TICK_POINTS)
        for name in ("left", "top"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(None))  # names only: no axis line, no tick marks
            axis.setTickPen(pg.mkPen(None))
            axis.setTextPen(pg.mkPen(FOREGROUND))
            axis.setStyle(tickFont=font, tickLength=0, tickTextOffset=3)
        plot.getAxis("top").setHeight(_TOP_AXIS)
        plot.getAxis("left").setWidth(_LEFT_AXIS)
        plot.vb.disableAutoRange()

    def _add_path(self, pen: QPen, brush: QBrush, z: float) -> QGraphicsPathItem:
        item = QGraphicsPathItem()
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setBrush(brush)
        item.setZValue(z)
        self.vb.addItem(item, ignoreBounds=True)
        return item

    # ----------------------------------------------------------------- public interface

    def set_attentions(self, attentions: np.ndarray, labels: Sequence[str],
                       query_row: int) -> None:
        """Show ``attentions`` (L, H, n, n): layer l, head h, query row i, key column j.

        ``labels`` names the n tokens; ``query_row`` is the row marked in every map and read
        by the hover line.
        """
        attentions = frozen(attentions, np.float32)  # no copy for the core's read-only result
        if attentions.ndim != 4 or attentions.shape[2] != attentions.shape[3]:
            raise ValueError(f"attentions must be (L, H, n, n), not {attentions.shape}")
        if attentions.shape[2] == 0:  # no tokens: no maps
            attentions = frozen(np.zeros((0, 0, 0, 0), np.float32))
        with QSignalBlocker(self):
            layers, heads, n, _ = attentions.shape
            self._attentions = attentions
            self._labels = [str(t) for t in labels][:n]
            self._labels += [f"#{i}" for i in range(len(self._labels), n)]
            self._query_row = min(max(int(query_row), 0), max(n - 1, 0))
            if (layers, heads) != self._geometry[:2]:
                self._on_grid_changed(GridGeometry(layers, heads))
                self._pooled_from = None
            if attentions is not self._pooled_from:  # a new result (a new query row alone: not)
                self.maps.set_maps(self._geometry, pooled_maps(attentions))
                self._pooled_from = attentions
            self.query_marks.setPath(self._geometry.query_row_path(self._query_row, n))
            self._show_outline()
            self._show_ablated()
            self.badges.set_shift(self._geometry, self._fitting_shift())
            self._show_readout()

    def set_selection(self, layer: int, head: int | None) -> None:
        """Outline map (layer, head); with head None, the whole layer row (the layer's mean)."""
        with QSignalBlocker(self):
            self._selection = (int(layer), None if head is None else int(head))
            self._show_outline()

    def set_shift(self, shift: np.ndarray | None) -> None:
        """Badge every map with how far an intervention moved its head ((L, H) in [0, 1],
        Jensen-Shannon); None hides the badges."""
        with QSignalBlocker(self):
            self._shift = None if shift is None else frozen(shift, np.float64, ndmin=2)
            self.badges.set_shift(self._geometry, self._fitting_shift())
            self.readout.setToolTip("" if self._shift is None else SHIFT_LEGEND)
            self._show_readout()

    def set_ablated(self, heads: Iterable[tuple[int, int]]) -> None:
        """Grey out and cross out the maps of ablated (layer, head) pairs."""
        with QSignalBlocker(self):
            self._ablated = frozenset((int(layer), int(head)) for layer, head in heads)
            self._show_ablated()
            self._show_readout()

    def set_stale(self, message: str | None) -> None:
        """Grey the grid under ``message`` ("updating…", "no result: …"); None: current again."""
        with QSignalBlocker(self):
            if message is None:
                self.overlay.hide()
            else:
                style = _STALE_STYLE.format(15 if len(message) <= _LONG_MESSAGE else 11)
                if style != self.overlay.styleSheet():
                    self.overlay.setStyleSheet(style)
                self.overlay.setText(message)
                self.overlay.setGeometry(self.canvas.rect())
                self.overlay.show()
                self.overlay.raise_()
            self._show_readout()

    # ----------------------------------------------------------------- for tests and exports

    @property
    def geometry_of_maps(self) -> GridGeometry:
        """Where the maps are, in view coordinates."""
        return self._geometry

    def map_count(self) -> int:
        """How many maps are shown."""
        return self.maps.count()

    def cells_for(self, layer: int, head: int) -> np.ndarray:
        """The (pooled) weights map (layer, head) shows."""
        return self.maps.cells(layer, head)

    def map_scene_rect(self, layer: int, head: int) -> QRectF:
        """Where map (layer, head) is in scene coordinates."""
        return self.vb.mapViewToScene(self._geometry.map_rect(layer, head)).boundingRect()

    def ablated_heads(self) -> frozenset[tuple[int, int]]:
        """The (layer, head) pairs marked as ablated (within the grid)."""
        return frozenset(p for p in self._ablated if self._in_grid(*p))

    def stale_message(self) -> str | None:
        """The overlay's message, or None when it is hidden."""
        return self.overlay.text() if not self.overlay.isHidden() else None

    # ----------------------------------------------------------------- updating

    def _on_grid_changed(self, geometry: GridGeometry) -> None:
        """A new L x H: name rows and columns, range the view on the grid."""
        self._geometry = geometry
        centre = 0.5
        self.plot.getAxis("left").setTicks(
            [[(layer * geometry.pitch + centre, f"L{layer + 1}")
              for layer in range(geometry.layers)]])
        self.plot.getAxis("top").setTicks(
            [[(head * geometry.pitch + centre, f"H{head + 1}") for head in range(geometry.heads)]])
        self.vb.setRange(rect=geometry.bounds(), padding=0.0)
        self._fit_grid()

    def _fit_grid(self) -> None:
        """Give the plot the grid's aspect, centred in the canvas, so the names sit next to the
        maps (the aspect lock alone would leave the spare space between names and maps)."""
        bounds = self._geometry.bounds()
        free_w = self.canvas.width() - 2 * _PAD - _LEFT_AXIS
        free_h = self.canvas.height() - 2 * _PAD - _TOP_AXIS
        if bounds.isEmpty() or free_w <= 0 or free_h <= 0:
            return
        aspect = bounds.width() / bounds.height()
        width, height = min(free_w, free_h * aspect), min(free_h, free_w / aspect)
        spare_w, spare_h = (free_w - width) / 2, (free_h - height) / 2
        self.canvas.ci.setContentsMargins(_PAD + spare_w, _PAD + spare_h, _PAD + spare_w,
                                          _PAD + spare_h)

    def _show_outline(self) -> None:
        selection = self._selection
        layers, heads = self._geometry.layers, self._geometry.heads
        if (selection is None or not 0 <= selection[0] < layers
                or (selection[1] is not None and not 0 <= selection[1] < heads)):
            self.outline.hide()
            return
        self.outline.setRect(self._geometry.outline_rect(*selection))
        self.outline.show()

    def _show_ablated(self) -> None:
        self.ablation_marks.setPath(self._geometry.rects_path(sorted(self.ablated_heads()),
                                                              crossed=True))

    def _fitting_shift(self) -> np.ndarray | None:
        """The shift when it has one value per shown map, else None (stale or another model)."""
        shift = self._shift
        if shift is None or shift.shape != (self._geometry.layers, self._geometry.heads):
            return None
        return shift

    def _in_grid(self, layer: int, head: int) -> bool:
        return 0 <= layer < self._geometry.layers and 0 <= head < self._geometry.heads

    def _show_readout(self) -> None:
        """The hovered map's strongest key for the query row, and the key under the mouse."""
        hovered = self._hovered
        if (hovered is None or not self._in_grid(*hovered[:2])
                or not hovered[2] < len(self._labels)):
            self.readout.setText(self._hint())
            return
        layer, head, key = hovered
        row = self._attentions[layer, head, self._query_row]  # (n,)
        best = int(np.argmax(row))
        query = self._labels[self._query_row]
        text = (f"layer {layer + 1} head {head + 1}: {query} -> {self._labels[best]} "
                f"{float(row[best]):.3f}; under the mouse: {query} -> {self._labels[key]} "
                f"{float(row[key]):.3f}")
        shift = self._fitting_shift()
        if shift is not None:  # small maps show only a coloured corner: the number is here
            # Significant digits, not decimals: one ablation moves later heads by thousandths.
            text += f"; shift {float(shift[layer, head]):.3g}"
        if (layer, head) in self._ablated:
            text += " (ablated)"
        if not self.overlay.isHidden():
            text += " (not current)"
        self.readout.setText(text)

    def _hint(self) -> str:
        """The line under the grid when no map is pointed at: how to read the maps (and their
        corners), or that the greyed maps are not current."""
        if not self.overlay.isHidden():
            return STALE_HINT
        return HOVER_HINT if self._fitting_shift() is None else f"{HOVER_HINT} {SHIFT_LEGEND}"

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self._on_canvas_resized()
        return super().eventFilter(watched, event)

    def _on_canvas_resized(self) -> None:
        self.overlay.setGeometry(self.canvas.rect())
        self._fit_grid()

    # ----------------------------------------------------------------- mouse

    def _hit(self, scene_pos: QPointF) -> tuple[int, int, int] | None:
        """(layer, head, key column) of the map under a scene position, or None."""
        if not self._labels or not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.vb.mapSceneToView(scene_pos)
        hit = self._geometry.hit(point.x(), point.y())
        if hit is None:
            return None
        layer, head, across, _ = hit
        n = len(self._labels)
        return layer, head, min(int(across * n), n - 1)

    def _on_scene_clicked(self, event) -> None:  # noqa: ANN001 (pyqtgraph MouseClickEvent)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._hit(event.scenePos())
        if hit is not None:
            self.head_clicked.emit(hit[0], hit[1])

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        hovered = self._hit(scene_pos)
        if hovered != self._hovered:
            self._hovered = hovered
            self._show_readout()

