"""Headless export: ``main.py --export FILE`` / ``--export-data FILE`` without showing anything.

The vectors are loaded synchronously (no thread is needed when nobody watches), the analysis is
computed once by the core pipeline, the data is written straight from it, and the figure is
drawn by the real window's views, laid out off screen, so a headless figure is exactly what the
window shows (:meth:`explorer.commands.export_actions.ExportActions.write_figure`). Qt is imported
only when a figure is asked for; ``--export-data`` alone never starts Qt.

Every failure becomes a :class:`~explorer.cli.CliError` with a one-line message; the widgets are
deleted before returning, so nothing of pyqtgraph is left for the interpreter's exit to destroy.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.cli import CliError, Request, check_vector_file, one_line
from explorer.run_messages import RunMessages

if TYPE_CHECKING:
    from core.pipeline import Analysis, Pipeline


def prepare_qt_environment() -> None:
    """Offscreen, PySide6 (pyqtgraph would try PyQt6 first): call before anything imports Qt."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def run(request: Request) -> int:
    """Load, compute, write the requested files; 0 on success, CliError otherwise.

    Warnings (the vector file's, the analysis's, NumPy's and Qt's) go to stderr as
    ``warning: ...`` lines once everything is written; a failure prints only its error line.
    """
    messages = RunMessages()
    with messages.python_warnings():
        if request.settings.source == "model":
            run_model(request, messages)
        else:
            run_vectors(request, messages)
    messages.write()
    return 0


def run_vectors(request: Request, messages: RunMessages) -> None:
    """Word vectors: load, compute once, check, write."""
    kv = load_vectors(request)
    pipeline, analysis = compute(kv, request)
    check_heads_limit(request.settings, analysis)
    # The vector file's own warnings (repeated words, zero vectors...) are the export's too.
    loaded = tuple(getattr(kv, "load_warnings", None) or ())
    analysis = replace(analysis, warnings=loaded + tuple(analysis.warnings))
    write_everything(analysis, request, messages,
                     lambda: write_figure(kv, pipeline, request, messages))


def run_model(request: Request, messages: RunMessages) -> None:
    """The same with a trained model: open it, fit the settings to it, compute, write."""
    from core.model_pipeline import ModelPipeline
    from core.pipeline import AnalysisError
    from core.transformer import ModelError, load_model

    path = request.settings.model.path
    try:
        model = load_model(path)
    except ModelError as error:
        raise CliError(one_line(str(error))) from None
    settings = fitted_to_model(request.settings, model)
    pipeline = ModelPipeline(model)
    try:
        analysis = pipeline.run(settings)
    except AnalysisError as error:
        raise CliError(one_line(str(error))) from None
    write_everything(analysis, request, messages,
                     lambda: write_model_figure(model, settings, request, messages))


def write_everything(analysis: Analysis, request: Request, messages: RunMessages,
                     draw: Callable[[], None]) -> None:
    """Refuse numbers that are not finite before any file is written, then write the data and
    the figure (``draw``); every warning goes to ``messages``."""
    from core.files.atomic import ExportError
    from core.files.export_checks import require_finite
    from core.files.export_data import analysis_numbers

    try:
        require_finite(analysis_numbers(analysis), request.data or request.figure)
    except ExportError as error:
        raise CliError(one_line(str(error))) from None
    for warning in analysis.warnings:
        messages.warn(warning)
    if request.data:
        for warning in write_data(analysis, request.data):
            messages.warn(warning)
    if request.figure:
        draw()


def check_heads_limit(settings: Any, analysis: Analysis | None) -> None:
    """The window's limit on the command line too: heads <= min(MAX_HEADS, d_model); the
    pipeline would quietly compute fewer heads than asked for."""
    from core.settings import MAX_HEADS, heads_limit

    if analysis is None or settings.source == "model":
        return  # nothing computed yet / a model's heads are its own
    d_model = int(analysis.sentence.vectors.shape[1])
    limit = heads_limit(d_model)
    if settings.n_heads > limit and analysis.heads.n_heads < settings.n_heads:
        raise CliError(f"--heads {settings.n_heads}: these vectors have {d_model} dimensions, "
                       f"so at most {limit} heads (heads <= min({MAX_HEADS}, dimensions): "
                       "each head needs one dimension at least)")


def fitted_to_model(settings: Any, model: Any) -> Any:
    """The settings with the model's own head count; a head or layer it lacks is a CliError
    in the words of the options (counted from 1)."""
    c = model.config
    if settings.selected_head is not None and settings.selected_head >= c.n_heads:
        raise CliError(f"--head {settings.selected_head + 1}: {c.name} has heads 1 to "
                       f"{c.n_heads}")
    layer = settings.model.layer
    if layer is not None and layer >= c.n_layers:
        raise CliError(f"--layer {layer + 1}: {c.name} has layers 1 to {c.n_layers}")
    for lay, head in settings.model.ablated:
        if lay >= c.n_layers or head >= c.n_heads:
            raise CliError(f"--ablate {lay + 1}:{head + 1}: {c.name} has {c.n_layers} layers "
                           f"x {c.n_heads} heads")
    return settings.updated(n_heads=c.n_heads)


