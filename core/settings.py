"""Everything a person can set, as one frozen dataclass with a versioned JSON round trip.

The window's state, saved sessions and the command line all speak this one type, so a setting is
declared exactly once: here, with its default and a one-line description.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any

from core.bounded_json import JsonLimitError, parse_json
from core.maths.attention import NORMALIZATIONS, SCORINGS
from core.maths.heads import HEAD_STRATEGIES
from core.model_settings import ModelSettings, ModelSettingsError
from core.toy import ToyInputError, ToyInputs, make_toy

SETTINGS_VERSION = 1

DEFAULT_SENTENCE = "The animal was not swimming in the sea because it was running on the street."

OOV_POLICIES = ("skip", "zero", "subword", "error")
PROJECTIONS = ("pca_view", "pca_vocab", "axes")
TEMPERATURE_RANGE = (0.01, 100.0)
MAX_HEADS = 64
SOURCES = ("vectors", "model")
"""vectors: static word vectors (GloVe or a file) with made-up heads; model: a trained
transformer's own layers and heads (the bundled all-MiniLM-L6-v2 or a checkpoint folder)."""
MODES = ("words", "sentences", "toy")
"""words: the sentence's words attend; sentences: a query sentence attends over context
sentences (each the mean of its word vectors); toy: a hand-typed table of tokens and vectors."""
DEFAULT_CONTEXT_SENTENCES = ("I eat salmon", "I eat steak", "I drink red-wine", "I drink water",
                             "I drink a white-wine mix")
DEFAULT_QUERY_SENTENCE = "I drink water with fine"

Rows = tuple[tuple[float, ...], ...]


def heads_limit(d_model: int) -> int:
    """The most heads vectors of width ``d_model`` take: each head needs one dimension at least
    (the window's heads box and the command line both hold to it)."""
    return min(MAX_HEADS, d_model)


class SettingsError(ValueError):
    """A settings value or a settings file that cannot be used; the message says which and why."""


