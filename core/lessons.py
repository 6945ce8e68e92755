"""The worked examples of DESIGN.md as data, and sentence mode (a sentence = mean of its words).

Each `Lesson` carries its inputs and the numbers its worked example publishes (``expected``, typed
in from the example, never computed by this code), so the tests can check that the core
reproduces them and the window can replay them step by step.

Shapes: n keys (tokens), d input width, d_k query/key width, d_v value width, r query rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.attention import AttentionResult, MultiHeadResult, attend, multi_head_attention
from core.heads import HeadProjections
from core.settings import DEFAULT_SENTENCE, Settings
from core.tokens import embed_sentence

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

__all__ = ["DRINK_PLANE", "LESSONS", "Lesson", "LessonRun", "SentenceVectors", "lesson",
           "lesson_numbers", "prepare_lesson", "run_lesson", "sentence_attention",
           "sentence_vectors"]

Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True, eq=False)
class Lesson:
    """One worked example.

    Without ``settings`` the lesson is a toy: ``inputs`` X (n, d) are the tokens' vectors,
    ``w_q``/``w_k``/``w_v`` (d, d_k/d_v) project them (None = raw vectors: keys = X and values
    = ``values`` or X), ``query`` is a row of X, an explicit query vector, or None for every
    row (self-attention). With ``settings`` the lesson runs on real word vectors.
    """

    id: str
    title: str
    explanation: str  #: a short plain-text paragraph
    tokens: tuple[str, ...] = ()  #: (n,) key labels
    inputs: Matrix | None = None  #: X (n, d)
    w_q: Matrix | None = None  #: (d, d_k)
    w_k: Matrix | None = None  #: (d, d_k)
    w_v: Matrix | None = None  #: (d, d_v)
    w_o: Matrix | None = None  #: (d_v, d_out)
    values: Matrix | None = None  #: (n, d_v) raw values when they differ from the keys
    query: int | tuple[float, ...] | None = None
    query_label: str = ""
    scoring: str = "dot"
    normalization: str = "softmax"
    temperature: float = 1.0
    #: name -> published numbers, checked to 1e-9 (see `lesson_numbers` for the names)
    expected: Mapping[str, Any] = field(default_factory=dict)
    #: name -> published numbers rounded in the text, checked to half a unit of the last digit
    rounded: Mapping[str, Any] = field(default_factory=dict)
    rounded_tolerance: float = 5e-5
    settings: Settings | None = None

    @property
    def uses_word_vectors(self) -> bool:
        return self.settings is not None


# ----------------------------------------------------------------------------- the data

_X3 = ((1, 0, 1, 0), (0, 2, 0, 2), (1, 1, 1, 1))
_W_KEY = ((0, 0, 1), (1, 1, 0), (0, 1, 0), (1, 1, 0))
_W_QUERY = ((1, 0, 1), (1, 0, 0), (0, 0, 1), (0, 1, 1))
_W_VALUE = ((0, 2, 0), (0, 3, 0), (1, 0, 3), (1, 1, 0))
_KEYS3 = ((0, 1, 1), (4, 4, 0), (2, 3, 1))
_VALUES3 = ((1, 2, 3), (2, 8, 0), (2, 6, 3))

_CAT = {"the": (0.1, 0.2), "cat": (0.9, 0.3), "sat": (1.0, 1.0), "on": (0.2, -0.1),
        "mat": (0.6, 0.8)}
_CAT_TOKENS = ("the", "cat", "sat", "on", "the", "mat")

DRINK_PLANE: dict[str, tuple[float, float]] = {
    # x: eat (-1) .. drink (+1); y: food (-1) .. drinks (+1). Words about neither sit at 0, 0.
    "i": (0.0, 0.0), "a": (0.0, 0.0), "with": (0.0, 0.0), "fine": (0.0, 0.0),
    "eat": (-1.0, 0.0), "drink": (1.0, 0.0),
    "salmon": (-0.2, -1.0), "steak": (-0.4, -1.0),
    "red-wine": (0.6, 1.0), "water": (0.2, 1.0), "white-wine": (0.6, 0.9), "mix": (0.2, 0.3),
}
"""2D coordinates of the "I drink water" words in the eat/drink × food/drinks plane."""

_DRINK_SENTENCES = ("I eat salmon", "I eat steak", "I drink red-wine", "I drink water",
                    "I drink a white-wine mix")
_DRINK_QUERY = "I drink water with fine"


def _plane_mean(sentence: str) -> tuple[float, ...]:
    """A sentence's vector in the plane: the mean of its words' coordinates."""
    words = [DRINK_PLANE[w.lower()] for w in sentence.split()]
    return tuple(sum(c) / len(words) for c in zip(*words, strict=True))


# Typed in from the worked example: sums of the word coordinates over the word count.
_DRINK_MEANS = ((-1.2 / 3, -1 / 3), (-1.4 / 3, -1 / 3), (1.6 / 3, 1 / 3), (1.2 / 3, 1 / 3),
                (1.8 / 5, 1.2 / 5))
_DRINK_QUERY_MEAN = (1.2 / 5, 1 / 5)
_DRINK_COMMON = dict(
    tokens=_DRINK_SENTENCES, inputs=tuple(_plane_mean(s) for s in _DRINK_SENTENCES),
    query=_plane_mean(_DRINK_QUERY), query_label=_DRINK_QUERY,
)

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        id="three_inputs", title="Dot-product self-attention, three inputs",
        explanation=(
            "Three 4-dimensional inputs are multiplied by 4×3 weight matrices to give each "
            "token a query, a key and a value. The first query [1, 0, 2] is compared with the "
            "three keys by plain (unscaled) dot products: [2, 4, 4]. Softmax turns the scores "
            "into weights (about 0.06, 0.47, 0.47) and the first output is the weighted sum "
            "of the three value vectors."),
        tokens=("x1", "x2", "x3"), inputs=_X3, w_q=_W_QUERY, w_k=_W_KEY, w_v=_W_VALUE,
        query=0, query_label="x1", scoring="dot",
        expected={"query": (1, 0, 2), "keys": _KEYS3, "values": _VALUES3, "scores": (2, 4, 4)},
        rounded={"weights": (0.0634, 0.4683, 0.4683), "output": (1.9366, 6.6831, 1.5951)},
    ),
    Lesson(
        id="cat_sat_mat", title="“The cat sat on the mat” in two dimensions",
        explanation=(
            "Every word has a 2-dimensional vector; the query is “sat” = [1, 1]. Its dot "
            "product with each word is divided by √d_k = √2 so that longer vectors do not "
            "make softmax too sharp, softmax gives the weights, and the output is the "
            "weighted sum of the word vectors. “sat” attends most to itself, then to “mat” "
            "and “cat”; the two “the” get equal weight."),
        tokens=_CAT_TOKENS, inputs=tuple(_CAT[t] for t in _CAT_TOKENS), query=2,
        query_label="sat", scoring="scaled_dot",
        expected={"query": (1.0, 1.0), "scores": (0.3, 1.2, 2.0, 0.1, 0.3, 1.4),
                  "logits": tuple(s / math.sqrt(2) for s in (0.3, 1.2, 2.0, 0.1, 0.3, 1.4))},
    ),
    Lesson(
        id="attention_function", title="attention(query, keys, values)",
        explanation=(
            "The attention function on its own: the query [1, 0, 1] is dotted with each key "
            "(no scaling) giving [4, 10, 16]; softmax of those scores weights the values "
            "[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]. The last key wins almost "
            "everything (about 0.9975), so the output is close to the last value."),
        tokens=("k1", "k2", "k3"), inputs=((1, 2, 3), (4, 5, 6), (7, 8, 9)),
        values=((0.1, 0.2, 0.3), (0.4, 0.5, 0.6), (0.7, 0.8, 0.9)), query=(1, 0, 1),
        query_label="q", scoring="dot", expected={"scores": (4, 10, 16)},
        rounded={"weights": (0.0000061, 0.0024726, 0.9975213)}, rounded_tolerance=5e-8,
    ),
    Lesson(
        id="cosine_two_vectors", title="Cosine similarity of [2, 3] and [4, 1]",
        explanation=(
            "Cosine similarity compares directions and ignores lengths: "
            "[2, 3]·[4, 1] / (|[2, 3]|·|[4, 1]|) = 11 / √(13·17) ≈ 0.7399. With a single key "
            "all the weight goes to it whatever the score."),
        tokens=("[4, 1]",), inputs=((4, 1),), query=(2, 3), query_label="[2, 3]",
        scoring="cosine",
        expected={"scores": (11 / math.sqrt(13 * 17),), "weights": (1.0,)},
        rounded={"scores": (0.7399,)},
    ),
    Lesson(
        id="drink_water_cosine", title="“I drink water”: sentence attention by cosine",
        explanation=(
            "Each word has a position in a plane: x runs from eat to drink, y from food to "
            "drinks. A sentence is the mean of its words. The query “I drink water with fine” "
            "points exactly along “I drink water” (with and fine sit at the origin), so cosine "
            "scores it 1, and “I eat salmon” points the opposite way (-1)."),
        scoring="cosine",
        expected={"inputs": _DRINK_MEANS, "query": _DRINK_QUERY_MEAN, "scores": (
            -1.0, -2.68 / math.sqrt(2.44 * 2.96), 2.92 / math.sqrt(2.44 * 3.56), 1.0,
            3.36 / math.sqrt(2.44 * 4.68))},
        **_DRINK_COMMON,  # type: ignore[arg-type]
    ),
    Lesson(
        id="drink_water_dot", title="“I drink water”: sentence attention by dot product",
        explanation=(
            "The same sentences scored by the dot product: now length counts too. "
            "“I drink red-wine” lies further out along the drink direction than “I drink "
            "water”, so it gets the highest score although cosine finds the water sentence "
            "pointing exactly the query's way."),
        scoring="dot",
        expected={"inputs": _DRINK_MEANS, "query": _DRINK_QUERY_MEAN,
                  "scores": (-2.44 / 15, -2.68 / 15, 2.92 / 15, 2.44 / 15, 3.36 / 25)},
        **_DRINK_COMMON,  # type: ignore[arg-type]
    ),
    Lesson(
        id="animal_it", title="What does “it” attend to, head by head?",
        explanation=(
            "“The animal was not swimming in the sea because it was running on the street.” "
            "On real word vectors, each head is built around one direction (drink − eat, "
            "wine − food, animal − street, sea − land): compare which words “it” looks at in "
            "each head. Static vectors know no grammar, so no head has to resolve “it”; what "
            "each one finds is similarity along its own direction."),
        settings=Settings(sentence=DEFAULT_SENTENCE, query="it", n_heads=4,
                          head_strategy="axes"),
    ),
    Lesson(
        id="matrix_view", title="The matrix view: I → Q, K, V → A, A′ → O",
        explanation=(
            "The three-input example as matrices, tokens as columns: the inputs I (4×3) "
            "become Q, K (3×3) and V (3×3); A = Kᵀ Q holds every score at once (the first "
            "column is [2, 4, 4]), A′ normalises each column with softmax, and O = V A′ "
            "holds every output."),
        tokens=("x1", "x2", "x3"), inputs=_X3, w_q=_W_QUERY, w_k=_W_KEY, w_v=_W_VALUE,
        query=None, query_label="x1", scoring="dot",
        expected={"queries": ((1, 0, 2), (2, 2, 2), (2, 1, 3)), "keys": _KEYS3,
                  "values": _VALUES3, "scores": ((2, 4, 4), (4, 16, 12), (4, 12, 10))},
    ),
)
"""Every built-in lesson, in teaching order."""


def lesson(lesson_id: str) -> Lesson:
    """The lesson with this id."""
    for item in LESSONS:
        if item.id == lesson_id:
            return item
    raise KeyError(f"no lesson {lesson_id!r}; lessons are {', '.join(x.id for x in LESSONS)}")


# ----------------------------------------------------------------------------- running


def _array(m: Matrix | Sequence[float] | None) -> np.ndarray | None:
    return None if m is None else np.asarray(m, dtype=np.float64)


def _query_inputs(item: Lesson, x: np.ndarray, *, keep_2d: bool) -> np.ndarray:
    """The query-side inputs: row ``query`` of X, the explicit vector, or every row."""
    if item.query is None:
        return x  # (n, d): self-attention, every token asks
    q = x[item.query] if isinstance(item.query, int) else np.asarray(item.query, np.float64)
    return q[None, :] if keep_2d else q  # (1, d) or (d,)


def _run(item: Lesson, kv: KeyedVectors | None, keep_2d: bool) -> Any:
    if item.settings is not None:
        if kv is None:
            raise ValueError(f"lesson {item.id!r} runs on word vectors: pass `kv`")
        from core.pipeline import Pipeline  # the pipeline pulls in embeddings and projections

        return Pipeline(kv).run(item.settings)
    x = _array(item.inputs)
    assert x is not None, f"lesson {item.id!r} has neither inputs nor settings"
    x_q = _query_inputs(item, x, keep_2d=keep_2d)
    scoring, normalization, temperature = item.scoring, item.normalization, item.temperature
    if item.w_q is None:
        values = x if item.values is None else _array(item.values)
        return attend(x_q, x, values, scoring=scoring,  # type: ignore[arg-type]
                      normalization=normalization, temperature=temperature)
    w_q, w_k, w_v = (np.asarray(_array(w)) for w in (item.w_q, item.w_k, item.w_v))
    return multi_head_attention(x_q, x, w_q, w_k, w_v, _array(item.w_o), 1, scoring=scoring,
                                normalization=normalization, temperature=temperature)


def run_lesson(item: Lesson, kv: KeyedVectors | None = None) -> AttentionResult | MultiHeadResult:
    """Run a lesson with the core: `attend` for raw vectors, else `multi_head_attention`.

    A lesson with one query gives 1-D results (scores (n,) or (1, n) for one head), exactly the
    shapes of its worked example. Word-vector lessons need ``kv`` and return the pipeline's
    `MultiHeadResult`.
    """
    result = _run(item, kv, keep_2d=False)
    return result if item.settings is None else result.result


def lesson_numbers(item: Lesson, result: AttentionResult | MultiHeadResult) -> dict[str, Any]:
    """The quantities a lesson's ``expected`` may name, from a `run_lesson` result.

    Names: inputs, query, queries, keys, values, scores, logits, weights, output. The single
    head of a toy lesson is dropped (``scores`` of lesson "three_inputs" is (3,), not (1, 3)).
    """
    x = _array(item.inputs)
    numbers: dict[str, Any] = {"inputs": x, "output": result.output}
    if isinstance(result, MultiHeadResult):
        for name in ("queries", "keys", "values", "scores", "logits", "weights"):
            numbers[name] = getattr(result, name)[0]  # head 0 of 1
    else:
        keys = x
        values = keys if item.values is None else _array(item.values)
        numbers.update(keys=keys, values=values, scores=result.scores, logits=result.logits,
                       weights=result.weights)
        numbers["queries"] = _query_inputs(item, x, keep_2d=False) if x is not None else None
    numbers["query"] = numbers["queries"]
    return numbers


@dataclass(frozen=True, eq=False)
class LessonRun:
    """A lesson ready for the views: always a `MultiHeadResult` with a query axis."""

    lesson: Lesson
    result: MultiHeadResult  #: weights (h, r, n)
    heads: HeadProjections | None  #: None when there is no W_O (output = the heads' concat)
    x_q: np.ndarray  #: (r, d)
    x_kv: np.ndarray  #: (n, d)
    row_labels: tuple[str, ...]  #: (r,)
    col_labels: tuple[str, ...]  #: (n,)
    row: int  #: the query row to show
    scoring: str
    normalization: str


def _one_head(att: AttentionResult, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> MultiHeadResult:
    """Package a raw-vector `attend` result as one head (no maths: a head axis is added)."""
    def head(a: np.ndarray) -> np.ndarray:
        return np.asarray(a)[None]  # (...) -> (1, ...)

    return MultiHeadResult(
        output=att.output, weights=head(att.weights), scores=head(att.scores),
        logits=head(att.logits), queries=head(q), keys=head(k), values=head(v),
        head_outputs=head(att.output), concat=att.output, empty_rows=head(att.empty_rows),
        scale=att.scale, temperature=att.temperature)


def prepare_lesson(item: Lesson, kv: KeyedVectors | None = None) -> LessonRun:
    """Run a lesson for the computation, matrix and statistics views."""
    if item.settings is not None:
        a = _run(item, kv, keep_2d=True)
        x_q = np.vstack([a.sentence.vectors, a.query.vector[None]]) \
            if a.query.position is None else a.sentence.vectors
        return LessonRun(item, a.result, a.heads, x_q, a.sentence.vectors,
                         tuple(a.row_labels), tuple(a.col_labels), a.query_row,
                         item.settings.scoring, item.settings.normalization)
    result = _run(item, kv, keep_2d=True)
    x = np.asarray(_array(item.inputs))
    x_q = _query_inputs(item, x, keep_2d=True)  # (r, d)
    if isinstance(result, AttentionResult):
        values = x if item.values is None else np.asarray(_array(item.values))
        result = _one_head(result, x_q, x, values)
    # One query gives one row; self-attention shows the first token's row first.
    row_labels = (item.query_label,) if item.query is not None else item.tokens
    return LessonRun(item, result, None, x_q, x, tuple(row_labels), item.tokens, 0,
                     item.scoring, item.normalization)


# ----------------------------------------------------------------------------- sentence mode


@dataclass(frozen=True)
class SentenceVectors:
    """Sentences as vectors: each the mean of the vectors of its known words."""

    labels: tuple[str, ...]  #: (m,) the sentences that got a vector
    vectors: np.ndarray  #: (m, d)
    warnings: tuple[str, ...]


def sentence_vectors(
    sentences: Sequence[str], kv: KeyedVectors, oov_policy: str = "skip"
) -> SentenceVectors:
    """Each sentence → the mean of its word vectors (`core.tokens.embed_sentence`).

    A sentence with no known word has no vector: it is left out with a warning.
    """
    labels: list[str] = []
    rows: list[np.ndarray] = []
    warnings: list[str] = []
    for sentence in sentences:
        embedded = embed_sentence(sentence, kv, oov_policy)
        warnings += [f"{sentence!r}: {w}" for w in embedded.warnings]
        if len(embedded.vectors) == 0:
            warnings.append(f"{sentence!r} has no word these vectors know; left out")
            continue
        labels.append(sentence)
        rows.append(embedded.vectors.mean(axis=0))  # (n_words, d) -> (d,)
    d = int(kv.vector_size)
    matrix = np.array(rows, dtype=kv.vectors.dtype).reshape(-1, d)  # (m, d)
    return SentenceVectors(tuple(labels), matrix, tuple(warnings))


def sentence_attention(
    query_sentence: str, context_sentences: Sequence[str], kv: KeyedVectors,
    scoring: str = "cosine", normalization: str = "softmax", temperature: float = 1.0,
    oov_policy: str = "skip",
) -> AttentionResult:
    """SENTENCE MODE: the query sentence's mean vector attends over the context sentences'.

    Keys and values are the context sentence vectors (in the order of
    ``sentence_vectors(context_sentences, ...).labels``).

    Raises
    ------
    ValueError
        When the query sentence or every context sentence has no known word.
    """
    query = sentence_vectors([query_sentence], kv, oov_policy)
    context = sentence_vectors(context_sentences, kv, oov_policy)
    if len(query.vectors) == 0:
        raise ValueError(f"the query sentence {query_sentence!r} has no word these vectors know")
    if len(context.vectors) == 0:
        raise ValueError("no context sentence has a word these vectors know")
    return attend(query.vectors[0], context.vectors, context.vectors, scoring=scoring,
                  normalization=normalization, temperature=temperature)
