"""How the hostile-file corpora make their cases: a ``Writer`` makes one file (or a FIFO, a
folder, a link) in a test's temporary folder and returns the path to open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Writer = Callable[[Path], Path]


def file(name: str, content: bytes | Callable[[Path], bytes]) -> Writer:
    """A file ``name`` holding ``content`` (or what ``content(tmp)`` makes, when that needs the
    folder or is costly to build before the test runs)."""

    def write(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content(tmp) if callable(content) else content)
        return path

    return write


def special(name: str, make: Callable[[Path], None]) -> Writer:
    """Whatever ``make(path)`` puts at ``name``."""

    def write(tmp: Path) -> Path:
        make(tmp / name)
        return tmp / name

    return write
