"""Shared fixtures: a tiny in-memory vector table, the real default vectors, offscreen Qt."""

from __future__ import annotations

import os

# Before anything imports Qt or pyqtgraph (which tries PyQt6 first): headless, and PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import numpy as np
import pytest

TINY_WORDS = (
    "the animal was not swimming in sea because it running on street . , cat sat mat "
    "i eat drink salmon steak red-wine water white-wine mix with fine a wine food land"
).split()
TINY_DIM = 8


def make_tiny_vectors(dim: int = TINY_DIM, seed: int = 7):
    """A small lower-case KeyedVectors with reproducible float32 vectors."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(seed)
    kv = KeyedVectors(dim)
    kv.add_vectors(list(TINY_WORDS), rng.standard_normal((len(TINY_WORDS), dim)).astype(np.float32))
    kv.source_name = "tiny test vectors"
    kv.source_path = None
    kv.load_warnings = []
    return kv


@pytest.fixture(scope="session", autouse=True)
def user_cache_of_the_test_run(tmp_path_factory):
    """No test writes into the person's own cache folder: the bundled model is extracted (once
    per run) and vector files are cached under a folder of this run; tests that need a fresh
    cache still set their own."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(scope="session", autouse=True)
def garbage_collector(qapp):
    """As the application does (main.collect_garbage_from_the_event_loop): cycles collected from
    the event loop only, never from inside a Qt call, where freeing a QMenu can deadlock."""
    import gc

    from main import collect_garbage_from_the_event_loop

    collector = collect_garbage_from_the_event_loop()
    yield collector
    collector.timer.stop()
    gc.enable()


@pytest.fixture(autouse=True)
def collect_between_tests(garbage_collector):
    """Between tests is a safe point too (some tests never run the event loop)."""
    yield
    garbage_collector.check()


@pytest.fixture
def tiny_kv():
    """A fresh tiny vector table (the tests may not share mutations)."""
    return make_tiny_vectors()


@pytest.fixture(scope="session")
def glove():
    """The bundled GloVe 6B 50d vectors (memory-mapped, loaded once per test run)."""
    from core.vectors.load import load_default_vectors

    return load_default_vectors()


@pytest.fixture
def errors(monkeypatch, tmp_path):
    """Never the real settings, cache or a modal dialog: record the messages a dialog would show,
    and refuse to trust any pickle."""
    from explorer.commands import dialogs
    from explorer.persistence import ENV_VAR

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "settings.ini"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _p, _t, message: shown.append(message))
    monkeypatch.setattr(dialogs, "ask_trust", lambda _p, _path: False)
    return shown


@pytest.fixture
def open_window(qtbot, tmp_path, errors):
    """Open a real explorer window on ``kv`` (shown, offscreen, first update done); every window
    opened is shut down after the test, so no loader thread outlives it (Qt aborts when a running
    QThread is destroyed)."""
    from explorer.main_window import MainWindow
    from explorer.persistence import Store

    opened = []

    def open_(kv, settings=None, size=(1200, 800)):
        store = Store(str(tmp_path / "settings.ini"))
        window = MainWindow(settings, store, str(tmp_path / "cache"))
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        window.set_vectors(kv, None)
        window.controller.flush()
        opened.append(window)
        return window

    yield open_
    for window in opened:
        window.shutdown()


# ---------------------------------------------------------------- lessons, as the window runs them


def run_lesson_analysis(lesson_id: str, kv=None, base=None):
    """Lesson ``lesson_id`` the way the window opens it: ``lesson_settings`` -> ``Pipeline.run``.

    Toy and plane lessons build their vectors from the lesson's own table, so whatever vectors
    are loaded do not matter (None: the tiny table); a word-vector lesson runs on ``kv``.
    ``base`` is the settings the lesson replaces (the window's current ones).
    """
    from core.explain.lessons import lesson, lesson_settings
    from core.pipeline import Pipeline

    settings = lesson_settings(lesson(lesson_id), base)
    return Pipeline(kv if kv is not None else make_tiny_vectors()).run(settings)


def shown_heads(analysis):
    """The projections the window's step table and matrix view are given: none when a toy's
    output is its heads' concatenation (no W_O to show), else the analysis's own."""
    from core.inputs import toy_output_is_concat

    return None if toy_output_is_concat(analysis.settings) else analysis.heads


def analysis_steps(analysis, head=None):
    """The step table of the query row in ``head`` (None: the mean of heads), as the window's
    computation dock makes it."""
    from explorer.views.computation_view import analysis_steps as steps_of

    return steps_of(analysis, shown_heads(analysis), head)


def analysis_inputs(analysis):
    """(x_q (r, d), x_kv (n, d)): the rows that asked and the rows attended over; an outside
    query (a word, a sentence, a toy vector) is one row after the sentence's."""
    x_kv = analysis.sentence.vectors
    if analysis.query.position is not None:
        return x_kv, x_kv
    return np.vstack([x_kv, analysis.query.vector[None, :]]), x_kv


def analysis_matrices(analysis, head=None, key=None):
    """The matrix view of ``head`` for the query row, as the window's computation dock makes it."""
    from core.explain.matrices import matrix_view

    x_q, x_kv = analysis_inputs(analysis)
    return matrix_view(analysis.result, shown_heads(analysis), x_q, x_kv, head,
                       row=analysis.query_row, row_labels=analysis.row_labels,
                       col_labels=analysis.col_labels, key=key)

