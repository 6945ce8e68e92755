"""Loading word vectors in a background QThread, with progress and cancel.

Parsing a text vector file is single-threaded Python holding the GIL for seconds to minutes,
and other files need gensim (and SciPy) imported, about a second, so loading never happens on
the GUI thread (the default set needs no gensim: ``core.vectors.load.open_default_vectors``).
A :class:`VectorLoader` lives on the GUI thread and owns one worker + thread per load;
the worker's signals reach the loader's ``@Slot`` methods as queued calls, so the loader's own
signals are always emitted on the GUI thread (a lambda connected to a worker's signal would run
in the worker's thread). Python keeps a reference to every thread and worker until the thread
has finished: Qt aborts when a QThread is destroyed while it runs.

The query completer searches a :class:`VocabularyIndex`, sorted in a background thread once the
first views are drawn, so it costs neither the GUI thread nor the time to the first result.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.vectors.vocabulary import Vocabulary

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

    from core.pipeline import Pipeline
    from core.settings import Settings

PICKLE_SUFFIXES = (".kv", ".model")
"""Files gensim unpickles: they can run code, so the person is asked before opening one."""


def needs_trust(path: str) -> bool:
    """True for a file that is loaded by unpickling, which can run any code in it."""
    return Path(path).suffix.lower() in PICKLE_SUFFIXES


class VocabularyIndex:
    """Prefix search over a vocabulary for the query completer, most frequent words first.

    Vector files list frequent words first, so among the words with a prefix the lowest ranks
    are the best suggestions. The index holds no Python strings: the lower-cased words as one
    :class:`Vocabulary` and their sorted order (8 bytes a word); a search decodes ~40 words.

    Lowering and sorting 400,000 words takes a while, so nothing is sorted when the vectors arrive
    (the first views come first): :meth:`prepare` sorts in a background thread (NumPy sorts
    outside the GIL, so the GUI thread keeps running) and the first :meth:`complete` waits for it
    if needed.
    """

    def __init__(self, words: Sequence[str]) -> None:
        self._words = words if isinstance(words, Vocabulary) else Vocabulary(words)
        self._lowered: Vocabulary | None = None  # the words lower-cased, in row order
        self._order: np.ndarray | None = None  # (n,) rows sorted by their lower-cased word
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._words)

    def prepare(self) -> None:
        """Start sorting in a background thread, if not sorted yet; returns at once."""
        if self._order is None:
            threading.Thread(target=self._sorted, name="vocabulary-index", daemon=True).start()

    def _sorted(self) -> tuple[Vocabulary, np.ndarray]:
        with self._lock:  # a second caller waits for the first one's sort
            if self._lowered is None or self._order is None:
                lowered = self._words.lowered()
                self._order = lowered.byte_order()[0]
                self._lowered = lowered
            return self._lowered, self._order

    def complete(self, prefix: str, limit: int = 50) -> list[str]:
        """Up to ``limit`` words starting with ``prefix`` (any case), most frequent first."""
        key = prefix.strip().lower()
        if not key:
            return []
        lowered, order = self._sorted()

        def word_at(i: int) -> str:
            return lowered[int(order[i])]

        lo = bisect.bisect_left(range(len(order)), key, key=word_at)
        hi = bisect.bisect_left(range(len(order)), key + "\U0010ffff", lo=lo, key=word_at)
        ranks = np.sort(order[lo:hi])[:limit]  # rows in file order: most frequent first
        return [self._words[int(i)] for i in ranks]


@dataclass(frozen=True)
class LoadedVectors:
    """What a finished load hands the window."""

    kv: KeyedVectors
    path: str | None  # None for the bundled default set
    index: VocabularyIndex
    pipeline: Pipeline | None  # already run once: its slow first stages are memoised
    seconds: float


class LoadWorker(QObject):
    """Runs one load in the worker thread; reports through signals only."""

    progress = Signal(float)
    finished = Signal(object)  # LoadedVectors
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, path: str | None, fmt: str = "auto", trust_pickle: bool = False,
                 cache_dir: str | None = None, warm_up: Settings | None = None) -> None:
        super().__init__()
        self.path, self.fmt, self.trust_pickle = path, fmt, trust_pickle
        self.cache_dir, self.warm_up = cache_dir, warm_up
        self._cancel = threading.Event()
        self._last_progress = -1.0

    def cancel(self) -> None:
        """Thread-safe: the load stops at its next progress check."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _report(self, fraction: float) -> None:
        # Parsers may call this per line: only whole percents cross the thread boundary.
        if fraction - self._last_progress >= 0.01 or fraction >= 1.0:
            self._last_progress = fraction
            self.progress.emit(float(fraction))

    @Slot()
    def run(self) -> None:
        started = time.perf_counter()
        try:
            kv = self._load()
            if self.is_cancelled():
                raise _Cancelled
            index = VocabularyIndex(kv.index_to_key)  # sorted later: see prepare()
            pipeline = self._warm_up(kv)
        except _Cancelled:
            self.cancelled.emit()
            return
        except Exception as error:  # every failure becomes one message for the person
            if type(error).__name__ == "LoadCancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(_message(error, self.path))
            return
        seconds = time.perf_counter() - started
        self.finished.emit(LoadedVectors(kv, self.path, index, pipeline, seconds))

    def _warm_up(self, kv: KeyedVectors) -> Pipeline | None:
        """Run the pipeline once here, so the vocabulary PCA and the unit-length matrix of the
        neighbour search (a quarter second on 400,000 words) are not computed on the GUI thread."""
        if self.warm_up is None:
            return None
        from core.pipeline import Pipeline

        pipeline = Pipeline(kv)
        try:
            pipeline.run(self.warm_up)
        except ValueError:
            pass  # settings that do not fit these vectors: the window will say so
        return pipeline

    def _load(self) -> Any:
        from core.vectors import load as embeddings

        if self.path is None:
            self._report(0.0)
            # Not a KeyedVectors: the window needs no gensim (nor the SciPy it imports) for it.
            kv = embeddings.open_default_vectors(self.cache_dir)
            self._report(1.0)
            return kv
        # Imports gensim (and SciPy, about a second): here, in the worker thread.
        return embeddings.load_vectors(
            self.path, self.fmt, trust_pickle=self.trust_pickle,
            progress=self._report, cancel=self.is_cancelled, cache_dir=self.cache_dir,
        )


