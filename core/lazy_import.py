"""Modules imported on first use, not when the importing module loads.

pyarrow (about 0.1 s and 56 MB of shared libraries) is needed to read vocabularies, never to draw
the window: imported lazily, it loads in the loader thread after the window's first paint.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["LazyModule"]


class LazyModule:
    """Stands for module ``name``; the first attribute read imports it (Python's import lock
    makes concurrent first reads from two threads safe)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)
