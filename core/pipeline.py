"""From settings and word vectors to everything the views show: one pure computation.

The window's controller, the headless exporter and scripts all call :class:`Pipeline`, so what a
figure shows is exactly what the window shows. Each stage is memoised on the settings it depends
on, so a temperature drag re-runs only the attention, not the head matrices or the lookup.

Shapes: n sentence tokens used, r = n or n + 1 query rows (the outside query word is one extra
row), h heads, d model width.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from core.analysis import Analysis, AnalysisError, MapCoordinates
from core.inputs import (
    identity_projection,
    sentence_query,
    sentence_rows,
    toy_heads,
    toy_keyed_vectors,
    toy_query,
    toy_rows,
    uses_toy,
)
from core.maths.attention import (
    MultiHeadResult,
    causal_mask,
    exclude_self_mask,
    multi_head_attention,
)
from core.maths.heads import HeadProjections, build_heads
from core.settings import Settings
from core.vectors.load import nearest_neighbours
from core.vectors.projection import Projection2D, fit_pca, fit_vocabulary_pca, word_axes
from core.vectors.tokens import (
    EmbeddedSentence,
    QueryChoice,
    embed_sentence,
    lookup_key,
    resolve_query,
)

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

__all__ = ["NEIGHBOURS", "Analysis", "AnalysisError", "MapCoordinates", "Pipeline", "attend_rows",
           "query_rows"]

HEAD_FIELDS = ("n_heads", "d_k", "head_strategy", "seed", "head_axes", "heads_file")
NEIGHBOURS = 5

# What an input mode hands the rest of the pipeline: the key rows, the query, the heads, the word
# space for the latent map's projection and neighbours (None for toy vectors), warnings.
_Inputs = tuple[EmbeddedSentence, QueryChoice, HeadProjections, "KeyedVectors | None", list[str]]


class Pipeline:
    """Computes :class:`Analysis` objects for one set of word vectors, memoising each stage."""

    def __init__(self, kv: KeyedVectors, vectors_name: str | None = None) -> None:
        self.kv = kv
        self.vectors_name: str = vectors_name or str(getattr(kv, "source_name", "word vectors"))
        self._memo: dict[str, tuple[Any, Any]] = {}

    def _stage(self, name: str, key: Any, build: Any) -> Any:
        """Return the memoised value of stage ``name`` if ``key`` is unchanged, else rebuild."""
        cached = self._memo.get(name)
        if cached is not None and _same(cached[0], key):
            return cached[1]
        value = build()
        self._memo[name] = (key, value)
        return value

    def run(self, settings: Settings, *, live: bool = False) -> Analysis:
        """Compute every view's data for ``settings``.

        ``live`` (a slider being dragged, typing): keep the attention output's nearest words
        from the last run with this query and sentence instead of searching the whole
        vocabulary again (the search is most of a small sentence's compute time); the result
        says so in ``coords.neighbours_settled`` and a later non-live run settles them.

        Raises
        ------
        AnalysisError
            Empty sentence, unknown query, bad head settings: a message a person can act on.
        """
        started = time.perf_counter()
        try:
            return self._run(settings, started, live)
        except AnalysisError:
            raise
        except ValueError as error:  # core's clear messages (OOV, head file, axes words)
            raise AnalysisError(str(error)) from error

    def _run(self, s: Settings, started: float, live: bool) -> Analysis:
        """The mode's rows and heads -> attention -> the latent map and warnings -> Analysis."""
        if s.mode == "words":
            sentence, query, heads, space, mode_warnings = self._word_inputs(s)
        else:  # sentence and toy mode (core.inputs): other rows, the same computation after
            sentence, query, heads, space, mode_warnings = self._mode_inputs(s)
        outside = query.position is None  # the query is one more row, after the sentence's
        x_q = query_rows(sentence, query)  # (r, d)
        row = len(sentence.vectors) if query.position is None else query.position
        result = attend_rows(s, heads, x_q, sentence.vectors)
        coords = self._coordinates(s, sentence, query, result, row, space, live)
        labels = sentence.labels
        names = labels + ([query.text] if outside else [])  # (r,) one per row of x_q
        warnings = (mode_warnings + list(sentence.warnings) + _row_warnings(result, row)
                    + _degenerate_warnings(s.scoring, x_q, names, result))
        return Analysis(
            settings=s,
            vectors_name=self.vectors_name,
            sentence=sentence,
            query=query,
            heads=heads,
            result=result,
            row_labels=labels + ([f"{query.text} (query)"] if outside else []),
            col_labels=labels,
            query_row=row,
            coords=coords,
            warnings=tuple(warnings),
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _word_inputs(self, s: Settings) -> _Inputs:
        """Word mode: the sentence's word vectors, the query word, the head projections."""
        sentence = self._stage(
            "sentence",
            (s.sentence, s.oov_policy),
            lambda: embed_sentence(s.sentence, self.kv, s.oov_policy),
        )
        if len(sentence.vectors) == 0:
            raise AnalysisError(_no_known_words(sentence))
        query = resolve_query(s.query, sentence, self.kv, s.query_index)
        return sentence, query, self._word_heads(s), self.kv, _capped_heads(s, self.kv)

    def _word_heads(self, s: Settings) -> HeadProjections:
        """The head projections for these word vectors, rebuilt only when a head field changes."""
        return self._stage(
            "heads", tuple(getattr(s, f) for f in HEAD_FIELDS), lambda: self._heads(s)
        )

    def _mode_inputs(self, s: Settings) -> _Inputs:
        """Rows, query and heads of sentence and toy mode (`core.inputs`), and the word space
        for the latent map's projection and neighbours (None for toy vectors)."""
        if uses_toy(s) or s.mode == "toy":
            if s.toy is None:
                raise AnalysisError("Toy mode has no toy table yet: open a lesson or switch the "
                                    "input to toy vectors again.")
            toy = self._stage("toy", s.toy, s.toy.inputs)
            heads, warnings = self._stage(
                "toy_heads", (s.toy, s.n_heads), lambda: toy_heads(toy, s.n_heads)
            )
            if s.mode == "toy":
                return toy_rows(toy), toy_query(s, toy), heads, None, warnings
            words = self._stage("toy_kv", s.toy, lambda: toy_keyed_vectors(toy))
        else:
            words, warnings, heads = self.kv, _capped_heads(s, self.kv), self._word_heads(s)
        rows = sentence_rows(s.context_sentences, words, s.oov_policy)
        query = sentence_query(s, rows, words)
        return rows, query, heads, (self.kv if words is self.kv else None), warnings

    def _heads(self, s: Settings) -> HeadProjections:
        d_model = int(self.kv.vector_size)
        n_heads = min(s.n_heads, d_model)  # said by _capped_heads
        data = directions = None
        if s.head_strategy == "pca":
            data = np.asarray(self.kv.vectors[:10_000])
        if s.head_strategy == "axes":
            directions = self._directions(s.head_axes)
        return build_heads(
            s.head_strategy,
            d_model,
            n_heads,
            d_k=s.d_k,
            seed=s.seed,
            data=data,
            directions=directions,
            path=s.heads_file,
            dtype=self.kv.vectors.dtype,
        )

    def _directions(self, pairs: tuple[tuple[str, str], ...]) -> np.ndarray:
        rows = []
        for a, b in pairs:
            keys = [lookup_key(self.kv, w) for w in (a, b)]
            missing = [w for w, k in zip((a, b), keys, strict=True) if k is None]
            if missing:
                raise AnalysisError(
                    f"head axis word(s) not in the vocabulary: {', '.join(missing)}"
                )
            rows.append(self.kv[keys[0]] - self.kv[keys[1]])
        return np.stack(rows)  # (m, d)

    def _projection(
        self, s: Settings, sentence: EmbeddedSentence, query: QueryChoice,
        space: KeyedVectors | None = None,
    ) -> Projection2D:
        if space is None:  # toy vectors: drawn as they are in 2D, else PCA of the shown points
            plane = identity_projection(sentence.vectors.shape[1])
            if plane is not None:
                return plane
            return fit_pca(np.vstack([sentence.vectors, query.vector[None, :]]))
        if s.projection == "pca_vocab":
            return self._stage("vocab_pca", None, lambda: fit_vocabulary_pca(self.kv))
        if s.projection == "axes":
            return self._stage(
                "axes", s.projection_axes, lambda: word_axes(self.kv, *s.projection_axes)
            )
        return fit_pca(np.vstack([sentence.vectors, query.vector[None, :]]))

    def _coordinates(
        self,
        s: Settings,
        sentence: EmbeddedSentence,
        query: QueryChoice,
        result: MultiHeadResult,
        row: int,
        space: KeyedVectors | None = None,
        live: bool = False,
    ) -> MapCoordinates:
        project = self._projection(s, sentence, query, space)
        weights = result.weights[:, row, :]  # (h, n)
        mixes = weights @ sentence.vectors  # (h, n) @ (n, d) -> (h, d)
        output = result.output[row]  # (d,)
        neighbours: list[tuple[str, float, float, str]] = []
        settled = True
        if s.show_neighbours and space is not None:  # toy vectors have no vocabulary around
            exclude = frozenset({query.text.lower(), *(t.lower() for t in sentence.labels)})
            # The query's neighbours do not move while a slider is dragged: search once.
            near_query = self._stage(
                "query_neighbours", (query.text, exclude), lambda: self._near(query.vector, exclude)
            )
            near_output, settled = self._output_neighbours(output, (query.text, exclude), live)
            # A word near both is drawn once (as the query's): two labels on one point look wrong.
            near_output = [w for w in near_output if w not in near_query]
            for kind, words in (("query", near_query), ("output", near_output)):
                for word in words:
                    x, y = project(np.asarray(self.kv[word]))
                    neighbours.append((word, float(x), float(y), kind))
        return MapCoordinates(
            tokens=project(sentence.vectors),
            query=project(query.vector),
            head_mixes=project(mixes),
            output=project(output),
            neighbours=tuple(neighbours),
            axis_labels=project.labels,
            neighbours_settled=settled,
        )

    def settle(self, a: Analysis) -> Analysis:
        """``a`` with its output's own nearest words where a live run kept earlier ones; the
        attention itself is not computed again."""
        if a.coords.neighbours_settled:
            return a
        # Only word-vector spaces have neighbours at all, so the space is these vectors.
        coords = self._coordinates(a.settings, a.sentence, a.query, a.result, a.query_row,
                                   self.kv)
        return replace(a, coords=coords)

    def _output_neighbours(self, output: np.ndarray, key: Any,
                           live: bool) -> tuple[list[str], bool]:
        """The output's nearest words, and whether they were searched for this output."""
        kept = self._memo.get("output_neighbours")
        if live and kept is not None and _same(kept[0], key):
            return kept[1], False
        words = self._near(output, key[1])
        self._memo["output_neighbours"] = (key, words)
        return words, True

    def near_words(self, vector: np.ndarray, exclude: frozenset[str] = frozenset()) -> list[str]:
        """The vocabulary words nearest (by cosine) to ``vector`` (d,), best first."""
        return self._near(np.asarray(vector), exclude)

    def _near(self, vector: np.ndarray, exclude: frozenset[str]) -> list[str]:
        return [w for w, _ in nearest_neighbours(self.kv, vector, NEIGHBOURS, exclude=exclude)]


def query_rows(sentence: EmbeddedSentence, query: QueryChoice) -> np.ndarray:
    """(r, d) the rows that ask: the sentence's, and an outside query (word, sentence, toy
    vector) as one more row after them."""
    x_kv = sentence.vectors  # (n, d)
    if query.position is not None:
        return x_kv
    return np.vstack([x_kv, query.vector[None, :]])  # (n + 1, d)


def _mask(s: Settings, n_rows: int, n_keys: int) -> np.ndarray | None:
    """(r, n) True where a row may attend to a key, or None when nothing is masked."""
    if not (s.causal or s.exclude_self):
        return None
    mask = np.ones((n_rows, n_keys), dtype=bool)
    square = slice(0, n_keys)  # the outside query row (if any) is after every token
    if s.causal:
        mask[square] &= causal_mask(n_keys, n_keys)
    if s.exclude_self:
        mask[square] &= exclude_self_mask(n_keys)
    return mask


def attend_rows(s: Settings, heads: HeadProjections, x_q: np.ndarray,
            x_kv: np.ndarray) -> MultiHeadResult:
    """Multi-head attention of the rows ``x_q`` (r, d) over ``x_kv`` (n, d), as ``s`` sets it."""
    return multi_head_attention(
        x_q,
        x_kv,
        heads.w_q,
        heads.w_k,
        heads.w_v,
        heads.w_o,
        heads.n_heads,
        scoring=s.scoring,
        normalization=s.normalization,
        temperature=s.temperature,
        mask=_mask(s, len(x_q), len(x_kv)),
        **_scoring_params(s.scoring, heads.d_k, s.seed, x_q.dtype),
    )


def _row_warnings(result: MultiHeadResult, row: int) -> list[str]:
    empty_heads = np.flatnonzero(result.empty_rows[:, row])
    if len(empty_heads) == 0:
        return []
    names = ", ".join(str(h + 1) for h in empty_heads)
    return [f"The query gives no weight to any token in head(s) {names} (all masked or all ≤ 0)."]


def _scoring_params(scoring: str, d_k: int, seed: int, dtype: Any) -> dict[str, np.ndarray]:
    """Seeded parameters of the two learned scorers: static vectors come without trained ones.

    ``general`` gets a random rotation W (scores keep the size of plain dot products);
    ``additive`` gets W1, W2 (d_k, d_k) and v scaled by 1/sqrt(d_k) so tanh does not saturate.
    """
    if scoring not in ("general", "additive"):
        return {}
    rng = np.random.default_rng([seed, d_k])  # same seed and width, same scorer
    if scoring == "general":
        rotation, _ = np.linalg.qr(rng.standard_normal((d_k, d_k)))  # (d_k, d_k)
        return {"W": rotation.astype(dtype)}
    w1, w2 = (rng.standard_normal((d_k, d_k)) / np.sqrt(d_k) for _ in range(2))  # (d_a=d_k, d_k)
    v = rng.standard_normal(d_k) / np.sqrt(d_k)  # (d_a,)
    return {"W1": w1.astype(dtype), "W2": w2.astype(dtype), "v": v.astype(dtype)}


def _degenerate_warnings(
    scoring: str, x_q: np.ndarray, labels: list[str], result: MultiHeadResult
) -> list[str]:
    """Say where the maths degenerated, so a flat or one-hot picture is not read as a finding."""
    notes = []
    if scoring == "cosine":
        zero = [w for w, row in zip(labels, x_q, strict=True) if not np.any(row)]
        if zero:
            notes.append(
                f"Zero vector(s) for {', '.join(dict.fromkeys(zero))}: cosine similarity with a "
                "vector of no direction is undefined, so those scores are 0."
            )
    # min and max are NaN or infinite exactly when some score is: two SIMD reductions instead
    # of building an (h, n, n) boolean mask and reducing that.
    if not (np.isfinite(result.scores.min()) and np.isfinite(result.scores.max())):
        notes.append(
            "Some scores overflowed the float range (the vectors hold huge values): the "
            "largest scores share all the weight."
        )
    return notes


def _no_known_words(sentence: EmbeddedSentence) -> str:
    """Why a sentence gave no rows: it is empty, or none of its words (named) is in the
    vectors (the person typed a sentence: asking for one would not help)."""
    if not sentence.tokens:
        return "The sentence is empty: type a sentence."
    unknown = list(dict.fromkeys(t.text for t in sentence.tokens))  # in order, once each
    shown = ", ".join(unknown[:_NAMED_WORDS]) + (", …" if len(unknown) > _NAMED_WORDS else "")
    return f"None of the sentence's words is in these vectors: {shown}."


_NAMED_WORDS = 8  # unknown words named in a message; a pasted paragraph is not repeated


def _same(a: Any, b: Any) -> bool:
    return bool(a == b) if not isinstance(a, np.ndarray) else np.array_equal(a, b)


def _capped_heads(s: Settings, kv: KeyedVectors) -> list[str]:
    """Say so when the settings ask for more heads than the vectors have dimensions (a session
    made with wider vectors): the heads computed are one per dimension at most."""
    d_model = int(kv.vector_size)
    if s.n_heads <= d_model:
        return []
    return [f"{s.n_heads} heads asked for, but these vectors have {d_model} dimensions: "
            f"{d_model} heads are computed (at most one per dimension)"]
