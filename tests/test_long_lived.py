"""After a load, what the window holds is frozen out of the cycle collector's scans (its full
collections took ~45 ms: a stall when one starts during a hand-over), and the next load still
collects what was left in reference cycles since (real window, offscreen)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from qt_helpers import open_tiny_model

TINY_GPT2 = str(Path(__file__).parent / "data" / "transformer" / "tiny-gpt2")


class Node:
    """Something that refers to itself: only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_load_freezes_what_stays_and_the_next_load_collects_old_cycles(open_window, tiny_kv,
                                                                         qtbot):
    window = open_window(tiny_kv, size=(1200, 800))
    node = Node()
    gone = weakref.ref(node)
    open_tiny_model(window, qtbot)  # a load: once its result is shown, everything is frozen
    assert gc.get_freeze_count() > 0
    del node  # now garbage, in a cycle, and frozen
    gc.collect()
    assert gone() is not None  # a frozen object is not even scanned
    with qtbot.waitSignal(window.state.changed, timeout=20000,  # the next load
                          check_params_cb=lambda names: "transformer" in names):
        window.models.open(TINY_GPT2)
    window.controller.flush()  # its first result shown: unfrozen, collected, frozen again
    assert gone() is None
    assert gc.get_freeze_count() > 0
