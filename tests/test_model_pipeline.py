"""Settings -> Analysis for a trained model: the chosen layer's attention, exactly the run's,
labels in the person's own text, special tokens hidden with their share said, what moved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.model_pipeline import ModelPipeline
from core.model_settings import ModelSettings, ModelSettingsError
from core.pipeline import AnalysisError
from core.settings import Settings, SettingsError
from core.transformer import load_model

TINY_BERT = Path(__file__).parent / "data" / "transformer" / "tiny-bert"
TINY_GPT2 = Path(__file__).parent / "data" / "transformer" / "tiny-gpt2"


@pytest.fixture(scope="module")
def bert():
    return ModelPipeline(load_model(TINY_BERT))


def _settings(**model):
    return Settings(source="model", n_heads=4, sentence="The animal was not swimming in it",
                    query="animal", model=ModelSettings(**model))


def test_the_chosen_layer_is_the_runs_attention_and_the_query_row_its_token(bert):
    a = bert.run(_settings(layer=0))
    run = bert.model.run("The animal was not swimming in it")
    np.testing.assert_array_equal(a.weights, run.attentions[0])
    assert a.row_labels[a.query_row] == "animal" and a.row_labels[0] == "[CLS]"
    assert a.heads.strategy == "trained" and a.heads.n_heads == 4
    last = bert.run(_settings())  # layer None = the last
    np.testing.assert_array_equal(last.weights, run.attentions[-1])
    assert last.model.layer == 1


def test_hiding_special_tokens_keeps_the_weights_and_says_what_went_to_them(bert):
    full = bert.run(_settings(layer=1))
    hidden = bert.run(_settings(layer=1, hide_special=True))
    assert "[CLS]" not in hidden.row_labels and "[SEP]" not in hidden.col_labels
    inner = np.flatnonzero(~full.model.special)
    np.testing.assert_array_equal(hidden.weights, full.weights[:, inner][:, :, inner])
    expected_share = full.weights[:, inner][:, :, full.model.special].sum(axis=-1)
    np.testing.assert_allclose(hidden.model.hidden_share, expected_share, atol=1e-6)
    # Another query of the same layer reuses the shown tokens' result (a copy of every
    # intermediate: ~100 ms at 512 tokens).
    again = bert.run(_settings(layer=1, hide_special=True).updated(query="it"))
    assert again.result is hidden.result and again.full_result is hidden.full_result


def test_an_ablation_reports_how_far_each_head_moved_and_the_embedding_cosine(bert):
    base = bert.run(_settings())
    assert base.model.baseline is None and base.model.head_shift is None
    ablated = bert.run(_settings(ablated=((0, 1),)))
    assert ablated.model.head_shift.shape == (2, 4)
    assert np.all(ablated.model.head_shift[0] == 0)  # layer 1's own weights do not move
    assert ablated.model.head_shift[1].max() > 0
    assert 0 < ablated.model.embedding_cosine < 1


def test_a_query_the_text_does_not_have_falls_back_with_a_warning(bert):
    a = bert.run(_settings().updated(query="zebra"))
    assert a.row_labels[a.query_row] == "The"
    assert "'zebra' is not one of the model's tokens" in a.warnings[0]


def test_layers_and_heads_the_model_lacks_are_refused_clearly(bert):
    with pytest.raises(AnalysisError, match="layers 1 to 2; layer 5 does not exist"):
        bert.run(_settings(layer=4))
    with pytest.raises(AnalysisError, match="has no layer 9 head 1"):
        bert.run(_settings(ablated=((8, 0),)))
    with pytest.raises(AnalysisError, match="no tokens"):
        ModelPipeline(load_model(TINY_GPT2)).run(_settings().updated(sentence=""))


def test_model_settings_round_trip_through_a_session_and_refuse_nonsense():
    s = _settings(layer=1, ablated=((1, 2), (0, 3)), what_if_layer=0, what_if_temperature=2.0)
    assert Settings.from_json(s.to_json()) == s
    with pytest.raises(ModelSettingsError, match="what_if_scoring must be one of"):
        ModelSettings(what_if_scoring="additive")
    data = s.to_dict()
    data["model"]["layer"] = -1
    with pytest.raises(SettingsError, match="model.layer must be a whole number"):
        Settings.from_dict(data)
    assert s.model.forward_changed(s.model.__class__(**{**s.model.__dict__, "layer": 0})) is False


def test_the_latent_map_has_every_token_the_query_the_heads_and_neighbour_tokens(bert):
    a = bert.run(_settings(layer=0))
    n = len(a.col_labels)
    assert a.coords.tokens.shape == (n, 2) and a.coords.head_mixes.shape == (4, 2)
    assert np.all(np.isfinite(a.coords.tokens))
    words = {w for w, *_ in a.coords.neighbours}
    assert words and not words & set(bert.model.run("The animal was not swimming in it").tokens)


def test_a_vocabulary_token_near_the_query_and_the_output_is_drawn_once(bert):
    a = bert.run(_settings(layer=0))
    kinds = {}
    for word, _, _, kind in a.coords.neighbours:
        assert word not in kinds, f"{word!r} is drawn twice"
        kinds[word] = kind
    # The two searches, made again here: the words they share are the query's.
    row, x = a.query_row, a.model.run.passed.layer_inputs[0]
    near_query = bert._near(a.model.run, (0, row, "query"), x[row])
    near_output = bert._near(a.model.run, (0, row, "output"), x[row] + a.result.output[row])
    shared = set(near_query) & set(near_output)
    assert shared, "the case must have a word near both, or it tests nothing"
    assert set(kinds) == set(near_query) | set(near_output)
    assert all(kinds[w] == "query" for w in shared)


@pytest.mark.parametrize("folder", [TINY_BERT, TINY_GPT2])
def test_the_all_layers_map_is_the_pca_of_what_it_draws_in_one_frame(folder):
    # The map draws each layer's attention input (GPT-2: after ln_1); its all-layers axes are
    # the top principal directions of those points over every layer, computed here by an SVD.
    pipeline, text = ModelPipeline(load_model(folder)), "The animal was not swimming in it"
    drawn = []
    for layer in range(pipeline.model.config.n_layers):
        a = pipeline.run(_settings(layer=layer).updated(projection="pca_vocab"))
        drawn.append(a.coords.tokens)
        x0, y0, x1, y1 = a.coords.frame
        assert np.all((a.coords.tokens >= (x0, y0)) & (a.coords.tokens <= (x1, y1)))
    points = pipeline.model.run(text).attention_inputs  # (L, n, d)
    centred = points.reshape(-1, points.shape[-1]).astype(np.float64)
    centred -= centred.mean(axis=0)
    vt = np.linalg.svd(centred, full_matrices=False)[2][:2]  # (2, d)
    expected = centred @ vt.T  # (L n, 2)
    shown = np.vstack(drawn)
    signs = np.sign(np.sum(expected * shown, axis=0))  # an axis's sign is a convention
    np.testing.assert_allclose(shown, expected * signs, atol=1e-4 * np.abs(expected).max())
    assert (x0, y0, x1, y1) == pytest.approx((*shown.min(axis=0), *shown.max(axis=0)))


def test_the_all_layers_map_is_fitted_again_when_special_tokens_are_hidden(bert):
    # The same text and layer with [CLS]/[SEP] left out: its own PCA, whatever came before.
    hidden = _settings(layer=0, hide_special=True).updated(projection="pca_vocab")
    bert.run(_settings(layer=0).updated(projection="pca_vocab"))  # every token shown first
    after = bert.run(hidden).coords
    fresh = ModelPipeline(bert.model).run(hidden).coords
    np.testing.assert_allclose(after.tokens, fresh.tokens)
    assert after.frame == pytest.approx(fresh.frame)


def test_data_exports_carry_every_layer_with_the_layer_axis(bert, tmp_path, monkeypatch):
    import json

    from core.files import export_data as export

    a = bert.run(_settings(layer=0))
    run = a.model.run
    export.export_data(a, tmp_path / "a.json")
    data = json.loads((tmp_path / "a.json").read_text("utf-8"))
    np.testing.assert_allclose(data["attentions"], run.attentions, atol=1e-7)
    assert data["model"]["tokens"] == run.tokens and data["model"]["layer"] == 0
    assert data["settings"]["source"] == "model"
    export.export_data(a, tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        np.testing.assert_array_equal(z["model_hidden_states"], run.hidden_states)
        np.testing.assert_array_equal(z["model_queries"], run.queries)
        assert z["model_attentions"].shape == (2, 4, len(run.tokens), len(run.tokens))
    monkeypatch.setattr(export, "JSON_ATTENTION_LIMIT", 10)
    export.export_data(a, tmp_path / "b.json")
    big = json.loads((tmp_path / "b.json").read_text("utf-8"))
    assert big["attentions"] is None and "model_attentions" in big["model"]["attentions_note"]


def test_the_trained_sentence_lesson_through_the_pipeline_gives_torchs_cosines():
    from core.explain.lessons import lesson, lesson_settings

    item = lesson("drink_water_model")
    a = ModelPipeline(load_model()).run(lesson_settings(item))
    assert a.model is None and a.col_labels == list(item.settings.context_sentences)
    scores = a.result.scores[0, a.query_row]  # cosine of the query sentence to each context one
    np.testing.assert_allclose(scores, item.expected["scores"], atol=2e-5)
    e = np.exp(scores - scores.max())
    np.testing.assert_allclose(a.result.weights[0, a.query_row], e / e.sum(), atol=1e-6)


def test_rollout_with_special_tokens_hidden_says_how_much_went_to_them(bert):
    a = bert.run(_settings(hide_special=True))
    m = a.model
    assert m.across.shape == (len(a.col_labels),) * 2
    share = 1 - m.across.sum(axis=1).mean()
    assert f"on average {share:.0%} of each row goes to them" in m.across_note
