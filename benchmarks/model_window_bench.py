"""The real window with the bundled trained model, offscreen at 1400x900.

``update_ms.model_n32``: the sentence is edited (32 tokens, two texts in turn, so every edit is
a new forward pass): tokenise, every layer, and every visible view repainted.
``update_ms.model_layer`` / ``update_ms.model_head``: another layer or head is chosen (no
forward pass: the run is kept), until every visible view repainted.
``stall_ms.model_n512``: while a 512-token text runs through the model (in the background) and
is shown, the longest time the event loop did not turn (a 2 ms timer's largest gap).

The watched views are those of ``benchmarks.window_bench`` plus the model view (its tab is the
one shown, so it repaints too).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from benchmarks.window_bench import VIEW_NAMES, WINDOW_SIZE, _paint_watcher, _settle, _view

TEXT = "The animal was not swimming in the sea because it was running on the street. " * 40
CASES = {"model_n32": 33.0, "model_layer": 16.0, "model_head": 16.0}


def _window(cache_dir: str) -> Any:
    from core.settings import Settings
    from core.transformer import load_model
    from explorer.main_window import MainWindow

    model = load_model()
    text = model.tokenizer._tokenizer.decode(model.encode(TEXT, max_length=32).ids[1:-1])
    window = MainWindow(Settings(sentence=text, query="it"), None, cache_dir=cache_dir)
    window.resize(*WINDOW_SIZE)
    window.show()
    window.state.set_transformer(model, None)
    window.tabs.setCurrentWidget(window.model_view)
    window.controller.flush()
    return window


def _changes(window: Any, case: str) -> list[dict[str, Any]]:
    """The two alternating changes a case makes."""
    s = window.state.settings
    if case == "model_n32":
        return [{"sentence": s.sentence}, {"sentence": s.sentence.replace("animal", "horse", 1)}]
    if case == "model_layer":
        return [{"model": replace(s.model, layer=3)}, {"model": replace(s.model, layer=4)}]
    return [{"selected_head": 2}, {"selected_head": 7}]


def _time_changes(app: Any, window: Any, case: str, runs: int,
                  between: Any = None) -> list[float]:
    from PySide6.QtWidgets import QWidget

    watcher = _paint_watcher(window)
    watcher_names = (*VIEW_NAMES, "model_view")
    changes = _changes(window, case)
    times = []
    for i in range(runs + 2):  # two warm-up changes
        app.processEvents()
        views = {name: _view(window, name) for name in watcher_names}
        watcher.watch({name: v for name, v in views.items()
                       if isinstance(v, QWidget) and v.isVisible()})
        start = time.perf_counter()
        window.state.update(**changes[i % 2])
        window.controller.flush()
        _settle(app, watcher)
        if i >= 2:
            times.append((time.perf_counter() - start) * 1e3)
            if between is not None:  # the yardstick, at the same moment of the machine
                between()
    app.removeEventFilter(watcher)
    return times


def _longest_stall(app: Any, window: Any) -> float:
    """Milliseconds of the longest event-loop gap while a 512-token text is computed, shown."""
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1e3)
        last[0] = now

    timer = QTimer()
    timer.setInterval(2)
    timer.timeout.connect(tick)
    timer.start()
    window.state.update(sentence=TEXT)  # far past 512 tokens: cut to 512
    deadline = time.perf_counter() + 30
    while (window.controller.pending or window.controller.jobs.busy("forward")
           or window.controller.analysis.settings.sentence != TEXT) and \
            time.perf_counter() < deadline:
        app.processEvents()
    for _ in range(20):  # the views' paints after the result arrived
        app.processEvents()
        time.sleep(0.002)
    timer.stop()
    return max(gaps) if gaps else float("nan")


def run(cfg: Any, only: Sequence[str]) -> list[Any]:
    import tempfile

    from PySide6.QtWidgets import QApplication

    from benchmarks.qt_baseline import Yardstick
    from benchmarks.timing import Result, Target, wanted

    app = QApplication.instance() or QApplication([])
    results = []
    with tempfile.TemporaryDirectory(prefix="ae-bench-model-") as cache:
        window = _window(cache)
        for case, target in CASES.items():
            key = f"update_ms.{case}"
            if wanted(only, key):
                yardstick = Yardstick(app)
                times = _time_changes(app, window, case, cfg.repeats(full=20, quick=6),
                                      between=yardstick.measure)
                yardstick.close()
                results.append(Result(key, times, Target("<=", target), "ms",
                                      "change -> every visible view repainted, bundled model"))
                results += yardstick.results(key, times, "change")
        if wanted(only, "stall_ms.model_n512") and not cfg.tiny:
            short = window.state.settings.sentence
            stalls = []
            for _ in range(cfg.repeats(full=7, quick=1)):  # a max per run: noisy, so 7
                window.state.update(sentence=short)  # each run starts from a short text
                window.controller.flush()
                window.controller.settle()
                app.processEvents()
                stalls.append(_longest_stall(app, window))
            results.append(Result("stall_ms.model_n512", stalls, Target("<=", 50.0), "ms",
                                  "longest event-loop gap while 512 tokens run and are shown"))
        window.shutdown()
        window.close()
        window.deleteLater()
        app.processEvents()
    return results
