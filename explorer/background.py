"""Work that would stall the window, run on background threads: opening a trained model (its
first extraction takes a second or two) and forward passes over long texts (0.2 s at 512
tokens).

Each job has a kind ("model", "forward"); a newer job of a kind makes the older one's result
stale: it is dropped when it arrives (NumPy cannot be interrupted, so the older job still
finishes, on its own thread). Results reach the GUI thread as queued signals through ``@Slot``
methods of this object, never through a lambda (which would run in the worker's thread), and
every thread and worker is referenced until its thread has finished: Qt aborts the process
when a running QThread is destroyed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

__all__ = ["BackgroundJobs"]

Work = Callable[[Callable[[float], None]], Any]
"""A job: called with a progress callback (fraction 0..1), returns its result."""


class _Worker(QObject):
    progress = Signal(float)
    done = Signal(object)
    failed = Signal(object)

    def __init__(self, kind: str, generation: int, work: Work) -> None:
        super().__init__()
        self.kind, self.generation, self._work = kind, generation, work

    @Slot()
    def run(self) -> None:
        try:
            result = self._work(self.progress.emit)
        except Exception as error:  # every failure reaches the window as one message
            self.failed.emit(error)
        else:
            self.done.emit(result)


class BackgroundJobs(QObject):
    """Runs jobs on their own threads; re-emits the current job's signals on the GUI thread.

    Signals
    -------
    finished(kind, result), failed(kind, exception), progress(kind, fraction)
        Only for the newest job of each kind.
    """

    finished = Signal(str, object)
    failed = Signal(str, object)
    progress = Signal(str, float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[tuple[QThread, _Worker]] = []  # referenced until the thread finishes
        self._current: dict[str, int] = {}
        self._counter = 0

    def start(self, kind: str, work: Work) -> None:
        """Run ``work`` in the background; an earlier job of this kind becomes stale."""
        self._counter += 1
        worker = _Worker(kind, self._counter, work)
        thread = QThread()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._jobs.append((thread, worker))
        self._current[kind] = self._counter
        thread.start()

    def busy(self, kind: str) -> bool:
        """True while the newest job of ``kind`` has not reported."""
        return kind in self._current

    def forget(self, kind: str) -> None:
        """Drop the result of the running job of ``kind`` when it comes."""
        self._current.pop(kind, None)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Wait for every thread (window close, end of a test); results are dropped."""
        self._current.clear()
        for thread, _worker in list(self._jobs):
            thread.quit()
            thread.wait(timeout_ms)
        self._jobs.clear()

    def _take(self) -> _Worker | None:
        """The sender when it is the newest job of its kind (its thread is told to end)."""
        worker = self.sender()
        for thread, w in self._jobs:
            if w is worker:
                thread.quit()
        if not isinstance(worker, _Worker) or self._current.get(worker.kind) != worker.generation:
            return None
        return worker

    @Slot(float)
    def _on_progress(self, fraction: float) -> None:
        worker = self.sender()
        if isinstance(worker, _Worker) and self._current.get(worker.kind) == worker.generation:
            self.progress.emit(worker.kind, fraction)

    @Slot(object)
    def _on_done(self, result: Any) -> None:
        worker = self._take()
        if worker is not None:
            del self._current[worker.kind]
            self.finished.emit(worker.kind, result)

    @Slot(object)
    def _on_failed(self, error: Any) -> None:
        worker = self._take()
        if worker is not None:
            del self._current[worker.kind]
            self.failed.emit(worker.kind, error)

    @Slot()
    def _on_thread_finished(self) -> None:
        self._jobs = [(t, w) for t, w in self._jobs if not t.isFinished()]
