"""Guard against the PySide6 6.12.0 crash on Python 3.11: methods returning None, and
Signal.disconnect, drop one reference to None/True too many, and Python 3.11 aborts after a few
thousand calls. A live-updating window makes such calls constantly, so an upgrade that brings the
bug back must fail here, in a subprocess, rather than crash a person's session.
"""

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import os, sys
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QGraphicsRectItem

    class Emitter(QObject):
        fired = Signal()

    app = QApplication([])
    item = QGraphicsRectItem(0, 0, 1, 1)
    emitter = Emitter()
    def slot():
        pass
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(200_000):
        item.setPos(i % 7, 0)          # returns None
        item.isVisible()               # returns True
    for _ in range(2_000):
        emitter.fired.connect(slot)
        emitter.fired.disconnect(slot)
    none_after, true_after = sys.getrefcount(None), sys.getrefcount(True)
    print(none_after - none_before, true_after - true_before)
    """
)


def test_qt_calls_do_not_leak_or_steal_references_to_none_and_true():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"the probe died: {done.stderr[-2000:]}"
    none_drift, true_drift = (int(v) for v in done.stdout.split())
    # A few references come and go with ordinary allocation; the bug moves them by ~200,000.
    assert abs(none_drift) < 1_000, f"None refcount drifted by {none_drift}"
    assert abs(true_drift) < 1_000, f"True refcount drifted by {true_drift}"
