"""Every lesson reproduces the numbers its worked example publishes (float64, 1e-9), run the way
the window runs it: ``lesson_settings`` -> ``Pipeline.run`` -> ``Analysis``."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import analysis_inputs, run_lesson_analysis

from core.explain.lessons import DRINK_PLANE, LESSONS, MODEL_TOLERANCE, lesson, lesson_settings
from core.inputs import sentence_vectors
from core.maths.attention import multi_head_attention
from core.maths.heads import build_heads
from core.model_sentences import sentence_query_from_model, sentence_rows_from_model
from core.model_settings import ModelSettings
from core.pipeline import AnalysisError, Pipeline
from core.settings import Settings, ToySpec
from core.toy import ToyInputError, make_toy

TOL = 1e-9
CASES = json.loads((Path(__file__).parent / "data" / "transformer" /
                    "reference_cases.json").read_text(encoding="utf-8"))
TOY_LESSONS = [item for item in LESSONS if item.settings is None]


def softmax_by_hand(xs):
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


def lesson_numbers(item, a):
    """The quantities a lesson's ``expected`` and ``rounded`` may name, read from the analysis:
    its one head at the query row (every row for a self-attention lesson, ``query`` None);
    ``output`` is the head's output, the weighted sum of the values (before any W_O)."""
    assert a.result.weights.shape[0] == 1, "a toy lesson has one head"
    r, rows = a.result, slice(None) if item.query is None else a.query_row
    queries = r.queries[0, rows]
    return {"inputs": a.sentence.vectors, "query": queries, "queries": queries,
            "keys": r.keys[0], "values": r.values[0], "scores": r.scores[0, rows],
            "logits": r.logits[0, rows], "weights": r.weights[0, rows],
            "output": r.head_outputs[0, rows]}


@pytest.mark.parametrize("item", TOY_LESSONS, ids=lambda item: item.id)
def test_lesson_reproduces_published_numbers(item):
    numbers = lesson_numbers(item, run_lesson_analysis(item.id))
    assert item.expected or item.rounded
    for name, expected in item.expected.items():
        np.testing.assert_allclose(np.asarray(numbers[name], np.float64),
                                   np.asarray(expected, np.float64), rtol=0, atol=TOL,
                                   err_msg=f"{item.id}: {name}")
    for name, rounded in item.rounded.items():
        np.testing.assert_allclose(numbers[name], rounded, rtol=0, atol=item.rounded_tolerance,
                                   err_msg=f"{item.id}: {name} (rounded)")


def test_every_lesson_has_text_and_a_unique_id():
    assert len({item.id for item in LESSONS}) == len(LESSONS) == 10
    for item in LESSONS:
        assert item.title and len(item.explanation) > 80