def _describe(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class ToySpec:
    """Toy inputs as plain values (JSON-ready, hashable): the toy table a session saves.

    ``query`` is an optional query vector that is not one of the tokens (shown as an extra row,
    like an outside query word); ``query_label`` names it.
    """

    tokens: tuple[str, ...]  #: (n,)
    x: Rows  #: X (n, d)
    w_q: Rows  #: (d, h*d_k)
    w_k: Rows  #: (d, h*d_k)
    w_v: Rows  #: (d, h*d_v)
    w_o: Rows | None = None  #: (h*d_v, d_out) or None
    query: tuple[float, ...] | None = None  #: (d,) an outside query vector
    query_label: str = "query"

    def inputs(self) -> ToyInputs:
        """The validated arrays (raises `core.toy.ToyInputError`)."""
        return make_toy(self.tokens, self.x, self.w_q, self.w_k, self.w_v, self.w_o)

    @classmethod
    def from_inputs(cls, toy: ToyInputs, query: tuple[float, ...] | None = None,
                    query_label: str = "query") -> ToySpec:
        """Plain values of validated toy arrays, with an optional outside query vector."""
        def rows(a: Any) -> Rows:
            return tuple(tuple(float(v) for v in row) for row in a)

        return cls(toy.tokens, rows(toy.x), rows(toy.w_q), rows(toy.w_k), rows(toy.w_v),
                   None if toy.w_o is None else rows(toy.w_o), query, query_label)

    @classmethod
    def from_dict(cls, data: Any) -> ToySpec:
        """Read the dict :meth:`Settings.to_dict` wrote (lists for tuples)."""
        if not isinstance(data, dict):
            raise SettingsError("toy must be an object with tokens, x, w_q, w_k, w_v")
        try:
            def rows(value: Any) -> Rows:
                return tuple(tuple(row) for row in value)

            return cls(tokens=tuple(data["tokens"]), x=rows(data["x"]), w_q=rows(data["w_q"]),
                       w_k=rows(data["w_k"]), w_v=rows(data["w_v"]),
                       w_o=None if data.get("w_o") is None else rows(data["w_o"]),
                       query=None if data.get("query") is None else tuple(data["query"]),
                       query_label=str(data.get("query_label", "query")))
        except (KeyError, TypeError) as error:
            raise SettingsError(f"toy table is incomplete or malformed: {error}") from None


@dataclass(frozen=True)
class Settings:
    """One snapshot of every user setting. Change it with ``dataclasses.replace`` or ``updated``."""

    vectors_path: str | None = field(
        default=None, metadata=_describe("Word-vector file; None means the bundled GloVe 6B 50d.")
    )
    vectors_format: str = field(
        default="auto", metadata=_describe("Format of the vector file, or 'auto' to detect it.")
    )
    sentence: str = field(
        default=DEFAULT_SENTENCE, metadata=_describe("The context sentence the query attends over.")
    )
    query: str = field(
        default="it", metadata=_describe("The query word (a sentence token or any word).")
    )
    query_index: int | None = field(
        default=None,
        metadata=_describe(
            "Which occurrence in the sentence is the query; None = first, or outside."
        ),
    )
    n_heads: int = field(default=4, metadata=_describe("Number of attention heads."))
    d_k: int | None = field(
        default=None, metadata=_describe("Width of each head; None = d_model // n_heads.")
    )
    head_strategy: str = field(
        default="random", metadata=_describe("How the per-head projection matrices are made.")
    )
    seed: int = field(default=0, metadata=_describe("Seed of the random head projections."))
    head_axes: tuple[tuple[str, str], ...] = field(
        default=(("drink", "eat"), ("wine", "food"), ("animal", "street"), ("sea", "land")),
        metadata=_describe("Word pairs (a, b): head i is built around the direction a - b."),
    )
    heads_file: str | None = field(
        default=None, metadata=_describe(".npz with w_q, w_k, w_v, w_o for the 'file' strategy.")
    )
    scoring: str = field(
        default="scaled_dot", metadata=_describe("How a query and a key are compared.")
    )
    normalization: str = field(
        default="softmax", metadata=_describe("How scores become weights that sum to one.")
    )
    # 0.25, not 1: static vectors through random 12-wide heads give nearly uniform weights at
    # T = 1 (max 0.10-0.14 over 16 tokens), which reads as "nothing here" on the fixed 0..1 colour
    # scale; at 0.25 the default sentence shows clear per-head preferences (e.g. it -> animal).
    temperature: float = field(
        default=0.25, metadata=_describe("Logits are divided by this before normalisation.")
    )
    causal: bool = field(
        default=False, metadata=_describe("Tokens may attend only to earlier ones.")
    )
    exclude_self: bool = field(
        default=False, metadata=_describe("A token may not attend to itself.")
    )
    oov_policy: str = field(
        default="skip", metadata=_describe("What to do with words the vectors do not know.")
    )
    projection: str = field(
        default="pca_vocab", metadata=_describe("How the latent map is projected to 2D.")
    )
    projection_axes: tuple[str, str, str, str] = field(
        default=("drink", "eat", "wine", "food"),
        metadata=_describe("Word axes (x = a - b, y = c - d) for the 'axes' projection."),
    )
    show_neighbours: bool = field(
        default=True, metadata=_describe("Show the nearest vocabulary words on the latent map.")
    )
    selected_head: int | None = field(
        default=None, metadata=_describe("The focused head; None = the mean of all heads.")
    )
    mode: str = field(
        default="words",
        metadata=_describe("What attends: sentence words, whole sentences, or a toy table."),
    )
    query_sentence: str = field(
        default=DEFAULT_QUERY_SENTENCE,
        metadata=_describe("Sentence mode: the sentence that attends over the context ones."),
    )
    context_sentences: tuple[str, ...] = field(
        default=DEFAULT_CONTEXT_SENTENCES,
        metadata=_describe("Sentence mode: the sentences attended over (mean word vectors)."),
    )
    sentences_use_toy: bool = field(
        default=False,
        metadata=_describe("Sentence mode: take word vectors and W matrices from the toy table."),
    )
    toy: ToySpec | None = field(
        default=None,
        metadata=_describe("Toy table: tokens, small vectors and W_Q, W_K, W_V, W_O by hand."),
    )
    source: str = field(
        default="vectors",
        metadata=_describe("What attends: static word vectors, or a trained transformer."),
    )
    model: ModelSettings = field(
        default=ModelSettings(),
        metadata=_describe("The trained transformer: checkpoint, layer, what-if changes."),
    )

    def __post_init__(self) -> None:
        _validate(self)

    def updated(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied (validated)."""
        return dataclasses.replace(self, **changes)

    def changed_fields(self, other: Settings) -> set[str]:
        """Names of the fields whose values differ between ``self`` and ``other``."""
        return {f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict with a ``version`` key."""
        data = dataclasses.asdict(self)
        data["head_axes"] = [list(pair) for pair in self.head_axes]
        data["projection_axes"] = list(self.projection_axes)
        data["context_sentences"] = list(self.context_sentences)
        data["model"] = self.model.to_dict()
        return {"version": SETTINGS_VERSION, **data}

    def to_json(self) -> str:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a surrogate-escaped file name: \udcXX keeps it exact
            text = json.dumps(self.to_dict(), indent=2, ensure_ascii=True)
        return text

    @classmethod
    def from_dict(cls, data: Any) -> Settings:
        """Build settings from a dict written by :meth:`to_dict`; unknown keys are an error."""
        if not isinstance(data, dict):
            raise SettingsError(f"expected a JSON object of settings, got {type(data).__name__}")
        data = dict(data)
        version = data.pop("version", None)
        if not isinstance(version, int):
            raise SettingsError("settings have no integer 'version' field")
        if version > SETTINGS_VERSION:
            raise SettingsError(
                f"settings version {version} is newer than this program understands "
                f"(up to {SETTINGS_VERSION}); update Attention Explorer to open them"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"unknown settings field(s): {', '.join(unknown)}")
        if "head_axes" in data:
            data["head_axes"] = _pairs(data["head_axes"])
        if "projection_axes" in data:
            data["projection_axes"] = _words(data["projection_axes"], 4, "projection_axes")
        if isinstance(data.get("context_sentences"), list):
            data["context_sentences"] = tuple(data["context_sentences"])
        if data.get("toy") is not None:
            data["toy"] = ToySpec.from_dict(data["toy"])
        if "model" in data:
            try:
                data["model"] = ModelSettings.from_dict(data["model"])
            except (ModelSettingsError, TypeError) as error:
                raise SettingsError(str(error)) from None
        try:
            return cls(**data)
        except TypeError as error:  # a wrongly typed value caught by _validate's comparisons
            raise SettingsError(str(error)) from None

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """Settings from JSON text; every problem (bounds included) is a `SettingsError`."""
        try:
            data = parse_json(text)
        except JsonLimitError as error:
            raise SettingsError(str(error)) from None
        return cls.from_dict(data)


def field_docs() -> dict[str, str]:
    """Field name -> one-line description (used for tooltips and ``--help``)."""
    return {f.name: f.metadata.get("doc", "") for f in fields(Settings)}


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list | tuple):
        raise SettingsError("head_axes must be a list of [word, word] pairs")
    return tuple(_words(pair, 2, "head_axes") for pair in value)  # type: ignore[misc]


def _words(value: Any, count: int, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or len(value) != count:
        raise SettingsError(f"{name} must be a list of {count} words")
    if not all(isinstance(word, str) and word.strip() for word in value):
        raise SettingsError(f"{name} must contain non-empty words, got {value!r}")
    return tuple(value)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise SettingsError(f"{name} must be at least {low}{upper}, got {value}")


def _validate(s: Settings) -> None:
    _check_choice("scoring", s.scoring, SCORINGS)
    _check_choice("normalization", s.normalization, NORMALIZATIONS)
    _check_choice("head_strategy", s.head_strategy, HEAD_STRATEGIES)
    _check_choice("oov_policy", s.oov_policy, OOV_POLICIES)
    _check_choice("projection", s.projection, PROJECTIONS)
    _check_int("n_heads", s.n_heads, 1, MAX_HEADS)
    _check_int("seed", s.seed, 0)
    if s.d_k is not None:
        _check_int("d_k", s.d_k, 1)
    if s.query_index is not None:
        _check_int("query_index", s.query_index, 0)
    if s.selected_head is not None:
        _check_int("selected_head", s.selected_head, 0, s.n_heads - 1)
    low, high = TEMPERATURE_RANGE
    if isinstance(s.temperature, bool) or not isinstance(s.temperature, int | float):
        raise SettingsError(f"temperature must be a number, got {s.temperature!r}")
    if not math.isfinite(s.temperature) or not low <= s.temperature <= high:
        raise SettingsError(f"temperature must be between {low} and {high}, got {s.temperature}")
    _check_choice("mode", s.mode, MODES)
    _check_choice("source", s.source, SOURCES)
    if not isinstance(s.model, ModelSettings):
        raise SettingsError(f"model must be model settings, got {type(s.model).__name__}")
    _validate_modes(s)
    for name in ("causal", "exclude_self", "show_neighbours"):
        if not isinstance(getattr(s, name), bool):
            raise SettingsError(f"{name} must be true or false, got {getattr(s, name)!r}")
    for name in ("sentence", "query", "vectors_format"):
        if not isinstance(getattr(s, name), str):
            raise SettingsError(f"{name} must be text, got {getattr(s, name)!r}")
    for name in ("vectors_path", "heads_file"):
        if getattr(s, name) is not None and not isinstance(getattr(s, name), str):
            raise SettingsError(f"{name} must be a file path or null")


def _validate_modes(s: Settings) -> None:
    """The sentence-mode and toy fields (the toy table is checked by `core.toy.make_toy`)."""
    if not isinstance(s.query_sentence, str):
        raise SettingsError(f"query_sentence must be text, got {s.query_sentence!r}")
    if not isinstance(s.context_sentences, tuple) or not all(
            isinstance(t, str) for t in s.context_sentences):
        raise SettingsError("context_sentences must be a list of sentences (text)")
    if not isinstance(s.sentences_use_toy, bool):
        raise SettingsError(f"sentences_use_toy must be true or false, got {s.sentences_use_toy!r}")
    if s.toy is None:
        return
    if not isinstance(s.toy, ToySpec):
        raise SettingsError(f"toy must be a toy table or null, got {type(s.toy).__name__}")
    try:
        toy = s.toy.inputs()
    except ToyInputError as error:
        raise SettingsError(f"toy table: {error}") from None
    query = s.toy.query
    if query is not None and len(query) != toy.d:
        raise SettingsError(f"toy query vector has {len(query)} numbers; X has {toy.d} dimensions")
    if query is not None and not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in query):
        raise SettingsError(f"toy query vector must hold finite numbers, got {list(query)!r}")
