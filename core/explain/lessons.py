"""The classic worked examples of attention (the Lessons menu) as data, and each one as the
settings that show it.

Each `Lesson` carries its inputs and the numbers its worked example publishes (``expected``, typed
in from the example, never computed by this code), so the tests can check that the pipeline
reproduces them and the window can replay them step by step (``lesson_settings``). The lessons
on a trained model (``source="model"``: the bundled all-MiniLM-L6-v2) type theirs from the
reference that torch and transformers made (tests/data/transformer), to float32's tolerance.

Shapes: n keys (tokens), d input width, d_k query/key width, d_v value width, r query rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.model_settings import ModelSettings
from core.settings import DEFAULT_SENTENCE, Settings, ToySpec

__all__ = ["DRINK_PLANE", "LESSONS", "MODEL_TOLERANCE", "SENTENCE_LESSONS", "Lesson", "lesson",
           "lesson_settings", "lesson_toy"]

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
    #: name -> published numbers, checked to ``expected_tolerance`` in the one head at the
    #: query row (every row when ``query`` is None). Names: inputs (X), query or queries
    #: (projected), keys, values, scores, logits, weights, output (the head's weighted sum of
    #: the values, before any W_O); for a trained model also animal_weight_by_head:
    #: (layer, head) counted from 1 -> the query's weight on "animal" there
    expected: Mapping[str, Any] = field(default_factory=dict)
    #: name -> published numbers rounded in the text, checked to half a unit of the last digit
    rounded: Mapping[str, Any] = field(default_factory=dict)
    rounded_tolerance: float = 5e-5
    settings: Settings | None = None
    #: how closely ``expected`` is checked: 1e-9 (float64 arithmetic), or a trained model's
    #: float32 against the float32 reference made by torch (`MODEL_TOLERANCE`)
    expected_tolerance: float = 1e-9

    @property
    def uses_model(self) -> bool:
        """True when the lesson runs on a trained transformer (the bundled all-MiniLM-L6-v2)."""
        return self.settings is not None and self.settings.source == "model"

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
MODEL_TOLERANCE = 2e-5
"""How closely a trained model's float32 numbers match the float32 reference made by torch."""
MINILM_HEADS = 12  # all-MiniLM-L6-v2: 6 layers of 12 heads

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
            "of the three value vectors, [1.9366, 6.6831, 1.5951] (“head output” in the "
            "steps). The example has no W_O and its values have 3 numbers where the inputs "
            "have 4, so to draw the output on the map beside the inputs the explorer maps it "
            "back with W_O = pinv(W_V): the final output it shows, [0.812, 1.218, 0.5317, "
            "1.405], is that same result in the inputs' 4 dimensions."),
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
            "and “cat”; the two “the” get equal weight. The output is [0.6536, 0.5797]. "
            "The article rounds it to [0.7, 0.5], which these vectors do not give: to one "
            "decimal they give [0.7, 0.6] (the same weights on the vectors rounded to whole "
            "numbers give [0.72, 0.54], close to the article's)."),
        tokens=_CAT_TOKENS, inputs=tuple(_CAT[t] for t in _CAT_TOKENS), query=2,
        query_label="sat", scoring="scaled_dot",
        expected={"query": (1.0, 1.0), "scores": (0.3, 1.2, 2.0, 0.1, 0.3, 1.4),
                  "logits": tuple(s / math.sqrt(2) for s in (0.3, 1.2, 2.0, 0.1, 0.3, 1.4))},
        rounded={"output": (0.6536, 0.5797)},
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
    Lesson(
        id="drink_water_model", title="“I drink water” by a trained model's sentence embeddings",
        explanation=(
            "The same query and sentences, now as the trained all-MiniLM-L6-v2 sees them: each "
            "sentence goes through its six layers and becomes the mean of its last hidden "
            "states, scaled to unit length (what sentence-transformers computes). Nobody drew "
            "a plane by hand: by cosine the model ranks “I drink water” (0.823) first, then "
            "“I drink a white-wine mix” (0.458), “I drink red-wine” (0.453), “I eat salmon” "
            "(0.375) and “I eat steak” (0.227). Every short “I …” sentence is somewhat alike "
            "here, where the plane scored “I eat salmon” −1; softmax at temperature 1 turns "
            "these close scores into weights from 0.15 to 0.28 (lower the temperature to "
            "sharpen them)."),
        tokens=_DRINK_SENTENCES, query_label=_DRINK_QUERY, scoring="cosine",
        # Cosines of the query with the five sentences, from torch + sentence-transformers'
        # pooling (tests/data/transformer/minilm_reference.npz, sentence_cosine_f32 row 0).
        expected={"scores": (0.37484014, 0.22717646, 0.45265040, 0.82258493, 0.45789182)},
        expected_tolerance=MODEL_TOLERANCE,
        settings=Settings(source="model", mode="sentences", context_sentences=_DRINK_SENTENCES,
                          query_sentence=_DRINK_QUERY, query_index=None, scoring="cosine",
                          normalization="softmax", temperature=1.0, head_strategy="identity",
                          n_heads=MINILM_HEADS, selected_head=None, model=ModelSettings()),
    ),
    Lesson(
        id="animal_it_model", title="What does “it” attend to in a trained model?",
        explanation=(
            "“The animal was not swimming in the sea because it was running on the street.” "
            "through the trained all-MiniLM-L6-v2, with “it” as the query. Step through the "
            "layers (the model view shows all 6 × 12 heads at once). In layers 1 to 3 no head "
            "gives “animal” more than about 0.2 of the weight of “it”: most park theirs on "
            "[CLS], some look at the verbs around it. Then single heads resolve the pronoun: "
            "layer 4 head 2 puts 0.63 on “animal”, layer 5 head 12 0.50, and layer 6 head 12 "
            "(shown) 0.68, while “sea” and “street” get 0.06 at most. Averaged over a "
            "layer's 12 heads the weight on “animal” grows from 0.02–0.05 in layers 1–3 to "
            "0.10–0.13 in layers 4–6. Compare the lesson on GloVe: heads made from word-pair "
            "directions find similarity along their own direction, and none of them reads "
            "“it”; here no one built a head for the pronoun either, training made some."),
        scoring="scaled_dot",
        # Weight of "it" on "animal" in (layer, head), counted from 1 as on screen; from
        # torch (tests/data/transformer/reference_cases.json, models.minilm.it_animal, f32).
        expected={"animal_weight_by_head": {(6, 12): 0.67792225, (4, 2): 0.63393384,
                                            (5, 12): 0.50249743}},
        expected_tolerance=MODEL_TOLERANCE,
        settings=Settings(source="model", mode="words", sentence=DEFAULT_SENTENCE, query="it",
                          query_index=None, n_heads=MINILM_HEADS, selected_head=11,
                          scoring="scaled_dot", normalization="softmax", temperature=1.0,
                          model=ModelSettings(layer=5)),
    ),
)
"""Every built-in lesson, in teaching order (the trained-model ones after the rest)."""


