"""Listens to the state, runs the pure core pipeline, hands the results to the views.

Changes arriving in a burst (a slider drag, typing) are coalesced: each ``changed`` only marks
names as pending and (re)starts nothing but a single-shot timer, so there is at most one
recompute per frame. Changes that only pick what is shown (the selected head, the inspected key)
reuse the last :class:`~core.pipeline.Analysis` instead of recomputing it.

With a trained model as the source, a text longer than ``SYNC_TOKENS`` is run through the model
on a background thread (0.2 s at 512 tokens): the views say they are updating, an edit made
meanwhile makes the running result stale (it is dropped), and the views get only current
results. The views are anything with the ``set_*`` methods used below (tests pass recorders).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from core.analysis import error_field
from core.inputs import uses_toy
from core.pipeline import Analysis, AnalysisError, Pipeline
from explorer.background import BackgroundJobs
from explorer.state import INSPECTED_COL, VECTORS, ExplorerState
from explorer.views.arrays import frozen
from explorer.views.overlay import NoResultSheets
from explorer.views.small_maps import pooled_maps

if TYPE_CHECKING:
    from core.model_pipeline import ModelPipeline
    from core.settings import Settings

log = logging.getLogger(__name__)

FRAME_MS = 16
"""Coalescing window: one recompute per ~60 Hz frame, short enough to feel immediate."""

SETTLE_MS = 150
"""Quiet time after the last change before the output's nearest words are searched again
(live updates keep the previous words: the vocabulary search is most of a small update)."""

_DISPLAY_ONLY = frozenset({"selected_head", INSPECTED_COL})  # shown from the last analysis

SYNC_TOKENS = 64
"""Up to this many tokens a trained model runs on the GUI thread (~25 ms); longer texts run in
the background, so the window never stalls for a forward pass."""
FORWARD = "forward"  # the background job kind of a long forward pass


@dataclass
class Views:
    """The views the controller feeds; each only needs the ``set_*`` methods called on it."""

    tokens: Any  # TokenStrip: set_tokens, set_weights
    heatmaps: Any  # HeatmapGrid: set_data, set_selected_head
    lines: Any  # LinesView: set_data, set_selected_head
    latent: Any  # LatentMap: set_data
    model: Any = None  # ModelView: set_attentions, set_selection, set_shift, set_ablated, set_stale
    across: Any = None  # AcrossLayersView: set_data, set_stale


@dataclass(frozen=True)
class Update:
    """What one recompute did, for the status bar (and benchmarks/window_bench.py)."""

    analysis: Analysis
    compute_ms: float  # core pipeline (0 when the last analysis was reused)
    views_ms: float  # all the views' set_* calls


class Controller(QObject):
    """Recomputes on state changes (coalesced) and pushes results into the views.

    Signals
    -------
    updated(Update)
        After the views show a new result.
    failed(str, str)
        The message for the person and which input is at fault (`core.analysis.error_field`).
    """

    updated = Signal(object)
    failed = Signal(str, str)
    busy = Signal(str)  # what runs in the background ("" when nothing does)

    def __init__(self, state: ExplorerState, views: Views, parent: QObject | None = None,
                 interval_ms: int = FRAME_MS) -> None:
        super().__init__(parent)
        self._state = state
        self._views = views
        self._pipeline: Pipeline | None = None
        self._model_pipeline: ModelPipeline | None = None
        self._adopted: Pipeline | None = None
        self.sync_tokens = SYNC_TOKENS  # longer texts: the forward pass in the background
        self.jobs = BackgroundJobs(self)
        self.jobs.finished.connect(self._on_job_finished)
        self.jobs.failed.connect(self._on_job_failed)
        self._failing = False  # the last recompute failed: the analysis is older than the settings
        self._analysis: Analysis | None = None
        self._shown_across: Analysis | None = None  # the analysis the across view shows
        self._sliced: tuple[Any, np.ndarray] | None = None  # see _shown_attentions
        self._described: tuple[Analysis | None, dict[str, str]] = (None, {})  # hover texts
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        # Refused settings hide the older result under "No result: ...".
        self._no_result = NoResultSheets([views.tokens, views.heatmaps, views.lines,
                                          views.latent])
        self._settle_timer = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle_timer.timeout.connect(self.settle)
        state.changed.connect(self._on_state_changed)

    @property
    def analysis(self) -> Analysis | None:
        """The last successful analysis (what the views show), None before the first."""
        return self._analysis

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    @property
    def failing(self) -> bool:
        """True while the settings cannot be computed: the views say "No result"."""
        return self._failing

    @Slot(object)
    def _on_state_changed(self, names: frozenset[str]) -> None:
        self._pending |= names
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def flush(self) -> None:
        """Recompute now for everything pending (the timer calls this; tests may too)."""
        self._timer.stop()
        names, self._pending = self._pending, set()
        if not names or not self._state.ready:
            return
        if self._state.settings.source == "vectors" and (VECTORS in names or
                                                          self._pipeline is None):
            self._pipeline = self._new_pipeline()
        try:
            self._refresh(names)
        except AnalysisError as error:
            self._fail(str(error))
        except Exception as error:  # a core bug must not take the window down: say it, keep going
            log.exception("recompute failed")
            self._fail(f"Internal error ({type(error).__name__}): {error}")
        else:
            self._failing = False

    def _fail(self, message: str) -> None:
        """Say why there is no result, over every view (their numbers are older settings')."""
        self._failing = True
        self._no_result.set_message(message)
        self._set_stale(f"No result: {message}")
        self.failed.emit(message, error_field(message))

    def cover_when_failing(self, widget: QWidget) -> None:
        """Cover ``widget`` too (e.g. the computation dock's steps) while there is no result."""
        self._no_result.cover(widget)

    def adopt(self, pipeline: Pipeline | None) -> None:
        """Use ``pipeline`` (warmed up by the loader) once the state gets its vectors."""
        self._adopted = pipeline

    def _new_pipeline(self) -> Pipeline:
        adopted, self._adopted = self._adopted, None
        if adopted is not None and adopted.kv is self._state.kv:
            return adopted
        return Pipeline(self._state.kv)

    def _active_pipeline(self) -> Pipeline | ModelPipeline:
        """The static pipeline, or the trained model's (made anew for a newly opened model)."""
        if self._state.settings.source == "vectors":
            assert self._pipeline is not None
            return self._pipeline
        model = self._state.transformer
        assert model is not None
        if self._model_pipeline is None or self._model_pipeline.model is not model:
            from core.model_pipeline import ModelPipeline  # word vectors never need it

            self._model_pipeline = ModelPipeline(model)
        return self._model_pipeline

    def _refresh(self, names: set[str]) -> None:
        compute_ms = 0.0
        analysis = self._analysis
        recompute = not names <= _DISPLAY_ONLY or analysis is None or self._failing
        if recompute or analysis is None:  # after a failure the old analysis is not the settings'
            pipeline, s = self._active_pipeline(), self._state.settings
            if pipeline is self._model_pipeline and not pipeline.is_cached(s) and \
                    pipeline.token_count(s) > self.sync_tokens:
                self._start_forward(pipeline, s)
                return
            self.jobs.forget(FORWARD)  # a running forward is for older settings
            started = time.perf_counter()
            analysis = self._analysis = pipeline.run(s, live=True)
            compute_ms = (time.perf_counter() - started) * 1000.0
            self._set_stale(None)
        self._push(analysis, names, recompute, compute_ms)

    def _push(self, analysis: Analysis, names: set[str], recompute: bool,
              compute_ms: float) -> None:
        started = time.perf_counter()
        self._no_result.set_message(None)
        self._show(analysis, names, weights_changed=recompute)
        views_ms = (time.perf_counter() - started) * 1000.0
        self.updated.emit(Update(analysis, compute_ms, views_ms))
        if analysis.coords.neighbours_settled:
            self._settle_timer.stop()
        else:
            self._settle_timer.start()  # restarted by every change: runs once they stop

    def _start_forward(self, pipeline: ModelPipeline, s: Settings) -> None:
        """Run ``s`` through the model on a background thread; the views say they wait."""
        n, c = pipeline.token_count(s), pipeline.model.config
        self.jobs.start(FORWARD, lambda _progress: _prepared_for_views(pipeline.run(s)))
        self._set_stale("updating…")
        self.busy.emit(f"Running {n} tokens through {c.n_layers} layers of {c.name}…")

    def _set_stale(self, message: str | None) -> None:
        for view in (self._views.model, self._views.across):
            if view is not None:
                view.set_stale(message)
        if message is None:
            self.busy.emit("")

    @Slot(str, object)
    def _on_job_finished(self, kind: str, analysis: Any) -> None:
        if kind != FORWARD:
            return
        if analysis.settings != self._state.settings:  # changed meanwhile: compute those
            self._pending.add("sentence")
            self._timer.start()
            return
        self._analysis, self._failing = analysis, False
        self._set_stale(None)
        self._push(analysis, {"sentence"}, True, analysis.elapsed_ms)

    @Slot(str, object)
    def _on_job_failed(self, kind: str, error: Any) -> None:
        if kind != FORWARD:
            return
        self._set_stale(None)
        self._fail(str(error) if isinstance(error, AnalysisError) else
                   f"Internal error ({type(error).__name__}): {error}")

    @Slot()
    def settle(self) -> None:
        """Search the output's nearest words the live updates kept from before, and show them
        (the settle timer calls this once changes stop; exports and tests may call it)."""
        self._settle_timer.stop()
        if self._pending:
            self.flush()  # settings newer than the analysis: compute those first
        a = self._analysis
        pipeline: Pipeline | ModelPipeline | None = self._pipeline
        if a is not None and a.model is not None:
            pipeline = self._model_pipeline
        if a is None or pipeline is None or self._failing or a.coords.neighbours_settled or \
                self.jobs.busy(FORWARD):
            return
        try:
            a = self._analysis = pipeline.settle(a)
        except Exception as error:  # the live run worked: keep its words, say so in the log
            log.exception("settling the neighbours failed: %s", error)
            return
        # Only the latent map shows the neighbours: no other view, and no `updated` listener
        # (status, computation dock), has anything new to show.
        head = self.selected_head(a)
        self._show_map(a, head, self._query_weights(a, head))

    def _show(self, a: Analysis, names: set[str], weights_changed: bool) -> None:
        head = self.selected_head(a)
        inspected = self._state.inspected_col
        if inspected is not None and inspected >= len(a.col_labels):
            inspected = None
        v = self._views
        # A trained model's word pieces are drawn joined into words (the same tokens: no work).
        v.tokens.set_tokens(a.sentence.tokens, pieces=True if a.model is not None else None)
        query_weights = self._query_weights(a, head)
        v.tokens.set_weights(query_weights, a.query.position)
        # One read-only array both views keep without copying (the core's result already is).
        weights = frozen(a.weights)
        if weights_changed or INSPECTED_COL in names:
            v.heatmaps.set_data(a.row_labels, a.col_labels, weights, a.query_row, inspected,
                                mean=a.mean_weights)
        if weights_changed:
            v.lines.set_data(a.row_labels, a.col_labels, weights, a.query_row)
        v.heatmaps.set_selected_head(head)
        v.lines.set_selected_head(head)
        self._show_map(a, head, query_weights)
        if a.model is not None:
            self._show_model(a, head, weights_changed)
        elif a.settings.source == "model":  # sentence mode: one embedding per sentence
            self._set_stale("sentence mode: each sentence is one embedding, so there are no "
                            "layers and heads to show")

    def _show_model(self, a: Analysis, head: int | None, weights_changed: bool) -> None:
        """The model view (every layer and head) and the across-layers view."""
        m, v = a.model, self._views
        assert m is not None
        if v.model is not None:
            if weights_changed:
                v.model.set_attentions(self._shown_attentions(m), a.col_labels, a.query_row)
                v.model.set_ablated(m.run.interventions.ablated)
                v.model.set_shift(m.head_shift)
            v.model.set_selection(m.layer, head)
        if weights_changed:
            self._shown_across = None
        self.show_across()

    def _shown_attentions(self, m: Any) -> np.ndarray:
        """(L, H, m, m) every layer's attention over the shown tokens: the run's own array, or
        its slice without the special tokens, made once per run (stepping layers, heads or the
        query hands the model view the same array, so it does not pool the maps again)."""
        full = m.run.attentions  # (L, H, n, n)
        if m.shows_every_token:
            return full
        key = (m.run, m.shown.tobytes())
        if self._sliced is None or self._sliced[0] != key:
            self._sliced = (key, frozen(full[:, :, m.shown][:, :, :, m.shown]))
        return self._sliced[1]

    def show_across(self, force: bool = False) -> None:
        """Rollout or flow in the across-layers view, when it is on screen or ``force`` says so
        (a figure of it): computed only then, since at 512 tokens rollout alone takes 0.27 s."""
        a, view = self._analysis, self._views.across
        if a is None or a.model is None or view is None or self._shown_across is a or \
                not (force or view.isVisible()):
            return
        self._shown_across = a
        m = a.model
        matrix = m.across  # (r, m): every row (rollout) or the query's (flow), or None
        one_row = matrix is not None and len(matrix) == 1
        rows = [a.row_labels[a.query_row]] if one_row else a.row_labels
        view.set_data(matrix, rows, a.col_labels, 0 if one_row else a.query_row,
                      m.across_title, m.across_note)

    @staticmethod
    def _query_weights(a: Analysis, head: int | None) -> np.ndarray:
        """(n,) the query row's weights in ``head``, or their mean over heads (the analysis's)."""
        return a.query_weights[head] if head is not None else a.mean_weights[a.query_row]

    def _show_map(self, a: Analysis, head: int | None, query_weights: np.ndarray) -> None:
        c = a.coords
        mixes = c.head_mixes  # (h, 2)
        empty = a.result.empty_rows[:, a.query_row]  # (h,) heads whose query row has no weight
        if empty.any():  # their "mix" of no token is the zero vector: no point to draw
            mixes = np.where(empty[:, None], np.nan, mixes)
        self._views.latent.set_data(
            c.tokens, a.col_labels, c.query, a.query.text, np.asarray(query_weights),
            mixes, c.output, c.neighbours, c.axis_labels, head, frame=c.frame,
        )

    def describe_point(self, label: str) -> str:
        """A latent-map point's hover text: the word and its nearest words (searched on hover,
        kept until the next analysis: Qt asks on every mouse move over the point)."""
        a, pipeline = self._analysis, self._pipeline
        if a is None or pipeline is None or uses_toy(a.settings) or a.settings.mode == "toy" \
                or a.settings.source == "model":
            return label  # toy vectors have no vocabulary around them; a model's are its own
        if a is not self._described[0]:
            self._described = (a, {})
        known = self._described[1]
        if label not in known:
            # A context word (one vector however often it occurs), else the query point.
            tokens = a.col_labels  # (n,) one per row of a.sentence.vectors
            vector = a.sentence.vectors[tokens.index(label)] if label in tokens else a.query.vector
            words = pipeline.near_words(vector, frozenset({label.lower()}))
            known[label] = f"{label}\nnearest words: {', '.join(words)}" if words else label
        return known[label]

    def shutdown(self) -> None:
        """Wait for background work (window close, end of a test)."""
        self.jobs.shutdown()

    def selected_head(self, a: Analysis | None = None) -> int | None:
        """The settings' selected head, or None (mean) if the analysis has fewer heads."""
        a = a if a is not None else self._analysis
        return self._state.shown_head(a.weights.shape[0]) if a is not None else None


def _prepared_for_views(a: Analysis) -> Analysis:
    """``a`` with its rollout or flow made and the model view's maps pooled, on the background
    thread that made ``a``: at 512 tokens each would hold the GUI thread (0.27 s and 8 ms)."""
    if (m := a.model) is not None:
        _ = m.across
        if m.shows_every_token:  # the view gets the run's own array (_shown_attentions)
            pooled_maps(frozen(m.run.attentions, np.float32))
    return a