def test_three_inputs_weights_and_output_by_hand():
    a = run_lesson_analysis("three_inputs")
    weights = [math.exp(2) / (math.exp(2) + 2 * math.exp(4))] + \
        [math.exp(4) / (math.exp(2) + 2 * math.exp(4))] * 2
    values = [[1, 2, 3], [2, 8, 0], [2, 6, 3]]
    output = [sum(w * v[j] for w, v in zip(weights, values, strict=True)) for j in range(3)]
    np.testing.assert_allclose(a.result.weights[0, a.query_row], weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(a.result.head_outputs[0, a.query_row], output, rtol=0, atol=TOL)


def test_cat_sat_mat_scaled_softmax_by_hand():
    item = lesson("cat_sat_mat")
    a = run_lesson_analysis(item.id)
    weights = softmax_by_hand([s / math.sqrt(2) for s in (0.3, 1.2, 2.0, 0.1, 0.3, 1.4)])
    np.testing.assert_allclose(a.query_weights[0], weights, rtol=0, atol=TOL)
    assert a.result.scale == pytest.approx(math.sqrt(2))
    vectors = item.inputs
    output = [sum(w * v[j] for w, v in zip(weights, vectors, strict=True)) for j in range(2)]
    np.testing.assert_allclose(a.result.output[a.query_row], output, rtol=0, atol=TOL)


def test_attention_function_by_hand():
    a = run_lesson_analysis("attention_function")
    weights = softmax_by_hand([4, 10, 16])
    np.testing.assert_allclose(a.query_weights[0], weights, rtol=0, atol=TOL)
    assert a.result.output[a.query_row, 0] == pytest.approx(
        0.1 * weights[0] + 0.4 * weights[1] + 0.7 * weights[2], abs=TOL)


def test_matrix_lesson_all_outputs_by_hand():
    a = run_lesson_analysis("matrix_view")
    values = [[1, 2, 3], [2, 8, 0], [2, 6, 3]]
    for i, scores in enumerate([(2, 4, 4), (4, 16, 12), (4, 12, 10)]):
        w = softmax_by_hand(scores)
        expected = [sum(wj * v[c] for wj, v in zip(w, values, strict=True)) for c in range(3)]
        np.testing.assert_allclose(a.result.head_outputs[0, i], expected, rtol=0, atol=TOL)


def test_drink_water_cosine_prefers_the_water_sentence_and_dot_the_longer_one():
    cos_run = run_lesson_analysis("drink_water_cosine")
    cos = cos_run.query_weights[0]
    dot = run_lesson_analysis("drink_water_dot").query_weights[0]
    assert np.argmax(cos) == 3  # "I drink water"
    assert np.argmax(dot) == 2  # "I drink red-wine"
    assert min(cos[2:]) > max(cos[:2])
    scores = cos_run.result.scores[0, cos_run.query_row]
    np.testing.assert_allclose(cos, softmax_by_hand(list(scores)), atol=TOL)


def _plane_kv():
    from gensim.models import KeyedVectors

    kv = KeyedVectors(2)
    kv.add_vectors(list(DRINK_PLANE), np.array(list(DRINK_PLANE.values()), dtype=np.float64))
    return kv


def sentence_settings(query: str, context, scoring: str = "cosine") -> Settings:
    """Sentence mode on word vectors with the textbook's attention: one head on the raw
    sentence vectors (identity projections), T = 1."""
    return Settings(mode="sentences", query_sentence=query, context_sentences=tuple(context),
                    scoring=scoring, head_strategy="identity", n_heads=1, temperature=1.0)


def test_sentence_mode_in_the_plane_matches_the_lesson():
    item = lesson("drink_water_cosine")
    vectors = sentence_vectors(list(item.tokens), _plane_kv())
    assert vectors.labels == item.tokens and vectors.warnings == ()
    np.testing.assert_allclose(vectors.vectors, item.expected["inputs"], atol=TOL)
    a = Pipeline(_plane_kv()).run(sentence_settings(item.query_label, item.tokens))
    assert a.col_labels == list(item.tokens)
    np.testing.assert_allclose(a.result.scores[0, a.query_row], item.expected["scores"],
                               atol=TOL)


def test_sentence_vectors_on_word_vectors(tiny_kv):
    vectors = sentence_vectors(["I drink water", "zzz qqq", "I eat salmon"], tiny_kv)
    assert vectors.labels == ("I drink water", "I eat salmon")
    assert any("left out" in w for w in vectors.warnings)
    expected = np.mean([tiny_kv["i"], tiny_kv["drink"], tiny_kv["water"]], axis=0)
    np.testing.assert_allclose(vectors.vectors[0], expected, atol=1e-6)
    context = ["I eat salmon", "I drink water"]
    a = Pipeline(tiny_kv).run(sentence_settings("I drink water with fine", context, "dot"))
    weights = a.query_weights[0]
    assert weights.shape == (2,) and weights.sum() == pytest.approx(1)

    def mean(sentence):
        return np.mean([tiny_kv[w.lower()] for w in sentence.split()], axis=0)

    query = mean("I drink water with fine")
    by_hand = softmax_by_hand([float(query @ mean(s)) for s in context])
    np.testing.assert_allclose(weights, by_hand, atol=1e-6)
    with pytest.raises(AnalysisError, match="query sentence"):
        Pipeline(tiny_kv).run(sentence_settings("zzz", ["I eat salmon"]))


def test_word_vector_lesson_runs_on_vectors(tiny_kv):
    a = run_lesson_analysis("animal_it", tiny_kv)
    assert a.weights.shape[0] == 4
    assert a.heads.n_heads == 4 and a.heads.strategy == "axes"
    assert a.row_labels[a.query_row] == "it"
    # The mean over the heads, as the exports write it: computed once per analysis, read-only.
    np.testing.assert_allclose(a.mean_weights, a.weights.mean(axis=0), rtol=0, atol=1e-7)
    assert a.mean_weights is a.mean_weights and not a.mean_weights.flags.writeable


@pytest.mark.parametrize("item", TOY_LESSONS, ids=lambda item: item.id)
def test_lesson_analyses_have_a_query_axis(item):
    a = run_lesson_analysis(item.id)
    h, r, n = a.result.weights.shape
    x_q, _ = analysis_inputs(a)
    assert (h, n) == (1, len(item.tokens)) and r == len(a.row_labels) == len(x_q)
    assert a.col_labels == list(item.tokens)
    assert a.row_labels[a.query_row].startswith(item.query_label)


def test_toy_inputs_validate_and_run(tiny_kv):
    item = lesson("three_inputs")
    toy = make_toy(item.tokens, item.inputs, item.w_q, item.w_k, item.w_v)
    a = Pipeline(tiny_kv).run(Settings(mode="toy", toy=ToySpec.from_inputs(toy), query="x1",
                                       n_heads=1, scoring="dot", temperature=1.0))
    np.testing.assert_array_equal(a.result.scores[0, 0], [2, 4, 4])
    with pytest.raises(ToyInputError, match="different lengths") as error:
        make_toy(["a", "b"], [[1, 2], [3]], [[1], [1]], [[1], [1]], [[1], [1]])
    assert error.value.matrix == "X"
    with pytest.raises(ToyInputError, match="W_K is 2×2; expected 2×1"):
        make_toy(["a"], [[1, 2]], [[1], [1]], [[1, 0], [0, 1]], [[1], [1]])
    with pytest.raises(ToyInputError, match="2 to 8"):
        make_toy(["a"], [[1]], [[1]], [[1]], [[1]])


# ---------------------------------------------------------------- lessons on a trained model

MODEL_LESSONS = [item for item in LESSONS if item.uses_model]
REFERENCE = Path(__file__).parent / "data" / "transformer"


@pytest.fixture(scope="module")
def minilm():
    from core.transformer import load_model

    return load_model()


def test_model_lessons_ask_for_the_bundled_model_and_its_heads():
    assert [item.id for item in MODEL_LESSONS] == ["drink_water_model", "animal_it_model"]
    busy = Settings(n_heads=4, selected_head=3, temperature=3.0, scoring="dot",
                    model=ModelSettings(path="/somewhere/else", layer=1, ablated=((0, 1),)))
    for item in MODEL_LESSONS:
        s = lesson_settings(item, busy)
        assert s.source == "model" and s.model == item.settings.model
        assert s.model.path is None and s.model.ablated == ()  # as trained: the reference's model
        assert s.n_heads == 12 and s.temperature == 1.0 and s.normalization == "softmax"
        assert item.expected and item.expected_tolerance == MODEL_TOLERANCE


def test_drink_water_model_lesson_numbers_are_torchs():
    """The lesson's numbers are typed from the reference torch made, not from our model."""
    item = lesson("drink_water_model")
    ref = np.load(REFERENCE / "minilm_reference.npz")["sentence_cosine_f32"]
    np.testing.assert_allclose(item.expected["scores"], ref[0, 1:], rtol=0, atol=1e-8)
    sentences = CASES["models"]["minilm"]["sentence_embeddings"]["sentences"]
    assert [item.query_label, *item.tokens] == sentences


def test_drink_water_model_lesson_reproduces_torchs_cosines(minilm):
    item = lesson("drink_water_model")
    s = lesson_settings(item)
    assert (s.mode, s.scoring, s.head_strategy, s.query_index) == \
        ("sentences", "cosine", "identity", None)
    rows = sentence_rows_from_model(minilm, s.context_sentences)
    query = sentence_query_from_model(minilm, s, rows)
    assert rows.labels == list(item.tokens) and rows.warnings == ()
    assert query.text == item.query_label and query.position is None
    # As sentence mode attends: the query sentence one row after the context, identity heads.
    heads = build_heads("identity", minilm.config.d_model, s.n_heads)
    x_q = np.vstack([rows.vectors, query.vector[None, :]])
    result = multi_head_attention(x_q, rows.vectors, heads.w_q, heads.w_k, heads.w_v,
                                  heads.w_o, heads.n_heads, scoring=s.scoring,
                                  normalization=s.normalization, temperature=s.temperature)
    scores, weights = result.scores[:, -1], result.weights[:, -1]  # (H, 5) the query's row
    for head in range(heads.n_heads):  # identity heads all see the same
        np.testing.assert_allclose(scores[head], item.expected["scores"], rtol=0,
                                   atol=item.expected_tolerance)
        np.testing.assert_allclose(weights[head], softmax_by_hand(item.expected["scores"]),
                                   rtol=0, atol=item.expected_tolerance)
    assert np.argmax(weights[0]) == item.tokens.index("I drink water")
    assert 0.15 < weights[0].min() and weights[0].max() < 0.28  # as the text says
    for sentence, score in zip(item.tokens, item.expected["scores"], strict=True):
        assert f"“{sentence}” ({score:.3f})" in item.explanation


def test_animal_it_model_lesson_numbers_are_torchs():
    item = lesson("animal_it_model")
    facts = CASES["models"]["minilm"]["it_animal"]["heads"]
    typed = item.expected["animal_weight_by_head"]
    assert set(typed) == {(f["layer"], f["head"]) for f in facts}
    for f in facts:
        assert typed[f["layer"], f["head"]] == pytest.approx(f["weight_f32"], abs=1e-8)
        # The explanation names each head and its weight, as the screen counts (from 1).
        assert f"layer {f['layer']} head {f['head']}" in item.explanation
        assert f"{f['expected_roughly']:.2f}" in item.explanation


def test_animal_it_model_lesson_through_the_model_pipeline(minilm):
    from core.model_pipeline import ModelPipeline

    item = lesson("animal_it_model")
    s = lesson_settings(item, Settings(n_heads=4, head_strategy="axes"))
    assert (s.model.layer, s.selected_head, s.query) == (5, 11, "it")
    pipeline = ModelPipeline(minilm)
    for (layer, head), weight in item.expected["animal_weight_by_head"].items():
        shown = s if (layer, head) == (6, 12) else s.updated(
            model=replace(s.model, layer=layer - 1), selected_head=head - 1)
        a = pipeline.run(shown)
        assert a.row_labels[a.query_row] == "it" and a.weights.shape[0] == 12
        animal = a.col_labels.index("animal")
        assert a.weights[head - 1, a.query_row, animal] == pytest.approx(
            weight, abs=item.expected_tolerance), (layer, head)
    a = pipeline.run(s)  # the head the lesson shows gives "animal" the most of any token
    assert a.col_labels[int(np.argmax(a.weights[11, a.query_row]))] == "animal"
    # What the text says layer by layer, read from every layer's weights of "it" (L, H, n).
    labels = a.col_labels
    it = a.model.run.attentions[:, :, labels.index("it")]
    animal = it[:, :, labels.index("animal")]  # (L, H)
    assert animal[:3].max() < 0.21 and animal[3:].max() > 0.6
    assert 0.015 <= animal[:3].mean(axis=1).min() and animal[:3].mean(axis=1).max() < 0.055
    assert 0.095 <= animal[3:].mean(axis=1).min() and animal[3:].mean(axis=1).max() < 0.135
    for layer, head in item.expected["animal_weight_by_head"]:
        for place in ("sea", "street"):
            assert it[layer - 1, head - 1, labels.index(place)] <= 0.06
