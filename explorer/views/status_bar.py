"""The window's status bar: what was computed and how long it took, warnings, errors in red,
and the progress of a load with its Cancel button."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from explorer.views.elided_label import ElidedLabel

if TYPE_CHECKING:
    from core.pipeline import Analysis
    from core.settings import Settings

__all__ = ["StatusBar"]

_SLICED = ("split", "random", "pca")  # head strategies whose automatic d_k is d // h


class StatusBar(QStatusBar):
    """One message (what was computed, warnings, or an error in red) + load progress + Cancel."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = ElidedLabel()  # a long line of warnings ends in "…", whole on hover
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop loading; the current vectors stay.")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.addWidget(_MessageBox(self.message), 1)
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.cancel_button)
        self.progress.hide()
        self.cancel_button.hide()
        self._summary = ("", "")  # the last result's message and tip (show_update)
        self._input_error = ""  # the refused input said by show_error, while it is shown

    def show_message(self, text: str, error: bool = False, tip: str = "") -> None:
        self.message.setText(text)
        # A selectable label lays its text out at its first paint after a new text, and that
        # layout asks for a second paint of the bar. Asked for its size now, it lays the text
        # out before the paint: one paint per message (a message comes with every update).
        self.message.sizeHint()
        style = "color: #b00020;" if error else ""
        if style != self.message.styleSheet():  # setting a style sheet repaints, even the same
            self.message.setStyleSheet(style)
        self.message.setToolTip(tip or text)

    @Slot(str)
    def show_error(self, text: str) -> None:
        """``text`` in red: an input was refused, a file could not be used. "" says the refused
        input is right again: what the current result is comes back (when the error is still
        the message shown)."""
        if text:
            self.show_message(text, error=True)
            self._input_error = text
        elif self._input_error and self.message.text() == self._input_error:
            self.show_message(self._summary[0], tip=self._summary[1])

    def show_update(self, a: Analysis, compute_ms: float, views_ms: float,
                    settings: Settings) -> None:
        """E.g. "12 tokens x 4 heads in 1.8 ms · Out of vocabulary: xyzzy": what ``a`` holds,
        computed in ``compute_ms`` and shown by the views in ``views_ms``."""
        h, _, n = a.weights.shape
        parts = [f"{n} token{'s' if n != 1 else ''} x {h} head{'s' if h != 1 else ''} in "
                 f"{compute_ms + views_ms:.1f} ms"]
        d_model = a.sentence.vectors.shape[1]
        if a.model is not None:
            parts.extend(_model_parts(a, settings))
        elif settings.d_k is None and settings.source != "model":
            # Say how the automatic choice came out when it is not exact (word vectors: with a
            # model, sentence mode compares its sentence embeddings, and no heads are asked).
            if d_model % h and a.heads.d_k == d_model // h and a.heads.strategy in _SLICED:
                parts.append(_unused_dimensions(d_model, h, a.heads.d_k, a.heads.strategy))
            elif h * a.heads.d_k != d_model or h != settings.n_heads:
                parts.append(a.heads.note)
        parts.extend(a.warnings)
        tip = f"heads: {a.heads.note}\ncompute {compute_ms:.1f} ms, views {views_ms:.1f} ms"
        self._summary = (" · ".join(parts), tip)
        self.show_message(self._summary[0], tip=tip)

    def start_progress(self, text: str) -> None:
        self.show_message(text)
        self.progress.setRange(0, 0)  # "busy" until a loader reports a fraction
        self.progress.show()
        self.cancel_button.show()

    @Slot(float)
    def show_progress(self, fraction: float) -> None:
        if 0.0 < fraction < 1.0:
            self.progress.setRange(0, 100)
            self.progress.setValue(round(100 * fraction))

    def stop_progress(self, text: str, error: bool = False) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.show_message(text, error=error)


class _MessageBox(QWidget):
    """Holds the message label without a layout, as wide as the bar gives it.

    QLabel.setText always asks for a new layout; in a layout that request climbs to the status
    bar and the main window, which then lay out and repaint the whole bar after every update
    (each shows a new time). Here it stops at this box, which only follows the label's height,
    and a long message cannot make the window's minimum width grow.
    """

    def __init__(self, label: QLabel) -> None:
        super().__init__()
        self._label = label
        label.setParent(self)
        self._height = label.sizeHint().height()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, self._height)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, self._height)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the label's text changed
            height = self._label.sizeHint().height()
            if height != self._height:  # more lines: the bar makes room
                self._height = height
                self.updateGeometry()
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        self._label.setGeometry(self.rect())
        super().resizeEvent(event)


def _unused_dimensions(d_model: int, heads: int, d_k: int, strategy: str) -> str:
    """The automatic d_k in words, for a first screen: what each head sees when ``heads`` does
    not divide ``d_model``. Only "split" heads see slices of the dimensions (some then left
    out); random and PCA heads each mix every dimension."""
    unused = d_model - heads * d_k
    left = f"{unused} {'is' if unused == 1 else 'are'} left unused"
    why = f"({d_model} is not a multiple of {heads})"
    if strategy == "split":
        return f"each of the {heads} heads uses {d_k} of the {d_model} dimensions, {left} {why}"
    if strategy == "pca":
        least = "the one" if unused == 1 else f"the {unused}"
        return (f"each of the {heads} heads mixes all {d_model} dimensions into {d_k} principal "
                f"components; {least} with the least variance {'is' if unused == 1 else 'are'}"
                f" left out {why}")
    return (f"each of the {heads} heads mixes all {d_model} dimensions into d_k = {d_k} "
            f"({d_model} / {heads} rounded down)")


def _model_parts(a: Analysis, settings: Settings) -> list[str]:
    """What a trained model's maps leave out (the hidden special tokens' share of the query's
    weight) and how far the interventions moved the sentence embedding."""
    m = a.model
    assert m is not None
    parts = []
    if m.hidden_share is not None:
        head = settings.selected_head
        shares = m.hidden_share[:, a.query_row]  # (H,) per head, for the query row
        share = float(shares.mean() if head is None or head >= len(shares) else shares[head])
        where = "the mean of the heads" if head is None else f"head {head + 1}"
        parts.append(f"hidden special tokens take {share:.0%} of the weight of "
                     f"'{a.query.text}' in {where}")
    if m.embedding_cosine is not None:
        parts.append(f"interventions: sentence embedding cosine {m.embedding_cosine:.4f} to the "
                     "model as trained")
    return parts
