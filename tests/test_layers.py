"""The import structure: core and explorer keep their contracts, and no explorer module imports
another at module level that (directly or not) imports it back.

The contracts are pyproject.toml's ``[tool.importlinter]`` (core never imports Qt, pyqtgraph or
the explorer; no cycles among the modules of any package; explorer's and core's layers), checked
by ``lint-imports`` as ``make lint`` does. The second check reads each module's own top-level
imports with :mod:`ast`: those Python runs while importing it and those under
``if TYPE_CHECKING:`` (a type is a dependency too), not the ones inside functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPLORER = ROOT / "explorer"


def test_import_contracts_are_kept():
    # The console script's own code, so no particular bin/ folder is needed on the PATH.
    run = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
           "sys.exit(lint_imports_command())"]
    done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "0 broken" in report, report


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a module's ``body`` outside functions and classes (in ``if``
    and ``try`` blocks too, ``if TYPE_CHECKING:`` included)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            found += _module_level(node.body) + _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            found += _module_level(node.body)
            for handler in node.handlers:
                found += _module_level(handler.body)
            found += _module_level(node.orelse) + _module_level(node.finalbody)
    return found


def _imported(node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The explorer modules one import statement makes Python import."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.level == 0 and node.module is not None:  # the project uses absolute imports
        # `from explorer.commands import dialogs` imports the package and its module dialogs.
        names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    else:
        names = []
    modules = set()
    for name in names:
        parts = name.split(".")
        # Importing a.b.c imports a and a.b first.
        modules |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return modules & known


def _module_level_imports() -> dict[str, set[str]]:
    paths = sorted(EXPLORER.rglob("*.py"))
    known = {_module_name(path) for path in paths}
    graph = {}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        name = _module_name(path)
        graph[name] = set().union(*(_imported(node, known) for node in _module_level(tree.body)))
        graph[name].discard(name)
    return graph


def _a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as [a, b, ..., a], or None (a depth-first search)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        if name in path:
            return [*path[path.index(name):], name]
        if name in done:
            return None
        path.append(name)
        for imported in sorted(graph[name]):
            cycle = visit(imported)
            if cycle is not None:
                return cycle
        path.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name)
        if cycle is not None:
            return cycle
    return None


def test_the_module_level_import_graph_is_read():
    graph = _module_level_imports()
    assert "explorer.state" in graph["explorer.controller"]
    assert "explorer.commands.dialogs" in graph["explorer.commands.edits"]  # from pkg import mod
    assert "explorer.controller" in graph["explorer.commands.edits"]  # under TYPE_CHECKING
    assert "explorer.commands.lessons_menu" in graph["explorer.main_window"]
    assert "explorer.main_window" not in graph["explorer.headless"]  # imported in a function
    assert not graph["explorer.views.arrays"]


def test_a_cycle_is_found_when_there_is_one():
    assert _a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b"}, "b": set()}) is None


def test_no_explorer_module_imports_itself_back_at_module_level():
    cycle = _a_cycle(_module_level_imports())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_window_starts_without_the_trained_models_modules():
    """Word vectors never pay for SciPy's sparse package (attention flow) or the checkpoint,
    zip and tokenizer modules: they are imported when a model is shown."""
    import os
    import subprocess
    import sys

    code = ("import sys, explorer.main_window; print(sorted(m for m in ('scipy.sparse', "
            "'core.transformer.model', 'core.model_pipeline', 'tokenizers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.strip() == "[]"
