"""The one place where the explorer's inputs live: the settings, the loaded vectors and the
inspected key column, plus one signal saying which of them changed.

Widgets never compute anything: they call :meth:`ExplorerState.update` with what the person wants;
the controller listens to :attr:`ExplorerState.changed` and recomputes. A batch of changes (several
``update`` calls inside ``with state.batch():``) emits once, with the union of the changed names.

Besides the :class:`~core.settings.Settings` field names, ``changed`` may carry three more
names: ``"vectors"`` (a new word-vector table), ``"transformer"`` (a newly opened trained model)
and ``"inspected_col"`` (the key column picked in a heatmap).

The rules that keep the settings consistent live here too: which head is shown when the selected
one is gone (:func:`head_or_mean`), what else changes with the input mode (:func:`mode_changes`,
with the word-mode query to come back to), and the folder the file dialogs start in
(:class:`LastFolder`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from core.explain.lessons import lesson, lesson_toy
from core.settings import Settings, SettingsError, ToySpec

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

    from core.transformer import TransformerModel

VECTORS = "vectors"
TRANSFORMER = "transformer"
INSPECTED_COL = "inspected_col"
FIRST_WORDS_QUERY = "it"  # word mode's query after starting in another mode

# Fields that change which tokens exist: a picked key column no longer means the same token.
_TOKEN_FIELDS = frozenset({"sentence", "oov_policy", VECTORS, TRANSFORMER, "source", "model"})


def head_or_mean(head: int | None, n_heads: int) -> int | None:
    """``head`` when there is such a head among ``n_heads``; else None, the mean of the heads
    (fewer heads than the selected one show the mean rather than fail)."""
    return None if head is None or head >= n_heads else head


def default_toy() -> ToySpec:
    """The toy table a first switch to toy mode starts from: the three-input worked example."""
    return lesson_toy(lesson("three_inputs"))


def mode_changes(mode: str, s: Settings, words_query: str) -> dict[str, object]:
    """The settings changes of switching to ``mode``: a toy table to start from, a query that
    exists in the new mode (``words_query`` is the one to go back to in word mode)."""
    changes: dict[str, object] = {"mode": mode, "query_index": None}
    if mode == "toy":
        toy = s.toy if s.toy is not None else default_toy()
        changes["toy"] = toy
        if s.query.lower() not in (t.lower() for t in toy.tokens):
            changes["query"] = toy.tokens[0]
    elif mode == "words":
        changes["query"] = words_query
    return changes


class ExplorerState(QObject):
    """Current settings + vectors; emits :attr:`changed` (a frozenset of names) once per batch."""

    changed = Signal(object)

    def __init__(self, settings: Settings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings if settings is not None else Settings()
        self._kv: KeyedVectors | None = None
        self._transformer: TransformerModel | None = None
        self._transformer_path: str | None = None
        # Static mode's head count, kept while a trained model (with its own heads) is shown.
        self._vector_heads = self._settings.n_heads if self._settings.source == "vectors" else 4
        self._inspected_col: int | None = None
        s = self._settings
        self._words_query = s.query if s.mode == "words" else FIRST_WORDS_QUERY
        self._batch_depth = 0
        self._pending: set[str] = set()
        self._before_lesson: Settings | None = None  # the person's own, while a lesson is open
        # Toy mode was chosen with the trained model shown: leaving it brings the model back.
        self._model_before_toy = False

    # ------------------------------------------------------------------ read-only views
    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def kv(self) -> KeyedVectors | None:
        """The loaded word vectors, None until the first load finishes."""
        return self._kv

    @property
    def transformer(self) -> TransformerModel | None:
        """The opened trained model, None until one is opened (``settings.model`` says which)."""
        return self._transformer

    @property
    def transformer_path(self) -> str | None:
        """The folder the opened model came from (None: the bundled one)."""
        return self._transformer_path

    @property
    def ready(self) -> bool:
        """True when what the settings' source needs is loaded (vectors, or the model)."""
        if self._settings.source == "model":
            return self._transformer is not None
        return self._kv is not None

    @property
    def inspected_col(self) -> int | None:
        """The key column picked in a heatmap (highlighted), None when none is picked."""
        return self._inspected_col

    @property
    def words_query(self) -> str:
        """The query of word mode: the current one there, the last one used there elsewhere."""
        return self._words_query

    def shown_head(self, n_heads: int) -> int | None:
        """The head to show of an analysis with ``n_heads`` heads: the selected one, or None
        (the mean) when there is none selected or it has fewer heads."""
        return head_or_mean(self._settings.selected_head, n_heads)

    def source_switch(self, source: str) -> dict[str, object]:
        """The changes that switch the source: a trained model brings its own head count (and
        has no toy mode), word vectors get their own head count back."""
        s = self._settings
        if source == s.source:
            return {}
        if source == "vectors":
            return {"source": "vectors", "n_heads": self._vector_heads}
        changes: dict[str, object] = {"source": "model"}
        if self._transformer is not None:
            changes["n_heads"] = self._transformer.config.n_heads
        if s.mode == "toy":
            changes.update(mode_changes("words", s, self._words_query))
        return changes

    def mode_switch(self, mode: str) -> dict[str, object]:
        """The changes that switch to input ``mode`` (see :func:`mode_changes`); toy vectors are
        typed by hand, so they bring the word-vector source back from a trained model, and
        leaving toy mode for another brings that model back."""
        s = self._settings
        changes: dict[str, object] = {}
        if mode == "toy" and s.source == "model":
            changes.update(self.source_switch("vectors"))
            self._model_before_toy = True
        elif mode != "toy" and s.mode == "toy" and self._model_before_toy \
                and self._transformer is not None and s.source == "vectors":
            changes["source"] = "model"
            changes["n_heads"] = self._transformer.config.n_heads
        changes.update(mode_changes(mode, s, self._words_query))
        return changes

    @property
    def model_before_toy(self) -> bool:
        """True in toy mode chosen while the trained model was shown (it comes back after)."""
        return self._model_before_toy and self._settings.mode == "toy"

    # ------------------------------------------------------------------ changes
    def update(self, **changes: Any) -> set[str]:
        """Apply ``changes`` to the settings; return (and emit) the names that really changed.

        Keeps the settings consistent on the way: a new query word without ``query_index`` means
        "the first occurrence"; fewer heads than the selected head falls back to the mean; the
        toy table's words in sentence mode start from the default table when there is none.

        Raises
        ------
        SettingsError
            A value the settings reject; nothing is changed then.
        """
        changes = self._consistent(changes)
        return self._replace(self._settings.updated(**changes))

    def set_settings(self, settings: Settings) -> set[str]:
        """Replace every setting at once (a restored session, a reset); emits what differs.
        These are the person's own settings now, so an open lesson ends: closing it later must
        not bring back the ones from before it."""
        self._before_lesson = None
        return self._replace(settings)

    def enter_lesson(self, settings: Settings) -> None:
        """Show a lesson's ``settings``, remembering the person's own (those from before the
        first of several lessons opened in a row) for :meth:`leave_lesson`."""
        if self._before_lesson is None:
            self._before_lesson = self._settings
        self._inspected_col = None
        with self.batch():
            self._notify({INSPECTED_COL})
            self._replace(settings)

    @property
    def in_lesson(self) -> bool:
        """True between :meth:`enter_lesson` and :meth:`leave_lesson`."""
        return self._before_lesson is not None

    def leave_lesson(self) -> bool:
        """Back to the person's own settings (with the vectors loaded now); False when no
        lesson was open."""
        own, self._before_lesson = self._before_lesson, None
        if own is None:
            return False
        s = self._settings
        self._replace(own.updated(vectors_path=s.vectors_path, vectors_format=s.vectors_format))
        return True

    def set_vectors(self, kv: KeyedVectors, path: str | None) -> None:
        """Use a newly loaded vector table; ``path`` None means the bundled default set."""
        self._kv = kv
        self._inspected_col = None
        with self.batch():
            self._notify({VECTORS})
            self.update(vectors_path=path)

    def set_transformer(self, model: TransformerModel, path: str | None) -> None:
        """Use a newly opened trained model (``path`` None: the bundled one) as the source."""
        self._transformer, self._transformer_path = model, path
        self._inspected_col = None
        with self.batch():
            self._notify({TRANSFORMER})
            s = self._settings
            changes = self.source_switch("model")
            # Another model's ablations and what-if layer mean nothing here.
            kept = s.model if s.model.path == path else s.model.without_interventions()
            changes.update(n_heads=model.config.n_heads, model=replace(
                kept, path=path, layer=_layer_within(s.model.layer, model)))
            self.update(**changes)

    def set_inspected_col(self, col: int | None) -> None:
        if col != self._inspected_col:
            self._inspected_col = col
            self._notify({INSPECTED_COL})

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Collect the changes made inside the block and emit them as one ``changed``."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._pending:
                names, self._pending = frozenset(self._pending), set()
                self.changed.emit(names)

    # ------------------------------------------------------------------ helpers
    def _replace(self, new: Settings) -> set[str]:
        names = new.changed_fields(self._settings)
        if self._settings.source == "vectors":
            self._vector_heads = self._settings.n_heads
        self._settings = new
        if names & _TOKEN_FIELDS:
            self._inspected_col = None
        if new.mode == "words":
            self._words_query = new.query
        if new.mode != "toy" or new.source == "model":
            self._model_before_toy = False  # toy mode left, or the model chosen again
        self._notify(names)
        return names

    def _consistent(self, changes: dict[str, Any]) -> dict[str, Any]:
        changes = dict(changes)
        if "query" in changes and "query_index" not in changes:
            changes["query_index"] = None
        n_heads = changes.get("n_heads", self._settings.n_heads)
        selected = changes.get("selected_head", self._settings.selected_head)
        if isinstance(n_heads, int) and isinstance(selected, int) and \
                head_or_mean(selected, n_heads) is None:
            changes["selected_head"] = None  # the head is gone: show the mean rather than fail
        if changes.get("sentences_use_toy") is True and \
                changes.get("toy", self._settings.toy) is None:
            changes["toy"] = default_toy()  # the toy's words need a toy table
        if "head_axes" in changes and isinstance(changes["head_axes"], list):
            changes["head_axes"] = tuple(tuple(pair) for pair in changes["head_axes"])
        unknown = set(changes) - {f.name for f in fields(Settings)}
        if unknown:
            raise SettingsError(f"unknown settings field(s): {', '.join(sorted(unknown))}")
        return changes

    def _notify(self, names: set[str]) -> None:
        if not names:
            return
        self._pending |= names
        if self._batch_depth == 0:
            pending, self._pending = frozenset(self._pending), set()
            self.changed.emit(pending)


def _layer_within(layer: int | None, model: TransformerModel) -> int | None:
    """The remembered layer when the model has it, else None (the last)."""
    return layer if layer is not None and layer < model.config.n_layers else None


class LastFolder:
    """The folder the file dialogs start in: where the person last saved or opened a file.

    One object shared by the export and the session actions, so saving a session moves the
    next figure's starting folder too (and the other way round).
    """

    def __init__(self, path: str | None = None) -> None:
        self.path: str = path if path is not None else str(Path.home())

    def remember(self, file: str) -> None:
        """The folder of ``file`` (just written or read) is where the next dialog starts."""
        self.path = str(Path(file).parent)
