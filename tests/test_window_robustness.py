"""The real window under abuse: broken files through the open path, and a long random session.

Broken files come from ``tests/test_bad_vector_files.py``'s corpus; each must end in a message (the
error dialog is replaced by a recorder: a modal dialog would block the test) while the previous
vectors stay loaded and usable. The long session applies 5,000 random changes to the window the way
its widgets do, processing events in batches, and checks that every view only ever holds finite
numbers and that resident memory does not keep growing.
"""

from __future__ import annotations

import gc
import random
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

# tests/ is on sys.path (pytest puts the conftest's folder there): the module objects pytest uses.
from conftest import TINY_WORDS
from gensim.models import KeyedVectors
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from test_bad_vector_files import CASES

from benchmarks.timing import rss_mb
from core.maths.attention import NORMALIZATIONS, SCORINGS
from core.maths.heads import HEAD_STRATEGIES
from core.settings import OOV_POLICIES, PROJECTIONS, TEMPERATURE_RANGE
from explorer.main_window import MainWindow

WINDOW_CASES = [
    "empty", "fifo", "random .bin", "binary truncated mid-vector",
    "fastText .bin cut in its vocabulary", "header claims 10^12 words", "non-UTF-8 token",
]
CHANGES = 5_000
BATCH = 10  # changes per processEvents + recompute: the frame coalescing does the same


@pytest.fixture
def window(open_window, tiny_kv: KeyedVectors) -> MainWindow:
    return open_window(tiny_kv, size=(1000, 700))


def view_numbers(window: MainWindow) -> dict[str, np.ndarray]:
    """What the views are drawing right now, as arrays."""
    numbers = {"mean heatmap": np.asarray(window.heatmaps.image_for(None).image, dtype=float),
               "lines": window.lines.line_alphas()}
    latent = window.latent
    for name in ("tokens", "query", "head_mixes", "output"):
        x, y = getattr(latent, name).getData()
        numbers[f"map {name}"] = np.column_stack([x, y]) if len(x) else np.zeros((0, 2))
    a = window.controller.analysis
    if a is not None:
        for h in range(a.weights.shape[0]):
            numbers[f"heatmap {h}"] = np.asarray(window.heatmaps.image_for(h).image, dtype=float)
    return numbers


def assert_views_finite(window: MainWindow) -> None:
    bad = [name for name, a in view_numbers(window).items() if not np.isfinite(a).all()]
    assert not bad, f"non-finite data in {bad}"


# ------------------------------------------------------------------------- broken files


@pytest.mark.parametrize("name", WINDOW_CASES)
def test_broken_file_keeps_the_previous_vectors(window: MainWindow, qtbot, tmp_path: Path,  # noqa: ANN001
                                                errors: list[str], tiny_kv: KeyedVectors,
                                                name: str) -> None:
    case = next(c for c in CASES if c.name == name)
    folder = tmp_path / "files"
    folder.mkdir()
    path = case.write(folder)
    with qtbot.waitSignal(window.loader.failed, timeout=10_000):
        assert window.load_vectors(str(path))
    assert errors and path.name in errors[-1], errors
    for fragment in case.error:
        assert fragment in errors[-1]
    assert path.name in window.status.message.text()
    assert window.state.kv is tiny_kv  # the previous vectors stay
    window.apply(temperature=2.0, sentence="the cat sat on the mat", query="mat")
    window.controller.flush()
    analysis = window.controller.analysis
    assert analysis is not None and analysis.col_labels[-1] == "mat"  # and still work
    assert_views_finite(window)
    qtbot.waitUntil(lambda: not window.loader._jobs, timeout=5000)


def test_untrusted_pickle_is_not_opened(window: MainWindow, tmp_path: Path,
                                        tiny_kv: KeyedVectors) -> None:
    path = next(c for c in CASES if c.name == "pickle that runs code").write(tmp_path)
    assert not window.load_vectors(str(path))  # ask_trust said no
    assert "not trusted" in window.status.message.text()
    assert window.state.kv is tiny_kv and not (tmp_path / "pwned").exists()


# ------------------------------------------------------------------------- long session


def random_sentence(rng: random.Random) -> str:
    words = [rng.choice(TINY_WORDS) for _ in range(rng.randint(0, 14))]
    if rng.random() < 0.2:
        words.insert(rng.randint(0, len(words)), rng.choice(["blorf", "😀", "שלום", "?!"]))
    return " ".join(words)


