"""The step panel's arithmetic for a trained model adds up: with [CLS] / [SEP] hidden from the
maps, with a head ablated; a word the tokenizer splits can be typed as the query; an empty text
is said to be empty (tiny random BERT)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import analysis_steps

from core.analysis import error_field
from core.explain.steps import step_formulas
from core.maths.statistics import head_statistics
from core.model_pipeline import ModelPipeline
from core.model_settings import ModelSettings
from core.pipeline import AnalysisError
from core.settings import Settings
from core.transformer import load_model
from core.transformer.forward import ablated_result, attention_of_layer
from explorer.views.computation_view import ComputationPanel

TINY_BERT = Path(__file__).parent / "data" / "transformer" / "tiny-bert"
TEXT = "The animal was not swimming in it"
NUMBER = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


@pytest.fixture(scope="module")
def bert():
    return ModelPipeline(load_model(TINY_BERT))


@pytest.fixture
def panel(qtbot):
    widget = ComputationPanel()
    qtbot.addWidget(widget)
    return widget


def _settings(sentence: str = TEXT, query: str = "animal", **model) -> Settings:
    return Settings(source="model", n_heads=4, sentence=sentence, query=query,
                    model=ModelSettings(**model))


def _number(text: str) -> float:
    return float(text.removeprefix("Σ ").strip())


# ------------------------------------------------------------------------ hidden [CLS] / [SEP]
@pytest.mark.parametrize("head", range(4))
def test_with_special_tokens_hidden_every_shown_number_follows_from_the_shown_ones(
        bert, panel, head):
    a = bert.run(_settings(layer=1, hide_special=True))
    assert a.full_result is not None and "[CLS]" not in a.col_labels
    t = analysis_steps(a, head)
    assert t.hidden_labels == ("[CLS]", "[SEP]")
    # The softmax ran over every key: the shown and hidden weights make 1 together.
    _, logits, weights = t.every_key()
    assert math.isclose(float(weights.sum()), 1.0, abs_tol=1e-6)
    assert t.weights.sum() < 0.999  # the test needs weight on the hidden keys
    e = np.exp(logits - logits.max())
    np.testing.assert_allclose(e / e.sum(), weights, atol=1e-6)
    np.testing.assert_allclose(t.weighted_values.sum(axis=0) + t.hidden_weighted_sum,
                               t.weighted_sum, atol=1e-5)
    np.testing.assert_array_equal(t.weighted_sum, t.head_output)  # nothing ablated
    # The weight formula as read: exp(l_j − max l) / Σ = w, for every key's formula.
    for j in range(len(t.key_labels)):
        line = step_formulas(t, j)[3]
        found = re.search(rf"exp\({NUMBER} − {NUMBER}\) / {NUMBER} = {NUMBER}", line)
        assert found, line
        lj, top, total, w = map(float, found.groups())
        assert math.isclose(math.exp(lj - top) / total, w, rel_tol=1e-2), line
        assert "over all 9 keys, 2 of them hidden from the table: [CLS], [SEP]" in line
    # The head output's terms are the largest weights of every key, hidden ones named.
    strongest = int(np.argmax(weights))
    line = step_formulas(t, 0)[4]
    assert line.startswith("head output o = Σ_j w_j v_j = ")
    if strongest >= len(t.key_labels):
        assert f"({t.hidden_labels[strongest - len(t.key_labels)]}, hidden)" in line
    # The table as shown: the keys' weights and the hidden row's make the Σ row's.
    panel.set_steps(t)
    n = len(t.key_labels)
    assert panel.cell_text(n, 0) == "hidden: [CLS], [SEP]"
    assert panel.cell_text(n + 1, 0) == "Σ = head output"
    shown = sum(_number(panel.cell_text(j, 5)) for j in range(n))
    hidden = _number(panel.cell_text(n, 5))
    assert math.isclose(shown + hidden, _number(panel.cell_text(n + 1, 5)), abs_tol=2e-3)
    assert panel.cell_text(n + 1, 5) == "Σ 1"
    assert panel.cell_text(n + 2, 0) == "W_O part (output)"


def test_without_hidden_tokens_the_table_has_no_hidden_row(bert, panel):
    a = bert.run(_settings(layer=1))
    assert a.full_result is None
    t = analysis_steps(a, 2)
    assert t.n_hidden == 0 and "hidden" not in " ".join(step_formulas(t, 0))
    panel.set_steps(t)
    assert panel.cell_text(len(t.key_labels), 0) == "Σ = head output"


def test_the_output_line_says_b_o_when_the_layer_adds_one(bert):
    t = analysis_steps(bert.run(_settings(layer=0)), 1)
    assert t.output_bias and "of the W_O parts + b_O = " in step_formulas(t, 0)[5]


# ------------------------------------------------------------------------ ablation
@pytest.mark.parametrize("mode", ["zero", "mean"])
@pytest.mark.parametrize("hide", [False, True])
def test_an_ablated_head_shows_the_output_the_model_used(bert, panel, mode, hide):
    plain = bert.run(_settings(layer=0, hide_special=hide))
    a = bert.run(_settings(layer=0, hide_special=hide, ablated=((0, 2),), ablation=mode))
    run, model = a.model.run, bert.model
    # The layer's output is the one the forward pass used, not the layer as trained.
    layer_weights = model.layers_in(run.dtype)[0]
    trained = attention_of_layer(layer_weights, model.config, run.passed.layer_inputs[0])
    used = ablated_result(layer_weights, trained, [2], mode)
    shown = a.model.shown
    np.testing.assert_array_equal(a.result.output, used.output[shown])
    assert not np.allclose(a.result.output, plain.result.output, atol=1e-4)
    # The weights (the pattern) are untouched, in the ablated head as in the others.
    np.testing.assert_array_equal(a.weights, plain.weights)
    # The latent map's attention output is the query after the ablated attention.
    np.testing.assert_allclose(
        a.coords.output, bert._projection(a.settings, run, 0, shown)[0](
            run.passed.layer_inputs[0][shown][a.query_row] + a.result.output[a.query_row]),
        atol=1e-5)
    assert not np.allclose(a.coords.output, plain.coords.output, atol=1e-4)
    # The step table: the weighted sum as computed, the head output as used.
    t = analysis_steps(a, 2)
    assert t.ablation == mode
    expected = np.zeros(t.head_output.shape) if mode == "zero" else \
        trained.head_outputs[2].mean(axis=0)
    np.testing.assert_allclose(t.head_output, expected, atol=1e-6)
    np.testing.assert_allclose(t.weighted_sum, analysis_steps(plain, 2).weighted_sum,
                               atol=1e-6)
    d_v = t.head_output.size
    np.testing.assert_allclose(t.wo_part, t.head_output @ a.heads.w_o[2 * d_v:3 * d_v],
                               atol=1e-5)
    assert "is ablated" in t.note and "weights are what the head computed" in t.note
    lines = step_formulas(t, 0)
    assert "ablated, the model uses o = [" in lines[4]
    assert ("o = [0, 0, 0, 0, …]" in lines[4]) == (mode == "zero")
    assert ("(its mean over the 9 tokens)" in lines[4]) == (mode == "mean")
    panel.set_steps(t)
    assert "(ablated: output " in panel.title_text()
    n = len(t.key_labels) + (1 if hide else 0)  # the hidden keys are one row
    assert panel.cell_text(n, 0) == "Σ (not used: ablated)"
    assert panel.cell_text(n + 1, 0) == ("o used: 0" if mode == "zero" else "o used: token mean")
    assert panel.cell_text(n + 2, 0) == "W_O part (output)"
    # Another head of the layer is not ablated: its output is its weighted sum.
    other = analysis_steps(a, 1)
    assert other.ablation is None
    np.testing.assert_array_equal(other.head_output, other.weighted_sum)


def test_an_ablated_head_in_another_layer_leaves_this_layers_steps_alone(bert):
    a = bert.run(_settings(layer=1, ablated=((0, 2),)))
    t = analysis_steps(a, 2)
    assert t.ablation is None and "ablated" not in t.note


# ------------------------------------------------------------------------ the query
@pytest.mark.parametrize(("query", "row_label", "pieces"), [
    ("naive", "N", 2), ("Naïve", "N", 2), ("NAIVE", "N", 2), ("café", "ca", 3),
    ("cafe", "ca", 3), ("swimming", "swimming", 0), ("##aive", "##aïve", 0)])
def test_a_word_the_tokenizer_split_is_found_by_its_first_piece(bert, query, row_label, pieces):
    a = bert.run(_settings("Naïve café swimming.", query))
    assert a.row_labels[a.query_row] == row_label
    notes = [w for w in a.warnings if "word pieces" in w or "not one of" in w]
    if pieces:
        assert notes == [f"'{query}' is {pieces} word pieces here: showing its first, "
                         f"'{row_label}'"]
    else:
        assert notes == []
    hidden = bert.run(_settings("Naïve café swimming.", query, hide_special=True))
    assert hidden.row_labels[hidden.query_row] == row_label


def test_the_chosen_occurrence_of_a_split_word_is_kept(bert):
    s = _settings("café and café", "cafe")
    first = bert.run(s)
    assert first.query_row == 1  # [CLS] ca ##f ##e and ca ##f ##e [SEP]
    second = bert.run(s.updated(query_index=5))
    assert second.query_row == 5 and second.row_labels[5] == "ca"


def test_words_apart_are_not_one_word(bert):
    a = bert.run(_settings(query="animalwas"))
    assert "is not one of the model's tokens" in a.warnings[-1]


# ------------------------------------------------------------------------ an empty text
@pytest.mark.parametrize("sentence", ["", "   ", "\n\t"])
def test_an_empty_text_is_said_to_be_empty(bert, sentence):
    with pytest.raises(AnalysisError, match="The sentence is empty: type a sentence") as caught:
        bert.run(_settings(sentence))
    assert error_field(str(caught.value)) == "sentence"


def test_a_text_the_tokenizer_drops_entirely_says_so(bert):
    with pytest.raises(AnalysisError, match="no tokens the model reads: type a sentence"):
        bert.run(_settings("\x00\x01"))


# ------------------------------------------------------------------------ head statistics
def test_head_statistics_read_in_fixed_decimals(panel):
    weights = np.array([[[1.0 - 1e-15, 1e-15, 0.0]], [[0.5, 0.25, 0.25]], [[0.3, 0.3, 0.4]]])
    panel.set_statistics(head_statistics(weights, 0, ["a", "b", "c"]))
    rows = [panel.statistics.head_row_texts(h) for h in range(3)]
    assert rows[0][0] == "0.00" and rows[0][2] == "1.000"
    assert [r[0] for r in rows] == ["0.00", "1.04", "1.09"]
    assert [r[2] for r in rows] == ["1.000", "0.500", "0.400"]
