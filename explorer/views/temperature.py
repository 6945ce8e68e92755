"""The temperature's two widgets, a logarithmic slider and a spin box, kept in step (both panels
of controls use them: the word-vector settings and a trained model's what-if)."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QSignalBlocker, Signal, Slot
from PySide6.QtWidgets import QDoubleSpinBox, QSlider

from core.settings import TEMPERATURE_RANGE

__all__ = ["SLIDER_STEPS", "TemperaturePair", "slider_to_temperature", "temperature_to_slider"]

SLIDER_STEPS = 400  # temperature slider: 0.01 .. 100 in 400 logarithmic steps (100 per decade)
_LOG_LOW, _LOG_HIGH = (math.log10(t) for t in TEMPERATURE_RANGE)


def temperature_to_slider(t: float) -> int:
    fraction = (math.log10(t) - _LOG_LOW) / (_LOG_HIGH - _LOG_LOW)
    return round(min(max(fraction, 0.0), 1.0) * SLIDER_STEPS)


def slider_to_temperature(position: int) -> float:
    return 10 ** (_LOG_LOW + (_LOG_HIGH - _LOG_LOW) * position / SLIDER_STEPS)


class TemperaturePair(QObject):
    """A log slider and a spin box for one temperature, kept in step; ``changed(float)`` says
    the temperature the person chose with either (both panels of controls use one)."""

    changed = Signal(float)

    def __init__(self, slider: QSlider, spin: QDoubleSpinBox, parent: QObject) -> None:
        super().__init__(parent)
        self._slider, self._spin = slider, spin
        slider.valueChanged.connect(self._on_slider_changed)
        spin.valueChanged.connect(self._on_spin_changed)

    @Slot(int)
    def _on_slider_changed(self, position: int) -> None:
        with QSignalBlocker(self._spin):
            self._spin.setValue(round(slider_to_temperature(position), 2))
        self.changed.emit(max(self._spin.value(), TEMPERATURE_RANGE[0]))

    @Slot(float)
    def _on_spin_changed(self, value: float) -> None:
        with QSignalBlocker(self._slider):
            self._slider.setValue(temperature_to_slider(value))
        self.changed.emit(value)