def random_change(window: MainWindow, rng: random.Random) -> None:
    """One thing a person could do: a control, a sentence edit, a click, a head choice."""
    kind = rng.randrange(10)
    a = window.controller.analysis
    n = len(a.col_labels) if a is not None else 1
    if kind == 0:
        low, high = np.log(TEMPERATURE_RANGE)
        window.apply(temperature=float(np.exp(rng.uniform(low, high))))
    elif kind == 1:
        window.apply(**rng.choice([
            {"scoring": rng.choice(SCORINGS)}, {"normalization": rng.choice(NORMALIZATIONS)},
            {"causal": rng.random() < 0.5}, {"exclude_self": rng.random() < 0.5},
            {"show_neighbours": rng.random() < 0.5}, {"seed": rng.randrange(100)},
        ]))
    elif kind == 2:
        n_heads = rng.randint(1, 8)
        window.apply(n_heads=n_heads, selected_head=None,
                     d_k=rng.choice([None, None, rng.randint(1, 8)]))
    elif kind == 3:
        window.apply(**rng.choice([
            {"head_strategy": rng.choice(HEAD_STRATEGIES[:-1])},  # not "file": no .npz here
            {"oov_policy": rng.choice(OOV_POLICIES)}, {"projection": rng.choice(PROJECTIONS)},
        ]))
    elif kind in (4, 5):
        text = random_sentence(rng)
        window.top_bar.sentence_edit.setText(text)
        window.top_bar.sentence_edit.textEdited.emit(text)  # as if typed
    elif kind == 6:
        window.top_bar.query_edit.textEdited.emit(rng.choice([*TINY_WORDS, "qqq", ""]))
    elif kind == 7:
        window.edits.select_query_position(rng.randrange(n))
        window.keys.move_query(rng.choice([-1, 1]))
    elif kind == 8:
        window.edits.select_cell(rng.randrange(n), rng.randrange(n))  # a heatmap click
    else:
        heads = window.state.settings.n_heads
        window.edits.select_head(rng.choice([None, rng.randrange(heads)]))
        window.keys.step_head(rng.choice([-1, 1]))


def run_session(window: MainWindow, rng: random.Random, changes: int) -> None:
    for done in range(changes):
        random_change(window, rng)
        if done % BATCH == BATCH - 1:
            QApplication.processEvents()
            window.controller.flush()
            assert_views_finite(window)


def test_five_thousand_random_changes(window: MainWindow) -> None:
    rng = random.Random(20240611)
    outcomes: Counter[str] = Counter()  # refused: an AnalysisError message, the views kept
    window.controller.updated.connect(lambda _update: outcomes.update(["shown"]))
    window.controller.failed.connect(lambda _message, _field: outcomes.update(["refused"]))
    run_session(window, rng, 300)  # warm-up: first-time allocations are not a leak
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    run_session(window, rng, CHANGES)
    seconds = time.perf_counter() - start
    gc.collect()
    QApplication.processEvents()
    after = rss_mb()
    print(f"\n{CHANGES} changes in {seconds:.1f} s; VmRSS {before:.1f} -> {after:.1f} MB "
          f"({after - before:+.1f} MB); {outcomes['shown']} updates shown, "
          f"{outcomes['refused']} refused with a message")
    assert window.controller.analysis is not None and outcomes["shown"] > outcomes["refused"]
    assert after - before < 50, f"resident memory grew by {after - before:.1f} MB"


def test_cycles_are_collected_from_the_event_loop_not_inside_qt_calls(qtbot, garbage_collector):
    """main.collect_garbage_from_the_event_loop: no automatic collection (it could start inside a
    Qt call and deadlock freeing a QMenu), but garbage still goes, on the event loop's timer."""
    import gc
    import weakref

    class Node:
        pass

    assert not gc.isenabled() and garbage_collector.timer.isActive()
    # Earlier tests' windows are deleted from the event loop: freeing their thousands of
    # wrappers while this test waits would lower the young generation's count below the
    # collector's threshold, so their deletions happen first.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    gc.collect()  # a fresh young generation, so the next timer tick looks at the new cycle
    cycle = Node()
    cycle.itself = cycle  # type: ignore[attr-defined]
    gone = weakref.ref(cycle)
    del cycle
    _ = [[] for _ in range(5 * gc.get_threshold()[0])]  # past the young generation's threshold
    assert gone() is not None  # nothing collects it behind the event loop's back
    with qtbot.waitSignal(garbage_collector.timer.timeout, timeout=5000):
        pass  # the collector's own check is connected first: it has run by now
    assert gone() is None