class _Cancelled(Exception):
    pass


def _message(error: Exception, path: str | None) -> str:
    what = Path(path).name if path else "the default vectors"
    if type(error).__name__ == "VectorFileError" or isinstance(error, OSError):
        text = str(error)
        return text if what in text else f"Could not open {what}: {text}"  # core names the file
    return f"Could not open {what}: {type(error).__name__}: {error}"


class VectorLoader(QObject):
    """Starts loads on background threads and re-emits their results on the GUI thread.

    Only the newest load counts: starting another cancels the running one, whose result is
    then dropped.
    """

    progress = Signal(float)
    loaded = Signal(object)  # LoadedVectors
    failed = Signal(str)
    cancelled = Signal()
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, cache_dir: str | None = None) -> None:
        super().__init__(parent)
        self._cache_dir = cache_dir  # None: core's per-user cache folder
        self._jobs: list[tuple[QThread, LoadWorker]] = []  # refs until each thread finishes
        self._current: LoadWorker | None = None

    @property
    def busy(self) -> bool:
        return self._current is not None

    def load(self, path: str | None, fmt: str = "auto", trust_pickle: bool = False,
             warm_up: Settings | None = None) -> None:
        """Load ``path`` (None = the bundled default set) in the background.

        With ``warm_up`` settings, the result carries a pipeline already run on them.
        """
        self.cancel()
        worker = LoadWorker(path, fmt, trust_pickle, self._cache_dir, warm_up)
        thread = QThread()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_thread_finished)
        self._jobs.append((thread, worker))
        self._current = worker
        self.busy_changed.emit(True)
        thread.start()

    @Slot()
    def cancel(self) -> None:
        """Stop the running load (if any); ``cancelled`` follows when the worker notices."""
        if self._current is not None:
            self._current.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel everything and wait for the threads (window close, end of a test)."""
        for thread, worker in list(self._jobs):
            worker.cancel()
            thread.quit()
            thread.wait(timeout_ms)
        self._jobs.clear()
        self._current = None

    # ------------------------------------------------------------- worker signals (GUI thread)
    def _is_current(self) -> bool:
        return self.sender() is self._current and self._current is not None

    def _finish(self) -> None:
        worker = self._current
        self._current = None
        for thread, w in self._jobs:
            if w is worker:
                thread.quit()
        self.busy_changed.emit(False)

    @Slot(float)
    def _on_progress(self, fraction: float) -> None:
        if self._is_current():
            self.progress.emit(fraction)

    @Slot(object)
    def _on_finished(self, result: LoadedVectors) -> None:
        if self._is_current():
            self._finish()
            self.loaded.emit(result)
        else:
            self._quit_sender()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._is_current():
            self._finish()
            self.failed.emit(message)
        else:
            self._quit_sender()

    @Slot()
    def _on_cancelled(self) -> None:
        if self._is_current():
            self._finish()
            self.cancelled.emit()
        else:
            self._quit_sender()

    def _quit_sender(self) -> None:
        for thread, worker in self._jobs:
            if worker is self.sender():
                thread.quit()

    @Slot()
    def _on_thread_finished(self) -> None:
        # Drop the references only now: the thread no longer runs any of the worker's code.
        self._jobs = [(t, w) for t, w in self._jobs if not t.isFinished()]
