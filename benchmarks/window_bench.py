"""The real window, offscreen at 1400x900: how long a settings change takes to reach the screen,
and how long the application takes to start.

``update_ms.n{n}_h{h}``: the default vectors already loaded, a sentence of n frequent GloVe words,
h heads; each run changes the temperature through the state (as the temperature slider does),
runs the controller's recompute at once (its 16 ms coalescing timer is a deliberate frame delay,
not work, so it is not waited for) and processes events until every visible view has received a
paint event. That is the whole path: state -> pipeline -> views' ``set_*`` -> Qt painting.

``startup_s.window`` / ``startup_s.ready``: a fresh interpreter (``python -m
benchmarks.window_bench --child``) does what ``main.py`` does (fresh settings, no remembered
state) and reports when the window first painted and when the default vectors were loaded and the
views drew their first result, counted from just before the parent started the process. The child
also reports its resident memory then (used by memory_bench). This module imports nothing heavy at
the top, so the child's clock includes only what the application itself imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.timing import rss_mb

ROOT = Path(__file__).resolve().parent.parent
T0_ENV = "AE_BENCH_T0"  # wall-clock time (time.time()) just before the parent started the child
CHILD_TAG = "BENCH-RESULT "
WINDOW_SIZE = (1400, 900)
UPDATE_CASES = ((12, 4, 8.0), (64, 8, 16.0), (512, 12, 60.0))  # n tokens, h heads, target ms
UPDATE_BUDGET_S = 30.0  # per case, once 3 runs are in
# Window attributes holding views (dotted: an attribute of an attribute); the ones that exist
# and are visible must repaint. New views are picked up by adding their name here.
VIEW_NAMES = ("token_strip", "heatmaps", "lines", "latent", "statistics", "computation.dock")


def _view(window: Any, name: str) -> Any:
    for part in name.split("."):
        window = getattr(window, part, None)
    return window


def _paint_watcher(window: Any, on_done: Any = None) -> Any:
    """An object that records which of the window's visible views got a paint event.

    ``on_done`` is called (from the event loop, once the current paint pass has finished) the
    first time every watched view has painted after a ``reset``.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    class PaintWatcher(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.owner: dict[int, str] = {}
            self.painted: set[str] = set()
            self.notified = False
            QApplication.instance().installEventFilter(self)

        def watch(self, names: dict[str, Any]) -> None:
            """Wait for each named widget (or any of its children) to paint."""
            self.painted.clear()
            self.notified = False
            self.owner = {}
            for name, view in names.items():
                for w in (view, *view.findChildren(QWidget)):
                    self.owner[id(w)] = name

        def reset(self) -> None:
            """Wait for every view visible now (call before each measured change)."""
            views = {name: _view(window, name) for name in VIEW_NAMES}
            self.watch({name: v for name, v in views.items()
                        if isinstance(v, QWidget) and v.isVisible()})

        def done(self) -> bool:
            return self.painted >= set(self.owner.values())

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
            if event.type() == QEvent.Type.Paint and id(obj) in self.owner:
                self.painted.add(self.owner[id(obj)])
                if on_done is not None and not self.notified and self.done():
                    self.notified = True
                    QTimer.singleShot(0, on_done)
            return False

    return PaintWatcher()


def _sentence(kv: Any, n: int) -> list[str]:
    """n distinct frequent words: alphabetic, so the tokeniser keeps each as one token."""
    words = [w for w in kv.index_to_key[50:20_000] if w.isascii() and w.isalpha()]
    return words[:n]


def _make_window(kv: Any, words: list[str], heads: int, cache_dir: str) -> Any:
    from core.settings import Settings
    from explorer.main_window import MainWindow

    settings = Settings(sentence=" ".join(words), query=words[0], n_heads=heads)
    window = MainWindow(settings, None, cache_dir=cache_dir)  # no store: user settings untouched
    window.resize(*WINDOW_SIZE)
    window.show()
    window.set_vectors(kv, None)
    return window


def _settle(app: Any, watcher: Any, limit_s: float = 5.0) -> bool:
    """Process events until every watched view painted; False if that did not happen in time."""
    deadline = time.perf_counter() + limit_s
    while not watcher.done():
        if time.perf_counter() > deadline:
            return False
        app.processEvents()
    return True


def _one_update(app: Any, window: Any, watcher: Any, i: int) -> tuple[float, bool]:
    """Change the temperature once; milliseconds until all views painted, and whether they did."""
    temperature = 1.0 + 0.05 * ((i % 7) + 1) * (-1) ** i  # never equal to the last value
    app.processEvents()
    watcher.reset()
    start = time.perf_counter()
    window.state.update(temperature=temperature)
    window.controller.flush()  # what the coalescing timer calls one frame later
    painted = _settle(app, watcher)
    return (time.perf_counter() - start) * 1e3, painted


def measure_updates(app: Any, window: Any, runs: int, budget_s: float = UPDATE_BUDGET_S,
                    min_runs: int = 3, between: Any = None) -> tuple[list[float], dict[str, Any]]:
    """Milliseconds from a temperature change until every visible view has repainted.

    Up to 3 warm-up changes first (first paints build glyph caches etc.; a warm-up slower than
    a second is warm enough). A slow case stops after ``budget_s`` with ``min_runs`` timed runs,
    so one pathological size cannot take the suite hostage. ``between`` is called after each
    timed update.
    """
    # Only the two timings of each update are kept: holding the updates themselves would keep
    # every result's arrays alive (75 MB each at n=512, h=12), so each run would compute into
    # fresh memory the kernel must fault in, which the application never does.
    updates: list[tuple[float, float]] = []

    def record(update: Any) -> None:
        updates.append((update.compute_ms, update.views_ms))

    window.controller.updated.connect(record)
    watcher = _paint_watcher(window)
    for i in range(3):
        if _one_update(app, window, watcher, i)[0] > 1000:
            break
    warm = len(updates)
    times, incomplete, started = [], 0, time.perf_counter()
    while len(times) < runs and (len(times) < min_runs
                                 or time.perf_counter() - started < budget_s):
        elapsed, painted = _one_update(app, window, watcher, len(times) + warm)
        times.append(elapsed)
        if between is not None:  # e.g. the yardstick, at the same moment of the machine
            between()
        incomplete += not painted
    window.controller.updated.disconnect(record)
    app.removeEventFilter(watcher)
    if len(updates) != warm + len(times):
        raise RuntimeError("the controller did not report one update per temperature change")
    done = updates[warm:]
    extra = {
        "compute_ms_median": _median([compute for compute, _ in done]),
        "views_set_ms_median": _median([views for _, views in done]),
        "views_watched": sorted(set(watcher.owner.values())),
        "runs_without_all_paints": incomplete,
    }
    return times, extra


def _median(values: list[float]) -> float:
    from benchmarks.timing import median

    return median(values)


def run_updates(cfg: Any, only: Sequence[str]) -> list[Any]:
    import tempfile

    from PySide6.QtWidgets import QApplication

    from benchmarks.qt_baseline import Yardstick
    from benchmarks.timing import Result, Target, wanted
    from core.vectors.load import load_default_vectors

    app = QApplication.instance() or QApplication([])
    kv = load_default_vectors()
    results = []
    for n, h, target in UPDATE_CASES:
        key = f"update_ms.n{n}_h{h}"
        if not wanted(only, key):
            continue
        yardstick = Yardstick(app)
        with tempfile.TemporaryDirectory(prefix="ae-bench-window-") as cache:
            window = _make_window(kv, _sentence(kv, n), h, cache)
            window.controller.flush()  # the first result: vocabulary PCA etc., not timed
            app.processEvents()
            times, extra = measure_updates(
                app, window, cfg.repeats(full=30, quick=10),
                budget_s=UPDATE_BUDGET_S / 3 if cfg.quick else UPDATE_BUDGET_S,
                min_runs=2 if cfg.quick else 3,
                between=yardstick.measure)
            window.close()
            window.deleteLater()
            app.processEvents()
        yardstick.close()
        results.append(Result(key, times, Target("<=", target), "ms",
                              "temperature change -> all visible views repainted", extra))
        results += yardstick.results(key, times, "update")
    return results


# ------------------------------------------------------------------------------ start-up


def run_child_process(timeout_s: float = 120.0) -> dict[str, float]:
    """Start the child, wait for its report: {"window_s", "ready_s", "rss_mb"}."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYQTGRAPH_QT_LIB="PySide6")
    env[T0_ENV] = repr(time.time())
    out = subprocess.run([sys.executable, "-m", "benchmarks.window_bench", "--child"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=timeout_s)
    for line in out.stdout.splitlines():
        if line.startswith(CHILD_TAG):
            return json.loads(line[len(CHILD_TAG):])
    raise RuntimeError(f"start-up child failed ({out.returncode}): {out.stderr[-2000:]}")


def compile_application() -> None:
    """Write the application's bytecode caches, as ``make run`` does before it starts the window
    (where PYTHONDONTWRITEBYTECODE is set Python would compile every module on each start)."""
    import compileall

    for folder in ("core", "explorer"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    compileall.compile_file(ROOT / "main.py", quiet=1)


def run_startup(cfg: Any, only: Sequence[str]) -> list[Any]:
    from benchmarks.timing import Result, Target

    compile_application()
    run_child_process()  # warm-up: the page cache holds Qt, gensim and the vectors afterwards
    reports = [run_child_process() for _ in range(cfg.repeats(full=5, quick=3))]
    note = "fresh process, offscreen, default vectors (warm page cache, bytecode as make run)"
    return [
        Result("startup_s.window", [r["window_s"] for r in reports], Target("<=", 1.0), "s",
               "process start -> window first painted; " + note),
        Result("startup_s.ready", [r["ready_s"] for r in reports], Target("<=", 2.0), "s",
               "process start -> default vectors loaded, views drawn; " + note),
    ]


def run(cfg: Any, only: Sequence[str] = ()) -> list[Any]:
    from benchmarks.timing import wanted

    results = run_updates(cfg, only) if wanted(only, "update_ms") else []
    return results + (run_startup(cfg, only) if wanted(only, "startup_s") else [])


def _child() -> None:
    """What ``main.py`` does for ``python main.py --fresh``, with time marks; then exit."""
    t0 = float(os.environ.get(T0_ENV, time.time()))
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import main  # the application's entry module, as `python main.py` imports it
    from explorer.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Attention Explorer")
    collector = main.collect_garbage_from_the_event_loop()  # noqa: F841 (as main.py)
    settings = main.settings_from_args(main.build_parser().parse_args(["--fresh"]))
    window = MainWindow(settings, None)  # None: neither read nor write the person's settings
    window.resize(*WINDOW_SIZE)
    marks: dict[str, float] = {}

    def on_painted() -> None:
        if "window" not in marks:  # the first paint of the window (any part of it)
            marks["window"] = time.time() - t0
        elif "ready" not in marks:  # the views painted the first result
            marks["ready"] = time.time() - t0
            report = {"window_s": marks["window"], "ready_s": marks["ready"], "rss_mb": rss_mb()}
            print(CHILD_TAG + json.dumps(report), flush=True)
            window.close()
            app.quit()

    watcher = _paint_watcher(window, on_painted)
    watcher.watch({"window": window})
    window.controller.updated.connect(lambda _update: watcher.reset())
    window.show()
    window.load_vectors(None)
    QTimer.singleShot(60_000, app.quit)  # never hang the parent
    app.exec()


def _profile_updates(n: int, heads: int, runs: int) -> None:
    """Only the measured updates, many times over, for a sampling profiler to attach to:
    ``py-spy record -o update.svg -- python -m benchmarks.window_bench --updates 12 4 300``."""
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from PySide6.QtWidgets import QApplication

    from benchmarks.timing import median
    from core.vectors.load import load_default_vectors

    app = QApplication.instance() or QApplication([])
    kv = load_default_vectors()  # as run_updates
    with tempfile.TemporaryDirectory(prefix="ae-bench-window-") as cache:
        window = _make_window(kv, _sentence(kv, n), heads, cache)
        window.controller.flush()
        times, _ = measure_updates(app, window, runs, budget_s=float("inf"), min_runs=runs)
        window.close()
    print(f"update_ms.n{n}_h{heads}: median {median(times):.1f} ms over {len(times)} updates")


if __name__ == "__main__" and sys.argv[1:] == ["--child"]:
    _child()
elif __name__ == "__main__" and sys.argv[1:2] == ["--updates"]:
    _profile_updates(*(int(a) for a in sys.argv[2:5]))