def load_vectors(request: Request) -> Any:
    """The KeyedVectors named by the settings (the bundled default set when None)."""
    from core.vectors import load as embeddings  # gensim (it imports SciPy): only now

    path = request.settings.vectors_path
    try:
        if path is None:
            return embeddings.open_default_vectors()  # no gensim (nor SciPy) to import
        check_vector_file(path, "vectors file")  # a session's; --vectors was checked already
        return embeddings.load_vectors(path, request.settings.vectors_format,
                                       trust_pickle=request.trust_pickle)
    except CliError:
        raise
    except embeddings.VectorFileError as error:
        hint = ""
        if not request.trust_pickle and Path(path or "").suffix.lower() in (".kv", ".model"):
            hint = " (pass --trust-pickle to open a pickled file you trust)"
        raise CliError(one_line(str(error)) + hint) from None
    except (OSError, ValueError, EOFError) as error:
        what = path or "the default vectors"
        raise CliError(f"cannot load {what}: {one_line(str(error))}") from None


def compute(kv: Any, request: Request) -> tuple[Pipeline, Analysis]:
    """Run the core pipeline once; an unknown query word, an empty sentence... -> CliError."""
    from core.pipeline import AnalysisError, Pipeline

    pipeline = Pipeline(kv)
    try:
        return pipeline, pipeline.run(request.settings)
    except AnalysisError as error:
        raise CliError(one_line(str(error))) from None


def write_data(analysis: Analysis, path: str) -> list[str]:
    """Write the data file; the warnings the writing added (text that was not UTF-8)."""
    from core.files.atomic import ExportError
    from core.files.export_data import export_data

    try:
        return export_data(analysis, path)
    except ExportError as error:
        raise CliError(one_line(str(error))) from None


def write_figure(kv: Any, pipeline: Pipeline, request: Request, messages: RunMessages) -> None:
    """Build the window (never shown on screen), show the analysis, export its explorer view."""
    def show(window: Any) -> None:
        window.controller.adopt(pipeline)  # already run on these settings: nothing recomputed
        window.set_vectors(kv, request.settings.vectors_path)

    _draw_in_window(request.settings, show, request, messages)


def write_model_figure(model: Any, settings: Any, request: Request,
                       messages: RunMessages) -> None:
    """The window's view of the trained model (chosen layer and head), off screen."""
    from explorer.commands.export_actions import ACROSS

    across = settings.model.across_layers != "layer"  # --across rollout|flow draws that view

    def show(window: Any) -> None:
        # Nobody watches this window: a long text's forward pass runs here, as a short one's
        # does, instead of on a thread whose result the figure would not wait for (a text over
        # 64 tokens failed with "the views could not be drawn: Running 74 tokens...").
        window.controller.sync_tokens = sys.maxsize
        window.state.set_transformer(model, settings.model.path)
        window.state.set_settings(settings)
        if across:
            window.tabs.setCurrentWidget(window.across)
            window.controller.flush()
            window.controller.show_across(force=True)  # the window itself is never shown

    # Built on word-vector settings, so the window does not start opening a model of its own.
    _draw_in_window(settings.updated(source="vectors", n_heads=4, selected_head=None), show,
                    request, messages, ACROSS if across else None)


def _draw_in_window(settings: Any, show: Any, request: Request, messages: RunMessages,
                    view: str | None = None) -> None:
    """A window on ``settings`` (off screen, remembering nothing), ``show(window)`` hands it its
    data, then its explorer view (or ``view``) is written as the requested figure."""
    prepare_qt_environment()
    with messages.qt_messages():  # before the QApplication: Qt logs while it starts too
        _draw(settings, show, request, view)


def _draw(settings: Any, show: Any, request: Request, view: str | None) -> None:
    from PySide6.QtWidgets import QApplication

    from core.files.atomic import ExportError
    from explorer.commands.export_actions import EXPLORER
    from explorer.main_window import MainWindow

    app = QApplication.instance() or QApplication(["attention-explorer"])
    window = MainWindow(settings, store=None)  # reads and writes no remembered settings
    try:
        show(window)
        window.controller.flush()
        window.controller.settle()  # the nearest words a live update leaves for later
        if window.controller.analysis is None:
            raise CliError("the views could not be drawn: " + window.status.message.text())
        assert request.figure is not None
        window.exports.write_figure(view or EXPLORER, request.figure, size=request.size)
    except ExportError as error:
        raise CliError(one_line(str(error))) from None
    finally:
        dispose(window, app)


def dispose(window: Any, app: Any) -> None:
    """Close and delete ``window`` now: pyqtgraph widgets left alive can crash the exit."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.shutdown()
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()
