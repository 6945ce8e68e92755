"""Awkward sentences and settings through the whole pipeline: clear errors or finite numbers.

Each case runs :class:`core.pipeline.Pipeline` on the real GloVe 6B 50d vectors (``glove``) or the
tiny table (``tiny_kv``). Either the run raises an :class:`AnalysisError` a person can act on, or
every number the views draw (weights, outputs, map coordinates) is finite, and where the maths
degenerated (a fully masked row, a zero vector under cosine, overflowing scores) the analysis
says so in ``warnings``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from gensim.models import KeyedVectors

from core.pipeline import Analysis, AnalysisError, Pipeline
from core.settings import TEMPERATURE_RANGE, Settings
from core.vectors.tokens import MAX_TOKENS

SENTENCE = "the cat sat on the mat"
UNKNOWN = "qwxzv blorfquux zzqqxxj"  # in neither vocabulary
SCORINGS = ("dot", "scaled_dot", "cosine", "general", "additive")
NORMALIZATIONS = ("softmax", "relu", "sparsemax")


def drawn_numbers(analysis: Analysis) -> dict[str, np.ndarray]:
    """Every array a view draws from (logits may hold -inf for masked cells by design)."""
    coords = analysis.coords
    neighbours = np.array([(x, y) for _, x, y, _ in coords.neighbours], dtype=float)
    result = analysis.result
    return {
        "weights": result.weights,
        "output": result.output,
        "head_outputs": result.head_outputs,
        "concat": result.concat,
        "queries": result.queries,
        "keys": result.keys,
        "values": result.values,
        "tokens": coords.tokens,
        "query": coords.query,
        "head_mixes": coords.head_mixes,
        "map_output": coords.output,
        "neighbours": neighbours.reshape(-1, 2),
    }


def assert_sane(analysis: Analysis) -> None:
    """All drawn numbers finite; each weight row sums to 1, or is empty and reported."""
    bad = [name for name, a in drawn_numbers(analysis).items() if not np.isfinite(a).all()]
    assert not bad, f"non-finite {bad} for {analysis.settings}"
    sums = analysis.weights.sum(axis=-1)  # (h, r)
    empty = analysis.result.empty_rows
    np.testing.assert_allclose(sums[~empty], 1.0, rtol=1e-4)
    assert np.all(analysis.weights[empty] == 0)
    if empty[:, analysis.query_row].any():
        assert any("no weight" in w for w in analysis.warnings), analysis.warnings


def run(kv: KeyedVectors, **changes: object) -> Analysis:
    analysis = Pipeline(kv).run(Settings(**changes))  # type: ignore[arg-type]
    assert_sane(analysis)
    return analysis


def with_rows(kv: KeyedVectors, rows: dict[str, np.ndarray]) -> KeyedVectors:
    """A copy of ``kv`` whose listed words get the given vectors."""
    vectors = kv.vectors.copy()
    for word, row in rows.items():
        vectors[kv.key_to_index[word]] = row
    kv.vectors = vectors
    return kv


# ------------------------------------------------------------------------------ sentences


@pytest.mark.parametrize("sentence", ["", "   ", "\n\t"])
def test_empty_sentence_is_a_clear_error(tiny_kv: KeyedVectors, sentence: str) -> None:
    with pytest.raises(AnalysisError, match="The sentence is empty: type a sentence"):
        Pipeline(tiny_kv).run(Settings(sentence=sentence))


def test_punctuation_only(glove: KeyedVectors, tiny_kv: KeyedVectors) -> None:
    analysis = run(glove, sentence="?! ... , ;", query="it")  # GloVe knows punctuation
    assert analysis.col_labels == ["?", "!", ".", ".", ".", ",", ";"]
    with pytest.raises(AnalysisError, match=r"words is in these vectors: \?, !, ;"):  # only . ,
        Pipeline(tiny_kv).run(Settings(sentence="?! ;", query="cat"))


@pytest.mark.parametrize("kv_name", ["glove", "tiny_kv"])
def test_all_words_unknown(kv_name: str, request: pytest.FixtureRequest) -> None:
    kv = request.getfixturevalue(kv_name)
    assert not any(w in kv.key_to_index for w in UNKNOWN.split())
    with pytest.raises(AnalysisError, match="None of the sentence's words is in these vectors: "
                       + ", ".join(UNKNOWN.split())) as caught:
        Pipeline(kv).run(Settings(sentence=UNKNOWN, query="the"))
    assert "type a sentence" not in str(caught.value)  # it was typed: its words are named
    with pytest.raises(AnalysisError, match="The sentence is empty"):
        Pipeline(kv).run(Settings(sentence="  ", query="the"))
    with pytest.raises(AnalysisError, match="not in the vocabulary"):
        Pipeline(kv).run(Settings(sentence=SENTENCE, query="qwxzv"))


def test_two_thousand_tokens_are_capped_with_a_notice(glove: KeyedVectors) -> None:
    sentence = " ".join(["the cat sat on the mat"] * 334)[: 2000 * 4]  # about 2,000 tokens
    start = time.perf_counter()
    analysis = run(glove, sentence=sentence, query="dog")
    elapsed = time.perf_counter() - start
    assert analysis.weights.shape[1:] == (MAX_TOKENS + 1, MAX_TOKENS)  # + the outside query
    assert any(f"only the first {MAX_TOKENS}" in w for w in analysis.warnings)
    assert elapsed < 15, f"a capped 2,000-token run took {elapsed:.1f} s"


@pytest.mark.parametrize("kv_name", ["glove", "tiny_kv"])
def test_emoji_are_tokens_reported_out_of_vocabulary(
    kv_name: str, request: pytest.FixtureRequest
) -> None:
    kv = request.getfixturevalue(kv_name)
    analysis = run(kv, sentence="the cat 😀 sat 🐈\u200d⬛ 👍🏽", query="cat")
    texts = [t.text for t in analysis.sentence.tokens]
    assert "😀" in texts and "👍" in texts
    oov = [t.text for t in analysis.sentence.tokens if t.key is None]
    assert oov and all(t in " ".join(analysis.warnings) for t in oov)


@pytest.mark.parametrize("kv_name", ["glove", "tiny_kv"])
def test_right_to_left_words(kv_name: str, request: pytest.FixtureRequest) -> None:
    kv = request.getfixturevalue(kv_name)
    rtl = "مرحبا بالعالم שלום עולם"
    analysis = run(kv, sentence=f"the cat {rtl} sat", query="cat")
    tokens = analysis.sentence.tokens
    assert [t.text for t in tokens[2:6]] == rtl.split()
    unknown = [t.text for t in tokens if t.key is None]
    for word in unknown:  # each unknown word is named; known ones take part in attention
        assert word in " ".join(analysis.warnings)
    assert len(analysis.col_labels) == len(tokens) - len(unknown)
    only_rtl = Pipeline(kv)
    try:
        assert_sane(only_rtl.run(Settings(sentence=rtl, query="the")))
    except AnalysisError as error:  # nothing known: the ordinary clear message
        assert "words is in these vectors" in str(error) and rtl.split()[0] in str(error)


# ------------------------------------------------------------------------------- settings


@pytest.mark.parametrize("temperature", TEMPERATURE_RANGE)
def test_temperature_at_the_slider_ends(glove: KeyedVectors, temperature: float) -> None:
    pipeline = Pipeline(glove)
    for scoring in SCORINGS:
        for normalization in NORMALIZATIONS:
            s = Settings(sentence=SENTENCE, query="dog", temperature=temperature,
                         scoring=scoring, normalization=normalization)
            assert_sane(pipeline.run(s))
    sharp = pipeline.run(Settings(sentence=SENTENCE, query="dog", temperature=temperature,
                                  normalization="softmax", scoring="scaled_dot"))
    if temperature == TEMPERATURE_RANGE[1]:  # very hot: close to uniform over 6 tokens
        np.testing.assert_allclose(sharp.query_weights, 1 / 6, atol=0.02)
    else:  # very cold: each head is (close to) one-hot
        assert np.all(sharp.query_weights.max(axis=-1) > 0.99)


EXTREMES = {
    "cat": np.full(8, 1e30, np.float32),
    "sat": np.full(8, -1e30, np.float32),
    "mat": np.full(8, 1e-30, np.float32),
    "on": np.r_[np.full(4, 1e30), np.full(4, -1e30)].astype(np.float32),
}


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # 1e30 * 1e30 scores
@pytest.mark.parametrize("scoring", SCORINGS)
def test_extreme_vector_values(tiny_kv: KeyedVectors, scoring: str) -> None:
    kv = with_rows(tiny_kv, EXTREMES)
    pipeline = Pipeline(kv)
    for normalization in NORMALIZATIONS:
        for temperature in TEMPERATURE_RANGE:
            for query in ("cat", "mat", "wine"):
                s = Settings(sentence=SENTENCE, query=query, scoring=scoring,
                             normalization=normalization, temperature=temperature)
                analysis = pipeline.run(s)
                assert_sane(analysis)
                overflowed = any("overflowed" in w for w in analysis.warnings)
                assert overflowed == (not np.isfinite(analysis.result.scores).all())


def test_cosine_is_scale_free_even_for_tiny_and_huge_vectors(tiny_kv: KeyedVectors) -> None:
    """Cosine ignores length: 1e-30 * v and 1e30 * v score like v (no under/overflow to 0)."""
    v = tiny_kv["mat"].copy()
    s = Settings(sentence=SENTENCE, query="mat", scoring="cosine")
    plain = Pipeline(tiny_kv).run(s).result.scores
    for scale in (1e-30, 1e30):
        kv = with_rows(tiny_kv, {"mat": (v.astype(np.float64) * scale).astype(np.float32)})
        scaled = Pipeline(kv).run(s)
        assert_sane(scaled)
        np.testing.assert_allclose(scaled.result.scores, plain, atol=1e-5)


@pytest.mark.parametrize("query", ["cat", "wine"])
def test_fully_masked_row_is_zero_and_reported(tiny_kv: KeyedVectors, query: str) -> None:
    """exclude_self with a one-token sentence leaves the token's own row nothing to attend."""
    for causal in (False, True):
        analysis = run(tiny_kv, sentence="cat", query=query, exclude_self=True, causal=causal)
        assert analysis.result.empty_rows[:, 0].all()
        assert np.all(analysis.weights[:, 0] == 0) and np.all(analysis.result.output[0] == 0)
        if query == "cat":
            assert any("no weight" in w for w in analysis.warnings)


