"""The "updating…" sheet over the views while a long text runs through a model: it shows the
views' last picture dimmed without repainting them (repainting them under a see-through sheet,
with the forward pass on both cores, was the longest stall of a 512-token edit), and lets the
views through, live, the moment they change or the person works in them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from qt_helpers import PaintCounter
from test_model_window import open_tiny


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv, size=(1400, 900))


def _start_long_run(window) -> None:
    window.controller.sync_tokens = 16  # the tiny model takes 64 tokens: "long" is past 16
    window.apply(sentence=" ".join(["the animal was not swimming"] * 8))  # 42 tokens
    window.controller.flush()
    assert window.controller.jobs.busy("forward")


def _paint_pass(window) -> None:
    """The window's next paint pass, as the event loop runs it: the sheets' own posted events
    (a shown label's first layout), then the window's update request. Only those: the event
    loop would also deliver the finished forward pass, which takes the sheet down."""
    for _ in range(2):
        for sheet in (window.updating, window.dock_updating):
            QApplication.sendPostedEvents(sheet, 0)
        QApplication.sendPostedEvents(None, QEvent.Type.UpdateRequest)


def _region(image: QImage, widget, window) -> QImage:
    """The pixels of ``widget`` in ``image``, a picture of ``window`` (at its pixel ratio)."""
    ratio = image.devicePixelRatio()
    top_left = widget.mapTo(window, QPoint(0, 0)) * ratio
    size = widget.size() * ratio
    return image.copy(top_left.x(), top_left.y(), size.width(), size.height()).convertToFormat(
        QImage.Format.Format_RGB32)


def test_the_sheet_goes_up_over_a_still_of_the_views_without_repainting_them(window, qtbot):
    open_tiny(window, qtbot)
    qtbot.wait(100)  # every view painted, as on screen
    before = window.grab().toImage()  # the views as the person sees them
    latent, heatmaps = PaintCounter(window.latent.viewport()), PaintCounter(window.heatmaps)
    sheet = PaintCounter(window.updating)
    _start_long_run(window)
    _paint_pass(window)
    assert window.updating.isVisible() and window.updating.is_still()
    assert sheet.count == 1 and latent.count == 0 and heatmaps.count == 0
    # The still is the views' own picture, pixel for pixel, not a blank or an older one.
    still = window.updating._still.convertToFormat(QImage.Format.Format_RGB32)
    assert still == _region(before, window.updating, window)
    # On screen: the views' picture, dimmed (the sheet's grey over it), with the message.
    shown = _region(window.grab().toImage(), window.updating, window)
    assert shown != still and shown.size() == still.size()
    qtbot.waitUntil(lambda: not window.controller.jobs.busy("forward"), timeout=20000)
    window.controller.flush()
    qtbot.waitUntil(lambda: not window.updating.isVisible())
    assert not window.updating.is_still()


def test_the_result_is_handed_over_under_the_still_and_painted_a_turn_later(window, qtbot):
    """The hand-over of a 512-token result and the views' paint were one 40-80 ms stall when
    they ran in the same turn of the event loop: the sheet leaves only on the next turn."""
    open_tiny(window, qtbot)
    qtbot.wait(100)
    at_hand_over = []
    window.controller.updated.connect(lambda _update: at_hand_over.append(
        (window.updating.isVisible(), window.updating.is_still())))
    _start_long_run(window)
    qtbot.waitUntil(lambda: bool(at_hand_over), timeout=20000)
    assert at_hand_over == [(True, True)]  # the new numbers are in, not painted: still covered
    qtbot.waitUntil(lambda: not window.updating.isVisible())
    assert not window.dock_updating.isVisible()
    assert window.controller.analysis.settings.sentence.endswith("swimming")
    window.apply(sentence="the animal was not swimming")  # short: no sheet, nothing lingers
    window.controller.flush()
    assert not window.updating.isVisible()


def test_a_click_in_the_views_lets_them_through_live(window, qtbot):
    open_tiny(window, qtbot)
    qtbot.wait(100)
    _start_long_run(window)
    assert window.updating.is_still() and window.dock_updating.is_still()
    latent = PaintCounter(window.latent.viewport())
    qtbot.mouseClick(window.latent.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.latent.viewport().rect().center())
    assert not window.updating.is_still()  # the views' own reaction shows through
    assert window.dock_updating.is_still()  # the dock was not touched
    _paint_pass(window)
    assert latent.count >= 1 and window.updating.isVisible()
    qtbot.waitUntil(lambda: not window.controller.jobs.busy("forward"), timeout=20000)


def test_views_changed_under_the_sheet_show_through(window, qtbot):
    open_tiny(window, qtbot)
    qtbot.wait(100)
    _start_long_run(window)
    window.apply(selected_head=2)  # picked while the model runs: shown at once, old text
    window.controller.flush()
    assert window.updating.isVisible() and not window.updating.is_still()
    assert not window.dock_updating.is_still()
    qtbot.waitUntil(lambda: not window.controller.jobs.busy("forward"), timeout=20000)
    window.controller.flush()
    assert window.controller.analysis.settings.selected_head == 2


def test_a_resize_drops_the_still_that_no_longer_fits(window, qtbot):
    open_tiny(window, qtbot)
    qtbot.wait(100)
    _start_long_run(window)
    assert window.updating.is_still()
    window.resize(1300, 850)
    qtbot.waitUntil(lambda: window.updating.size() == window.views_splitter.size())
    assert not window.updating.is_still()
    qtbot.waitUntil(lambda: not window.controller.jobs.busy("forward"), timeout=20000)


def test_views_not_yet_painted_at_their_new_size_get_a_see_through_sheet(window, qtbot):
    """Right after a resize the backing store does not hold the views as they are: a still of
    it would show the old layout (or, before the first paint, whatever the memory held)."""
    open_tiny(window, qtbot)
    qtbot.wait(100)
    window.resize(1300, 850)  # no paint yet at the new size
    _start_long_run(window)
    assert window.updating.isVisible() and not window.updating.is_still()
    qtbot.waitUntil(lambda: not window.controller.jobs.busy("forward"), timeout=20000)
