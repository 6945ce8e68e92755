"""A headless run's stderr: one ``error: ...`` line, or ``warning: ...`` lines, nothing else.

Three sources write to stderr during a run without asking: the analysis's own warnings, Python
warnings (NumPy's RuntimeWarnings when odd vectors overflow the arithmetic, pyqtgraph's when it
is handed NaN) and Qt's message log (the offscreen platform says "This plugin does not support
propagateSizeHints()" on every show). :class:`RunMessages` gathers them all as one-line
warnings, each once, and writes them when the run succeeds; when it fails the ``error:`` line
says what matters and the gathered lines are dropped.

Qt is imported only inside :meth:`RunMessages.qt_messages`, so this module is safe to import
before the Qt environment is prepared.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from explorer.cli import one_line

QT_NOISE = ("propagateSizeHints",)
"""Qt messages known to be harmless: the offscreen platform cannot pass size hints on."""

_ROOT = Path(__file__).resolve().parents[1]


class RunMessages:
    """Warnings of one headless run, in order, each text once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def warn(self, text: str) -> None:
        line = one_line(text)
        if line not in self.lines:
            self.lines.append(line)

    def write(self, stream: TextIO | None = None) -> None:
        """Every gathered warning as a ``warning: ...`` line, then forget them."""
        stream = stream if stream is not None else sys.stderr
        for line in self.lines:
            stream.write(f"warning: {line}\n")
        stream.flush()
        self.lines.clear()

    @contextmanager
    def python_warnings(self) -> Iterator[None]:
        """Inside: Python warnings (NumPy's RuntimeWarnings...) become lines here, once each."""
        with warnings.catch_warnings():
            warnings.simplefilter("default")  # once per place, whatever the filters said
            warnings.showwarning = self._show_warning
            yield

    def _show_warning(self, message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
        self.warn(f"{message} ({category.__name__} at {_short(filename)}:{lineno})")

    @contextmanager
    def qt_messages(self) -> Iterator[None]:
        """Inside: Qt's message log becomes lines here, minus :data:`QT_NOISE`.

        Install it before the QApplication is made: Qt logs while it starts too.
        """
        from PySide6.QtCore import qInstallMessageHandler

        def handle(_mode: Any, _context: Any, message: str) -> None:
            if not any(noise in message for noise in QT_NOISE):
                self.warn(f"Qt: {message}")

        previous = qInstallMessageHandler(handle)
        try:
            yield
        finally:
            qInstallMessageHandler(previous)


def _short(filename: str) -> str:
    """A source file relative to site-packages or to the project: where, without the noise."""
    path = Path(filename)
    if "site-packages" in path.parts:
        return "/".join(path.parts[path.parts.index("site-packages") + 1:])
    try:
        return path.resolve().relative_to(_ROOT).as_posix()
    except ValueError:
        return path.name
