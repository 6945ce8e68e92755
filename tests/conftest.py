"""Shared fixtures: a tiny in-memory vector table, the real default vectors, offscreen Qt."""

from __future__ import annotations

import os

# Before anything imports Qt or pyqtgraph (PITFALLS 3): headless, and PySide6 not PyQt6.
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
    opened is shut down after the test, so no loader thread outlives it (PITFALLS 14)."""
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