def lesson(lesson_id: str) -> Lesson:
    """The lesson with this id."""
    for item in LESSONS:
        if item.id == lesson_id:
            return item
    raise KeyError(f"no lesson {lesson_id!r}; lessons are {', '.join(x.id for x in LESSONS)}")


# ----------------------------------------------------------------------------- lesson -> settings


SENTENCE_LESSONS: dict[str, dict[str, tuple[float, float]]] = {
    "drink_water_cosine": DRINK_PLANE, "drink_water_dot": DRINK_PLANE}
"""Lessons that run in sentence mode, with the word table their sentences are made of."""


def _rows(m: Any) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in m)


def _value_projection(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A W_V with X @ W_V = values: c·I when the values are c·X, else least squares."""
    c = float(np.sum(x * values) / np.sum(x * x))
    if np.allclose(c * x, values, rtol=0, atol=1e-12):
        return c * np.eye(x.shape[1])
    return np.linalg.lstsq(x, values, rcond=None)[0]


def lesson_toy(item: Lesson) -> ToySpec:
    """A toy lesson's table: its inputs and W matrices (the identity where it has none)."""
    if item.id in SENTENCE_LESSONS:
        plane = SENTENCE_LESSONS[item.id]
        plain = _rows(np.eye(2))
        return ToySpec(tuple(plane), _rows(plane.values()), plain, plain, plain)
    assert item.inputs is not None, f"lesson {item.id!r} is not a toy lesson"
    x = np.asarray(item.inputs, np.float64)
    eye = np.eye(x.shape[1])
    w_q = eye if item.w_q is None else np.asarray(item.w_q, np.float64)
    w_k = eye if item.w_k is None else np.asarray(item.w_k, np.float64)
    w_v = eye if item.w_v is None else np.asarray(item.w_v, np.float64)
    if item.values is not None:
        w_v = _value_projection(x, np.asarray(item.values, np.float64))
    query, label = None, "query"
    if item.query is not None and not isinstance(item.query, int):
        query, label = tuple(float(v) for v in item.query), item.query_label or "query"
    return ToySpec(item.tokens, _rows(x), _rows(w_q), _rows(w_k), _rows(w_v),
                   None if item.w_o is None else _rows(item.w_o), query, label)


def lesson_settings(item: Lesson | str, base: Settings | None = None) -> Settings:
    """The settings that put a lesson's numbers on screen (keeping ``base``'s vector file)."""
    item = lesson(item) if isinstance(item, str) else item
    base = base if base is not None else Settings()
    keep = {"vectors_path": base.vectors_path, "vectors_format": base.vectors_format,
            "toy": base.toy}
    if item.settings is not None:
        return item.settings.updated(**keep)
    spec = lesson_toy(item)
    common = dict(keep, toy=spec, scoring=item.scoring, normalization=item.normalization,
                  temperature=item.temperature, n_heads=1, d_k=None, selected_head=None)
    if item.id in SENTENCE_LESSONS:
        return Settings(**common, mode="sentences", sentences_use_toy=True,  # type: ignore[arg-type]
                        context_sentences=tuple(item.tokens), query_sentence=item.query_label)
    if isinstance(item.query, int) or item.query is None:
        index = item.query or 0  # self-attention lessons show the first token's row
        return Settings(**common, mode="toy", query=item.tokens[index],  # type: ignore[arg-type]
                        query_index=index)
    return Settings(**common, mode="toy", query=spec.query_label)  # type: ignore[arg-type]
