"""The controls show the settings they are given and leave alone what did not change (pytest-qt)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from core.settings import Settings
from explorer.views.controls_view import ControlsView


class PaintCounter(QObject):
    """Counts the paint events each watched widget receives."""

    def __init__(self, *widgets: QObject) -> None:
        super().__init__()
        self.counts = {id(w): 0 for w in widgets}
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and id(obj) in self.counts:
            self.counts[id(obj)] += 1
        return False

    def painted(self, widget: QObject) -> bool:
        return self.counts[id(widget)] > 0


def test_new_settings_reach_every_spin_box(qtbot):
    view = ControlsView()
    qtbot.addWidget(view)
    view.set_settings(Settings())
    view.set_settings(Settings(n_heads=3, seed=7, d_k=5, temperature=2.5))
    assert (view.n_heads.value(), view.seed.value(), view.d_k.value()) == (3, 7, 5)
    assert view.temperature.value() == 2.5
    view.set_settings(Settings(n_heads=3, seed=7, d_k=None, temperature=0.257))
    assert view.d_k.text() == "auto"
    assert view.temperature.value() == 0.26  # two decimals shown


def test_a_temperature_change_repaints_only_the_temperature(qtbot):
    view = ControlsView()
    qtbot.addWidget(view)
    view.set_settings(Settings(n_heads=4, head_strategy="random"))
    view.show()
    qtbot.waitExposed(view)
    QApplication.processEvents()
    unchanged = (view.n_heads, view.seed, view.d_k)
    counter = PaintCounter(view.temperature, *unchanged)
    view.set_settings(Settings(n_heads=4, head_strategy="random", temperature=3.0))
    qtbot.waitUntil(lambda: counter.painted(view.temperature))
    QApplication.processEvents()
    assert not any(counter.painted(spin) for spin in unchanged)
