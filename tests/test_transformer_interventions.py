"""Head ablation and what-if layers: the layers before the change stay, the ones after move,
and the changed layer computes exactly what its new settings say (checked by hand in NumPy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

from core.transformer import Interventions, LayerChange, ModelError, load_model
from core.transformer import forward as forward_module

TINY_BERT = Path(__file__).parent / "data" / "transformer" / "tiny-bert"
TINY_GPT2 = Path(__file__).parent / "data" / "transformer" / "tiny-gpt2"
TEXT = "the animal was not swimming in the sea because it was running"


@pytest.fixture(scope="module")
def bert():
    return load_model(TINY_BERT)


def _layer_norm(x, gain, bias, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


def test_zero_ablating_every_head_of_a_layer_leaves_only_its_output_bias(bert):
    heads = bert.config.n_heads
    run = bert.run(TEXT, dtype="float64",
                   interventions=Interventions(frozenset((0, h) for h in range(heads))))
    layer = bert.layers_in("float64")[0]
    x0 = run.hidden_states[0]
    y = _layer_norm(x0 + layer.b_o, *layer.ln_attention)  # attention contributes only b_o
    hidden = y @ layer.w_in + layer.b_in
    ffn = (0.5 * hidden * (1 + erf(hidden / np.sqrt(2)))) @ layer.w_out + layer.b_out
    expected = _layer_norm(y + ffn, *layer.ln_feed_forward)
    np.testing.assert_allclose(run.hidden_states[1], expected, atol=1e-12)
    # The step panel's layer says so too: its output is the b_o the pass added, its weights
    # are the heads' own (ablation removes the output, not the pattern).
    shown = bert.layer_attention(run, 0)
    np.testing.assert_allclose(shown.output, np.broadcast_to(layer.b_o, x0.shape), atol=1e-12)
    np.testing.assert_array_equal(shown.concat, 0.0)
    np.testing.assert_array_equal(shown.weights, bert.run(TEXT, dtype="float64").attentions[0])


def test_ablation_changes_later_layers_only_and_reuse_changes_nothing(bert):
    base = bert.run(TEXT)
    ablated = bert.run(TEXT, interventions=Interventions(frozenset({(1, 2)})), reuse=base)
    fresh = bert.run(TEXT, interventions=Interventions(frozenset({(1, 2)})))
    np.testing.assert_array_equal(ablated.attentions, fresh.attentions)  # reuse is exact
    np.testing.assert_array_equal(ablated.attentions[:2], base.attentions[:2])  # <= layer 1
    np.testing.assert_array_equal(ablated.hidden_states[:2], base.hidden_states[:2])
    assert np.abs(ablated.hidden_states[2] - base.hidden_states[2]).max() > 1e-3
    mean = bert.run(TEXT, interventions=Interventions(frozenset({(1, 2)}), ablation="mean"))
    assert np.abs(mean.hidden_states[2] - ablated.hidden_states[2]).max() > 1e-4


def test_a_what_if_temperature_divides_that_layers_logits_and_nothing_before(bert):
    base = bert.run(TEXT, dtype="float64")
    changed = bert.run(TEXT, dtype="float64", reuse=base,
                       interventions=Interventions(changes=(LayerChange(1, temperature=2.0),)))
    np.testing.assert_array_equal(changed.attentions[0], base.attentions[0])
    q, k = changed.queries[1], changed.keys[1]  # (H, n, d_k): layer 1's own input is unchanged
    logits = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1]) / 2.0
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(changed.attentions[1], e / e.sum(-1, keepdims=True), atol=1e-12)
    same = bert.run(TEXT, dtype="float64", interventions=Interventions(changes=(LayerChange(1),)))
    np.testing.assert_array_equal(same.attentions, base.attentions)  # the identity change


def test_gpt2_what_if_can_lift_the_causal_mask_of_one_layer():
    gpt2 = load_model(TINY_GPT2)
    lifted = gpt2.run(TEXT, interventions=Interventions(changes=(LayerChange(0, causal=False),)))
    upper = np.triu(np.ones(lifted.attentions.shape[-2:], bool), k=1)
    assert np.all(lifted.attentions[1][..., upper] == 0)  # layer 2 keeps its own mask
    assert lifted.attentions[0][..., upper].min() > 0  # layer 1 now looks ahead


def test_the_step_panel_layer_is_the_run_layer(bert):
    run = bert.run(TEXT, interventions=Interventions(changes=(LayerChange(1, scoring="cosine"),)))
    again = bert.layer_attention(run, 1)
    np.testing.assert_array_equal(again.weights, run.attentions[1])
    assert again.scoring == "cosine"


@pytest.mark.parametrize("interventions", [
    Interventions(), Interventions(changes=(LayerChange(1, scoring="cosine", temperature=2.0),)),
    Interventions(frozenset({(0, 1), (1, 3)})), Interventions(frozenset({(1, 0)}), "mean")])
def test_a_kept_layer_result_is_what_a_recomputation_gives(bert, monkeypatch, interventions):
    """Short texts keep each layer's whole result from the pass; long ones recompute the shown
    layer from its input. Both paths must give the step panel the same numbers (an ablated
    head's output replaced in concat and output, as the pass replaced it)."""
    kept = bert.run(TEXT, interventions=interventions)
    monkeypatch.setattr(forward_module, "KEEP_RESULTS_TOKENS", 0)  # what a long text does
    recomputed = bert.run(TEXT, interventions=interventions)
    assert all(r is not None for r in kept.passed.layer_results)
    assert all(r is None for r in recomputed.passed.layer_results)
    for layer in range(bert.config.n_layers):
        a, b = bert.layer_attention(kept, layer), bert.layer_attention(recomputed, layer)
        assert a is kept.passed.layer_results[layer]  # nothing made again
        for name in ("weights", "scores", "logits", "queries", "keys", "values",
                     "head_outputs", "concat", "output"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert (a.scoring, a.temperature) == (b.scoring, b.temperature)


@pytest.mark.parametrize(("interventions", "message"), [
    (Interventions(frozenset({(2, 0)})), "has no layer 3 head 1"),
    (Interventions(frozenset({(0, 4)})), "has no layer 1 head 5"),
    (Interventions(ablation="half"), "ablation must be one of zero, mean"),
    (Interventions(changes=(LayerChange(0, scoring="general"),)), "needs weights the model never"),
    (Interventions(changes=(LayerChange(0, temperature=0.0),)), "temperature must be finite"),
    (Interventions(changes=(LayerChange(5),)), "layer 6 cannot be changed"),
])
def test_interventions_the_model_does_not_have_are_refused(bert, interventions, message):
    with pytest.raises(ModelError, match=message):
        bert.run(TEXT, interventions=interventions)
