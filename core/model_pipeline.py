"""From settings and a trained transformer to everything the views show: the same `Analysis`
as static vectors give, for the chosen layer, plus the trained-model part (`ModelAnalysis`).

The chosen layer's attention is recomputed by the core's ``multi_head_attention`` from that
layer's input (`TransformerModel.layer_attention`), so the step panel shows the real arithmetic:
x, q = x W_Q + b_Q, k, v, the scores, / sqrt(d_k), softmax, the weighted sum and W_O.

Shapes: L layers, H heads, n tokens, m shown tokens, d model width, d_k head width.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import replace
from typing import Any

import numpy as np

from core.analysis import Frame
from core.maths.attention import MultiHeadResult
from core.maths.heads import HeadProjections, build_heads
from core.maths.rollout import (
    MAX_FLOW_TOKENS,
    attention_flow,
    attention_rollout,
    flow_note,
)
from core.model_sentences import sentence_query_from_model, sentence_rows_from_model
from core.pipeline import (
    NEIGHBOURS,
    Analysis,
    AnalysisError,
    MapCoordinates,
    attend_rows,
    query_rows,
)
from core.settings import Settings
from core.transformer import ModelError, TransformerModel, TransformerRun
from core.transformer.analysis import ModelAnalysis, head_shift, sentence_embedding
from core.vectors.neighbours import nearest_neighbours
from core.vectors.projection import Projection2D, fit_pca
from core.vectors.tokens import EmbeddedSentence, QueryChoice, Token
from core.vectors.word_vectors import WordVectors

__all__ = ["ModelPipeline", "display_labels"]

ACROSS_TITLES = {"rollout": "Attention rollout", "flow": "Attention flow"}
EMPTY_SENTENCE = "The sentence is empty: type a sentence (the model has no tokens to read)."
NO_TOKENS = "The sentence has no tokens the model reads: type a sentence."
MAX_WORD_PIECES = 24
"""The most pieces a typed word is matched over (a text without spaces, Chinese say, touches
from end to end: matching every run of its tokens would cost O(n²) at each update)."""


def display_labels(run: TransformerRun) -> list[str]:
    """A label per token: the person's own characters, ``##`` before a word's later pieces,
    special tokens by name ("[CLS]")."""
    labels = []
    for token, text, special in zip(run.tokens, run.token_texts, run.special, strict=True):
        if special:
            labels.append(token)
        elif token.startswith("##"):
            labels.append("##" + text)
        else:
            labels.append(text.strip() or token)
    return labels


class ModelPipeline:
    """Computes `Analysis` objects for one trained model, keeping the last runs."""

    def __init__(self, model: TransformerModel) -> None:
        self.model = model
        self.vectors_name = model.config.summary
        self._runs: dict[Any, TransformerRun] = {}
        self._vocabulary: WordVectors | None = None
        self._all_layers_pca: tuple[Any, Projection2D, Frame | None] | None = None
        self._rollout: tuple[TransformerRun, bytes, np.ndarray] | None = None
        self._layer_memo: tuple[TransformerRun, int, MultiHeadResult] | None = None
        self._shown_memo: tuple[MultiHeadResult, bytes, MultiHeadResult] | None = None
        self._near_run: TransformerRun | None = None
        self._near_memo: dict[tuple[int, int, str], list[str]] = {}
        # run() may be called from a background thread (long texts) while the window waits.
        self._lock = threading.Lock()

    def _rollouts(self, run: TransformerRun, kept: np.ndarray) -> np.ndarray:
        """Every layer's rollout of ``run`` (L, n, n), once per run and set of heads: stepping
        through the layers reads it again (at 512 tokens it costs ~20 ms)."""
        if self._rollout is None or self._rollout[0] is not run or \
                self._rollout[1] != kept.tobytes():
            self._rollout = (run, kept.tobytes(), attention_rollout(run.attentions, heads=kept))
        return self._rollout[2]

    def is_cached(self, s: Settings) -> bool:
        """True when ``s`` needs no forward pass: its runs are kept from an earlier call."""
        key = (s.sentence, s.model.pair)
        with self._lock:
            if key not in self._runs:
                return False
            interventions = s.model.interventions()
            return interventions.first_layer(self.model.config) is None or \
                (key, interventions) in self._runs

    def token_count(self, s: Settings) -> int:
        """How many tokens the model would read for ``s`` (0 when it cannot tokenise it)."""
        try:
            return len(self.model.encode(s.sentence, s.model.pair).ids)
        except ModelError:
            return 0

    def run(self, settings: Settings, *, live: bool = False) -> Analysis:
        """Every view's data for ``settings``.

        ``live`` (typing, a slider): the latent map's nearest vocabulary tokens are searched only
        when they are remembered for this run, layer and token; otherwise the result says
        ``coords.neighbours_settled`` False and `settle` searches them once changes stop (two
        passes over 30,522 embeddings, a third of a 32-token update).

        Raises
        ------
        AnalysisError
            An empty text, a layer or head the model does not have: what to change.
        """
        started = time.perf_counter()
        try:
            with self._lock:
                if settings.mode == "toy":
                    raise AnalysisError("Toy vectors are typed by hand, not a trained model's: "
                                        "choose word vectors as the source to use them.")
                if settings.mode == "sentences":
                    return self._sentence_analysis(settings, started)
                return self._analysis(settings, started, live)
        except ModelError as error:
            raise AnalysisError(str(error)) from None

    def _sentence_analysis(self, s: Settings, started: float) -> Analysis:
        """Sentence mode: each sentence is the model's sentence embedding (mean pooling, unit
        length); the query sentence attends over the context ones through one identity head,
        with the person's scoring, normalisation and temperature, as static sentences do."""
        rows = sentence_rows_from_model(self.model, s.context_sentences)
        query = sentence_query_from_model(self.model, s, rows)
        heads = build_heads("identity", rows.vectors.shape[1], 1, dtype=rows.vectors.dtype)
        x_q = query_rows(rows, query)  # (r, d): the sentences, then an outside query sentence
        result = attend_rows(s, heads, x_q, rows.vectors)
        row = len(rows.vectors) if query.position is None else query.position
        labels = list(rows.labels)
        project = fit_pca(np.vstack([rows.vectors, query.vector[None, :]]))
        coords = MapCoordinates(
            tokens=project(rows.vectors), query=project(query.vector),
            head_mixes=project(result.weights[:, row, :] @ rows.vectors),
            output=project(result.output[row]), neighbours=(), axis_labels=project.labels)
        outside = query.position is None
        return Analysis(
            settings=s, vectors_name=self.vectors_name + " · sentence embeddings",
            sentence=rows, query=query, heads=heads, result=result,
            row_labels=labels + ([f"{query.text} (query)"] if outside else []),
            col_labels=labels, query_row=row, coords=coords, warnings=tuple(rows.warnings),
            elapsed_ms=(time.perf_counter() - started) * 1000.0)

    def _runs_for(self, s: Settings) -> tuple[TransformerRun, TransformerRun | None]:
        """This text's run as trained and, when there are interventions, the changed run."""
        key = (s.sentence, s.model.pair)
        base = self._runs.get(key)
        if base is None:
            base = self.model.run(s.sentence, s.model.pair)
            self._runs = {key: base}  # one text at a time: a new text drops the old runs
        interventions = s.model.interventions()
        if interventions.first_layer(self.model.config) is None:
            return base, None
        changed_key = (key, interventions)
        changed = self._runs.get(changed_key)
        if changed is None:
            changed = self.model.run(s.sentence, s.model.pair, interventions=interventions,
                                     reuse=base)
            # The run as trained and the latest changed one: toggling heads one after another
            # must not keep a run (75 MB of attention at 512 tokens) per combination tried.
            self._runs = {key: base, changed_key: changed}
        return base, changed

    def _layer(self, run: TransformerRun, layer: int) -> MultiHeadResult:
        """The layer's attention with every intermediate, kept while the run and layer stay
        (a new query token, hiding the special tokens or a head change reuse it). With heads
        of this layer ablated, ``concat`` and ``output`` are what the layer added to the
        residual stream (`TransformerModel.layer_attention`): the map's output point too."""
        if self._layer_memo is None or self._layer_memo[:2] != (run, layer):
            self._layer_memo = (run, layer, self.model.layer_attention(run, layer))
        return self._layer_memo[2]

    def _shown(self, full: MultiHeadResult, shown: np.ndarray) -> MultiHeadResult:
        """``full`` restricted to the shown tokens, kept while the layer and the tokens stay:
        at 512 tokens the copy costs ~100 ms, and a new query or head needs it again."""
        key = shown.tobytes()
        if self._shown_memo is None or self._shown_memo[0] is not full or \
                self._shown_memo[1] != key:
            self._shown_memo = (full, key, _keep(full, shown))
        return self._shown_memo[2]

    def settle(self, a: Analysis) -> Analysis:
        """``a`` with the nearest vocabulary tokens a live run left out."""
        if a.coords.neighbours_settled or a.model is None:
            return a
        m = a.model
        with self._lock:  # a.result is the shown tokens' attention already
            coords = self._coordinates(a.settings, m.run, m.layer, m.shown, a.result,
                                       a.query_row, live=False)
        return replace(a, coords=coords)

    def _analysis(self, s: Settings, started: float, live: bool = False) -> Analysis:
        c = self.model.config
        if not s.sentence.strip():
            raise AnalysisError(EMPTY_SENTENCE)
        base, changed = self._runs_for(s)
        run = changed or base
        if run.special.all():  # e.g. only control characters: the tokenizer drops them
            raise AnalysisError(NO_TOKENS)
        layer = c.n_layers - 1 if s.model.layer is None else s.model.layer
        if not 0 <= layer < c.n_layers:
            raise AnalysisError(f"{c.name} has layers 1 to {c.n_layers}; layer {layer + 1} "
                                "does not exist")
        if s.selected_head is not None and s.selected_head >= c.n_heads:
            raise AnalysisError(f"{c.name} has heads 1 to {c.n_heads} per layer")
        full = self._layer(run, layer)  # (H, n, n) and every intermediate
        shown = np.flatnonzero(~run.special) if s.model.hide_special \
            else np.arange(len(run.tokens))
        hiding = len(shown) < len(run.tokens)
        result = self._shown(full, shown) if hiding else full
        every_label = display_labels(run)
        labels = [every_label[i] for i in shown]
        row, query_note = _query_row(s, labels, run, shown)
        x = run.passed.layer_inputs[layer][shown]  # (m, d) what this layer's attention read
        sentence = _sentence(run, shown, x)
        query = QueryChoice(labels[row], x[row], row)
        warnings = list(run.warnings) + ([query_note] if query_note else [])
        return Analysis(
            settings=s, vectors_name=self.vectors_name, sentence=sentence, query=query,
            heads=_heads(self.model, layer), result=result, row_labels=labels,
            col_labels=labels, query_row=row,
            coords=self._coordinates(s, run, layer, shown, result, row, live),
            warnings=tuple(warnings), elapsed_ms=(time.perf_counter() - started) * 1000.0,
            model=self._model_part(s, base, changed, layer, shown, result, int(shown[row])),
            full_result=full if hiding else None)

    def _model_part(self, s: Settings, base: TransformerRun, changed: TransformerRun | None,
                    layer: int, shown: np.ndarray, result: MultiHeadResult,
                    query_token: int) -> ModelAnalysis:
        hidden_share = None
        if len(shown) < len(base.tokens):  # the weight the maps leave out, per head and row
            hidden_share = 1.0 - result.weights.sum(axis=-1)  # (H, m)
        shift = cosine = None
        if changed is not None:
            shift = head_shift(base.attentions, changed.attentions)  # (L, H)
            cosine = float(sentence_embedding(base) @ sentence_embedding(changed))
        def across() -> tuple[np.ndarray | None, str, str]:
            with self._lock:  # the view may ask from the GUI thread while a run is going
                return _across_layers(s, changed or base, layer, shown, query_token,
                                      self._rollouts)

        return ModelAnalysis(self.model.config, changed or base, base if changed else None,
                             layer, shown, hidden_share, shift, cosine, across)

    # ------------------------------------------------------------------ the latent map

    def _projection(self, s: Settings, run: TransformerRun, layer: int,
                    shown: np.ndarray) -> tuple[Projection2D, Frame | None]:
        """PCA of this layer's points, or one PCA of every layer's (axes that stay put while
        the person steps through the layers) with the frame every layer's tokens share."""
        if s.projection == "pca_view":
            return fit_pca(run.passed.layer_inputs[layer][shown], ("PC 1", "PC 2")), None
        key = (run.text, run.pair, run.interventions, shown.tobytes())  # hiding [CLS] refits
        if self._all_layers_pca is None or self._all_layers_pca[0] != key:
            # Fitted on what the map draws, each layer's attention input: for GPT-2 that is
            # after ln_1, where the residual stream it was fitted on before is far larger.
            points = run.attention_inputs[:, shown].reshape(-1, run.attention_inputs.shape[-1])
            project = fit_pca(points, ("all-layers PC 1", "all-layers PC 2"))  # (L m, d)
            drawn = project(points)  # (L m, 2)
            finite = drawn[np.isfinite(drawn).all(axis=1)]  # (k, 2)
            frame: Frame | None = None
            if len(finite):
                (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
                frame = (float(x0), float(y0), float(x1), float(y1))
            self._all_layers_pca = (key, project, frame)
        return self._all_layers_pca[1], self._all_layers_pca[2]

    def _coordinates(self, s: Settings, run: TransformerRun, layer: int, shown: np.ndarray,
                     result: MultiHeadResult, row: int, live: bool) -> MapCoordinates:
        project, frame = self._projection(s, run, layer, shown)
        x = run.passed.layer_inputs[layer][shown]  # (m, d)
        mixes = result.weights[:, row, :] @ x  # (H, m) @ (m, d) -> (H, d)
        moved = x[row] + result.output[row]  # (d,) the query after attention (the residual)
        neighbours: list[tuple[str, float, float, str]] = []
        settled = True
        if s.show_neighbours:
            named: set[str] = set()
            for kind, vector in (("query", x[row]), ("output", moved)):
                key = (layer, int(shown[row]), kind)
                if live and (self._near_run is not run or key not in self._near_memo):
                    settled = False  # searched by `settle` once the changes stop
                    continue
                # A token near both is drawn once (as the query's): two labels on one point.
                for word in [w for w in self._near(run, key, vector) if w not in named]:
                    named.add(word)
                    point = project(np.asarray(self._vocab()[word], dtype=np.float64))
                    neighbours.append((word, float(point[0]), float(point[1]), kind))
        return MapCoordinates(tokens=project(x), query=project(x[row]),
                              head_mixes=project(mixes), output=project(moved),
                              neighbours=tuple(neighbours), axis_labels=project.labels,
                              neighbours_settled=settled, frame=frame)

    def _near(self, run: TransformerRun, key: tuple[int, int, str],
              vector: np.ndarray) -> list[str]:
        """The vocabulary tokens nearest ``vector``, remembered per run, layer, token and kind:
        stepping back to a layer or a token searches 30,522 embeddings no more."""
        if self._near_run is not run:
            self._near_run, self._near_memo = run, {}
        if key not in self._near_memo:
            self._near_memo[key] = [word for word, _ in nearest_neighbours(
                self._vocab(), vector, NEIGHBOURS, exclude=frozenset(run.tokens))]
        return self._near_memo[key]

    def _vocab(self) -> WordVectors:
        """The model's vocabulary with its input embeddings, for the nearest tokens."""
        if self._vocabulary is None:
            tokens = self.model.tokenizer.vocabulary()
            matrix = self.model.weights.token_embeddings[:len(tokens)]  # (V, d), mapped
            self._vocabulary = WordVectors(tokens, matrix, self.vectors_name)
        return self._vocabulary


def _across_layers(s: Settings, run: TransformerRun, layer: int, shown: np.ndarray,
                   query_token: int, rollouts: Any) -> tuple[np.ndarray | None, str, str]:
    """Rollout (every token's row) or flow (the query's row) through layers 1..layer+1, on the
    shown tokens: (matrix (r, m) or None, title, note). Ablated heads are left out of both."""
    c = run.passed.layer_attentions[0].shape[0]
    kept = np.ones((len(run.passed.layer_attentions), c), bool)  # (L, H)
    for lay, head in run.interventions.ablated:
        kept[lay, head] = False
    method = "flow" if s.model.across_layers == "flow" else "rollout"
    layers = "layer 1" if layer == 0 else f"layers 1-{layer + 1}"  # not "layers 1-1"
    title = f"{ACROSS_TITLES[method]}, {layers} (Abnar & Zuidema 2020)"
    n = len(run.tokens)
    try:
        if method == "flow" and n <= MAX_FLOW_TOKENS:
            flow = attention_flow(run.attentions, layer=layer, heads=kept, rows=[query_token])
            return flow[:, shown], title + ", the query's row", flow_note()
        note = "" if method == "rollout" else (
            f"attention flow is computed for up to {MAX_FLOW_TOKENS} tokens; this text has {n}: "
            "showing rollout")
        rollout = rollouts(run, kept)[layer]  # (n, n)
        title = title.replace(ACROSS_TITLES["flow"], ACROSS_TITLES["rollout"])
        if len(shown) < n:
            hidden = float(1 - rollout[np.ix_(shown, shown)].sum(axis=1).mean())
            note = " ".join(filter(None, [note, f"special tokens hidden: on average {hidden:.0%} "
                                                "of each row goes to them"]))
        return rollout[np.ix_(shown, shown)], title, note
    except ValueError as error:  # e.g. a what-if normalisation left rows that sum to 0
        return None, title, f"not available: {error}"


def _keep(result: MultiHeadResult, shown: np.ndarray) -> MultiHeadResult:
    """The result restricted to the shown tokens, as rows and as keys (weights keep their
    values: the rows no longer sum to 1, and the view says how much went to the rest)."""
    def rows_cols(a: np.ndarray) -> np.ndarray:  # (H, n, n) -> (H, m, m)
        return _frozen(np.take(np.take(a, shown, axis=1), shown, axis=2))  # 8x a[:, s][:, :, s]

    def rows(a: np.ndarray, axis: int) -> np.ndarray:
        return _frozen(np.take(a, shown, axis=axis))

    return replace(result, weights=rows_cols(result.weights), scores=rows_cols(result.scores),
                   logits=rows_cols(result.logits), queries=rows(result.queries, 1),
                   keys=rows(result.keys, 1), values=rows(result.values, 1),
                   head_outputs=rows(result.head_outputs, 1), concat=rows(result.concat, 0),
                   output=rows(result.output, 0), empty_rows=rows(result.empty_rows, 1))


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _heads(model: TransformerModel, layer: int) -> HeadProjections:
    w = model.layers_in("float32")[layer]
    c = model.config
    return HeadProjections(w.w_q, w.w_k, w.w_v, w.w_o, c.n_heads, c.d_k, c.d_k, "trained",
                           f"layer {layer + 1} of {c.name}: {c.n_heads} trained heads x "
                           f"d_k={c.d_k}")


def _sentence(run: TransformerRun, shown: np.ndarray, x: np.ndarray) -> EmbeddedSentence:
    """The shown tokens as the sentence the views colour (offsets into the person's text)."""
    tokens = []
    for i in shown:
        start, end = run.encoding.offsets[i]
        special = bool(run.special[i])
        tokens.append(Token(run.token_texts[i], int(start), int(end), run.tokens[i],
                            "special" if special else "vocab",
                            "a special token the model adds" if special else ""))
    return EmbeddedSentence(tuple(tokens), x, ())


def _query_row(s: Settings, labels: list[str], run: TransformerRun,
               shown: np.ndarray) -> tuple[int, str]:
    """The row of the query and a note on how it was found ("" when it is one of the tokens).

    The query is a token's label (its occurrence ``query_index`` first), else a whole word
    of the text the tokenizer split into pieces (its first piece: "unbelievably" is
    un|##bel|##ie|##va|##bly), matched as the tokenizer reads: case and accents aside. Neither:
    the first real token, and a note that says so."""
    wanted = _folded(s.query).lstrip("#")
    folded = [_folded(label).lstrip("#") for label in labels]
    if s.query_index is not None and s.query_index < len(labels) and \
            folded[s.query_index] == wanted:
        return s.query_index, ""
    if wanted in folded:
        return folded.index(wanted), ""
    words = _words_from(run, shown)
    starts = [row for row, found in words.items() if wanted in found]
    if wanted and starts:
        row = s.query_index if s.query_index in starts else starts[0]
        pieces = words[row][wanted]
        return row, (f"'{s.query.strip()}' is {pieces} word pieces here: showing its first, "
                     f"'{labels[row]}'")
    plain = [i for i, label in enumerate(labels) if not label.startswith("[")]
    row = plain[0] if plain else 0
    return row, (f"'{s.query}' is not one of the model's tokens here; showing '{labels[row]}' "
                 "(pick a token of the text)")


def _words_from(run: TransformerRun, shown: np.ndarray) -> dict[int, dict[str, int]]:
    """For each shown row, the texts made of it and the pieces right after it that touch in
    the person's text (folded, as `_folded`), each with its number of pieces: row 4, "un", has
    {"unbel": 2, ..., "unbelievably": 5}. Pieces of one word touch; words are apart (or the
    next starts with its space, GPT-2's "Ġwas"), or one of them is a special token."""
    offsets, texts, special = run.encoding.offsets, run.token_texts, run.special
    found: dict[int, dict[str, int]] = {}
    for row, i in enumerate(shown):
        if special[i]:
            continue
        text, end, pieces = texts[i], offsets[i][1], {}
        for count, j in enumerate(shown[row + 1:row + MAX_WORD_PIECES], start=2):
            if j != i + count - 1 or special[j] or offsets[j][0] != end or \
                    texts[j][:1].isspace() or \
                    run.encoding.segments[j] != run.encoding.segments[i]:
                break
            text, end = text + texts[j], offsets[j][1]
            pieces[_folded(text)] = count
        if pieces:
            found[row] = pieces
    return found


def _folded(text: str) -> str:
    """``text`` as an uncased tokenizer compares it: no case, no accents, no outer spaces."""
    text = text.strip().casefold()
    if text.isascii():  # most tokens: nothing to decompose (a tenth of the time, per label)
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