def test_zero_vectors_under_cosine_are_reported(tiny_kv: KeyedVectors) -> None:
    analysis = run(tiny_kv, sentence="blorf cat sat", query="blorf", oov_policy="zero",
                   scoring="cosine")
    assert any("Zero vector(s) for blorf" in w for w in analysis.warnings), analysis.warnings
    zero_kv = with_rows(tiny_kv, {"cat": np.zeros(8, np.float32)})
    for normalization in NORMALIZATIONS:
        analysis = run(zero_kv, sentence=SENTENCE, query="cat", scoring="cosine",
                       normalization=normalization, projection="pca_view")
        assert any("Zero vector(s) for cat" in w for w in analysis.warnings)
    dot = run(zero_kv, sentence=SENTENCE, query="cat", scoring="dot")
    assert not any("Zero vector" in w for w in dot.warnings)  # a zero dot product is defined


def test_every_scoring_choice_of_the_controls_computes(tiny_kv: KeyedVectors) -> None:
    """general and additive need parameters static vectors lack: seeded ones, reproducible."""
    pipeline = Pipeline(tiny_kv)
    results = {}
    for scoring in SCORINGS:
        s = Settings(sentence=SENTENCE, query="cat", scoring=scoring)
        results[scoring] = pipeline.run(s).result.scores
        np.testing.assert_array_equal(Pipeline(tiny_kv).run(s).result.scores, results[scoring])
    assert not np.allclose(results["general"], results["dot"])
    assert not np.allclose(results["additive"], results["dot"])
