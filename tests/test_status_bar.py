"""The status bar: a new message repaints the message alone and never widens the window."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMainWindow, QSizeGrip
from qt_helpers import PaintCounter

from explorer.views.status_bar import StatusBar


def _window(qtbot) -> tuple[QMainWindow, StatusBar]:  # noqa: ANN001
    window = QMainWindow()
    status = StatusBar(window)
    window.setStatusBar(status)
    qtbot.addWidget(window)
    window.resize(600, 200)
    window.show()
    qtbot.waitExposed(window)
    return window, status


def test_a_new_message_repaints_only_the_message(qtbot):
    window, status = _window(qtbot)
    status.show_message("12 tokens x 4 heads in 5.1 ms")
    qtbot.wait(50)  # shown and settled
    grip = PaintCounter(status.findChild(QSizeGrip))
    message = PaintCounter(status.message)
    status.show_message("12 tokens x 4 heads in 12.25 ms · a warning")  # wider text
    qtbot.waitUntil(lambda: message.count > 0)
    QApplication.processEvents()
    assert grip.count == 0  # the bar was not laid out and repainted again
    assert status.message.text() == "12 tokens x 4 heads in 12.25 ms · a warning"


def test_a_long_message_does_not_widen_the_window(qtbot):
    window, status = _window(qtbot)
    before = window.minimumSizeHint().width()
    status.show_message("a very long warning " * 40)
    QApplication.processEvents()
    assert window.minimumSizeHint().width() == before


def test_a_message_of_two_lines_gets_the_room_it_needs(qtbot):
    window, status = _window(qtbot)
    status.show_message("one line")
    qtbot.wait(20)
    one_line = status.message.height()
    status.show_message("first line\nsecond line")
    qtbot.waitUntil(lambda: status.message.height() > one_line)
    assert status.message.width() == status.message.parentWidget().width()


def test_each_new_message_paints_the_message_once(qtbot):
    # The label is selectable: left alone, it laid its text out at its first paint, and that
    # asked for a second paint of the bar. In the window the first paint comes at once: a
    # plot's scene, told of new data, has Qt paint the whole window before anything else.
    window, status = _window(qtbot)
    status.show_message("12 tokens x 4 heads in 5.1 ms")
    qtbot.wait(50)
    message = PaintCounter(status.message)
    for i, text in enumerate(("12 tokens x 4 heads in 12.25 ms", "12 tokens x 4 heads in 3.5 ms",
                              "64 tokens x 8 heads in 17.0 ms · Out of vocabulary: xyzzy")):
        status.show_message(text)
        window.repaint()  # what a plot's scene has Qt do
        assert message.count == i + 1
        for _ in range(5):  # anything queued after that paint
            QApplication.processEvents()
        assert message.count == i + 1
        assert status.message.text() == text


def test_an_error_then_a_message_changes_the_colour_back(qtbot):
    window, status = _window(qtbot)
    status.show_message("could not read line 3", error=True)
    assert "b00020" in status.message.styleSheet()
    status.show_message("12 tokens x 4 heads in 5.1 ms")
    assert status.message.styleSheet() == ""
    status.show_message("again", error=True)
    assert "b00020" in status.message.styleSheet()


def test_a_message_too_long_for_the_bar_ends_in_an_ellipsis_and_is_whole_on_hover(qtbot):
    # Sentence mode on GloVe: two out-of-vocabulary warnings ran past the window's edge, cut
    # mid-word ("white-w") with no sign that more was there.
    window, status = _window(qtbot)
    text = ("5 tokens x 4 heads in 20.8 ms · 'I drink red-wine': Out of vocabulary: red-wine · "
            "'I drink a white-wine mix': Out of vocabulary: white-wine")
    status.show_message(text, tip="heads: 4 heads x d_k=12")
    QApplication.processEvents()
    label = status.message
    shown = label.shown_text()
    assert label.text() == text  # what the views and tests read is the whole message
    assert shown.endswith("…") and text.startswith(shown[:-1])
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert text in label.toolTip() and "heads: 4 heads x d_k=12" in label.toolTip()
    window.resize(1600, 200)  # room for it all: shown whole, the tip alone on hover
    QApplication.processEvents()
    assert label.shown_text() == text and label.toolTip() == "heads: 4 heads x d_k=12"
