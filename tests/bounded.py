"""A call that must return in time: a loader that hangs (a FIFO opened, a loop that never ends)
fails its test instead of freezing the suite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def within(seconds: float, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)`` in a daemon thread joined with a timeout. Its result, or the
    exception it raised: returned, not raised, so the test can read the message."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call(*args, **kwargs))
        except BaseException as e:  # handed back to the test thread
            outcome.append(e)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    name = getattr(call, "__name__", repr(call))
    assert not worker.is_alive(), f"{name}{args!r} did not return in {seconds} s"
    return outcome[0]
