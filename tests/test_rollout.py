"""Attention rollout and attention flow (core/maths/rollout.py) against direct computations.

Every expected value here is computed another way than the module does it: rollout by explicit
sums over paths, flow by hand or by a brute-force minimum cut over every cut of the full
(untrimmed, upward-pointing, real-valued) layer network.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.maths.rollout import (
    CAVEAT,
    MAX_FLOW_TOKENS,
    FlowTooLarge,
    attention_flow,
    attention_rollout,
    flow_note,
    layer_graphs,
)

TINY_GPT2 = "tests/data/transformer/tiny-gpt2"
TINY_BERT = "tests/data/transformer/tiny-bert"
TEXT = "the cat sat on the mat"


def random_attentions(layers: int, heads: int, n: int, seed: int = 0,
                      causal: bool = False) -> np.ndarray:
    """Row-stochastic (layers, heads, n, n) weights, some rows peaked as trained heads are."""
    rng = np.random.default_rng(seed)
    w = rng.random((layers, heads, n, n)) ** 3  # (L, h, n, n)
    if causal:
        w = np.tril(w)
    return w / w.sum(axis=-1, keepdims=True)


def augmented(attentions: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """The paper's per-layer matrix, written out: (L, h, n, n) -> (L, n, n)."""
    mean = attentions.mean(axis=1)  # (L, n, n)
    mixed = residual * np.eye(attentions.shape[-1]) + (1 - residual) * mean
    return mixed / mixed.sum(axis=-1, keepdims=True)


def product_by_paths(graphs: np.ndarray) -> np.ndarray:
    """R_L[i, j] = sum over paths i = k_L, ..., k_0 = j of prod_l G_l[k_l, k_(l-1)], by loops."""
    layers, n, _ = graphs.shape
    out = np.zeros((n, n))
    for path in itertools.product(range(n), repeat=layers + 1):  # (k_L, ..., k_0)
        weight = 1.0
        for step, layer in enumerate(range(layers, 0, -1)):
            weight *= graphs[layer - 1][path[step], path[step + 1]]
        out[path[0], path[-1]] += weight
    return out


def min_cut_flows(graphs: np.ndarray) -> np.ndarray:
    """Each pair's max flow as the smallest cut of the whole network, every cut tried.

    Nodes (l, t) -> l * n + t for l = 0..L; edge (l-1, j) -> (l, i) with capacity G_l[i, j]
    (pointing up, unlike the module); source (0, j), sink (L, i). Max flow = min cut.
    """
    layers, n, _ = graphs.shape
    size = (layers + 1) * n
    cap = np.zeros((size, size))
    for layer in range(1, layers + 1):
        cap[(layer - 1) * n:layer * n, layer * n:(layer + 1) * n] = graphs[layer - 1].T
    flows = np.zeros((n, n))
    for i, j in itertools.product(range(n), range(n)):
        source, sink = j, layers * n + i
        others = [v for v in range(size) if v not in (source, sink)]
        sides = np.array(list(itertools.product((0.0, 1.0), repeat=len(others))))  # (2^k, k)
        x = np.zeros((len(sides), size))  # (2^k, size) 1 = on the source's side
        x[:, others] = sides
        x[:, source] = 1.0
        flows[i, j] = ((x @ cap) * (1 - x)).sum(axis=1).min()  # capacity leaving the side
    return flows / flows.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def gpt2_attentions() -> np.ndarray:
    from core.transformer import load_model

    return load_model(TINY_GPT2).run(TEXT).attentions


@pytest.fixture(scope="module")
def bert_attentions() -> np.ndarray:
    from core.transformer import load_model

    return load_model(TINY_BERT).run(TEXT).attentions


# ----------------------------------------------------------------------------- rollout


def test_rollout_of_a_hand_made_case_is_the_sum_over_paths():
    att = random_attentions(3, 2, 3, seed=1)

    rollout = attention_rollout(att)

    assert rollout.shape == (3, 3, 3)
    graphs = augmented(att)
    for layer in range(3):  # every prefix, each against its own sum over paths
        np.testing.assert_allclose(rollout[layer], product_by_paths(graphs[:layer + 1]),
                                   atol=1e-12)


def test_rollout_with_no_residual_is_the_plain_product_of_head_means():
    att = random_attentions(3, 4, 5, seed=2)
    means = att.mean(axis=1)  # (L, n, n)

    rollout = attention_rollout(att, residual=0.0)

    np.testing.assert_allclose(rollout[-1], means[2] @ means[1] @ means[0], atol=1e-12)


def test_rollout_of_a_written_out_two_layer_case():
    a1 = np.array([[1.0, 0.0], [0.5, 0.5]])
    a2 = np.array([[0.5, 0.5], [0.0, 1.0]])
    att = np.stack([a1, a2])[:, None]  # (2, 1, 2, 2)

    rollout = attention_rollout(att, residual=0.0)

    np.testing.assert_allclose(rollout[-1], [[0.75, 0.25], [0.5, 0.5]])
    # With the default residual, layer 1 is (I + A1) / 2: [[1, 0], [0.25, 0.75]].
    np.testing.assert_allclose(attention_rollout(att)[0], [[1.0, 0.0], [0.25, 0.75]])


@pytest.mark.parametrize("residual", [0.0, 0.5, 0.9])
def test_identity_attentions_give_identity_rollout(residual):
    att = np.broadcast_to(np.eye(4), (3, 2, 4, 4))

    np.testing.assert_array_equal(attention_rollout(att, residual=residual),
                                  np.broadcast_to(np.eye(4), (3, 4, 4)))


@pytest.mark.parametrize("residual", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("head_reduce", ["mean", "max"])
def test_rows_of_the_rollout_sum_to_one(residual, head_reduce, bert_attentions):
    for att in (random_attentions(4, 3, 6, seed=3), bert_attentions):
        rollout = attention_rollout(att, residual=residual, head_reduce=head_reduce)

        np.testing.assert_allclose(rollout.sum(axis=-1), 1.0, atol=1e-5)
        assert (rollout >= 0).all()


def test_max_over_heads_is_renormalised():
    att = random_attentions(2, 3, 4, seed=4)
    peak = att.max(axis=1)  # (L, n, n): rows sum to more than 1
    expected = 0.5 * np.eye(4) + 0.5 * peak
    expected /= expected.sum(axis=-1, keepdims=True)

    np.testing.assert_allclose(layer_graphs(att, head_reduce="max"), expected, atol=1e-12)


def test_gpt2_rollout_stays_causal(gpt2_attentions):
    assert (np.triu(gpt2_attentions, 1) == 0).all()  # what the test relies on

    rollout = attention_rollout(gpt2_attentions)

    assert (np.triu(rollout, 1) == 0).all()  # exactly 0, every prefix
    assert rollout.dtype == np.float32  # float32 in, float32 out
    np.testing.assert_allclose(rollout.sum(axis=-1), 1.0, atol=1e-5)


def test_the_head_mask_leaves_heads_out():
    att = random_attentions(2, 4, 5, seed=5)
    keep = np.array([[True, False, True, False], [False, False, False, True]])

    masked = attention_rollout(att, heads=keep)

    only_kept = np.stack([att[0, [0, 2]].mean(axis=0), att[1, 3]])[:, None]  # (2, 1, n, n)
    np.testing.assert_allclose(masked, attention_rollout(only_kept), atol=1e-12)
    assert not np.allclose(masked, attention_rollout(att))  # the mask changed something
    assert attention_rollout(att.astype(np.float32), heads=keep).dtype == np.float32


def test_a_layer_with_every_head_left_out_passes_tokens_through():
    att = random_attentions(2, 3, 4, seed=6)
    keep = np.array([[True, True, True], [False, False, False]])

    rollout = attention_rollout(att, heads=keep)

    np.testing.assert_allclose(rollout[1], rollout[0], atol=1e-12)


def test_an_identity_layer_on_top_changes_neither_rollout_nor_flow(bert_attentions):
    n = bert_attentions.shape[-1]
    three = np.concatenate([bert_attentions, np.broadcast_to(np.eye(n, dtype=np.float32),
                                                             (1, *bert_attentions.shape[1:]))])

    np.testing.assert_allclose(attention_rollout(three)[2], attention_rollout(bert_attentions)[1],
                               atol=1e-6)
    # Two layers take the closed form, three SciPy's maximum_flow: they must agree. The top
    # identity layer adds an edge of capacity 1 and flows into one token never exceed 1.
    np.testing.assert_allclose(attention_flow(three), attention_flow(bert_attentions), atol=1e-9)


BAD = [
    (np.ones((2, 3, 3)) / 3, "shape"),
    (np.ones((1, 1, 2, 3)) / 3, "shape"),
    (np.ones((0, 1, 2, 2)), "shape"),
    (np.array([[[[0.5, np.nan], [0.5, 0.5]]]]), "NaN"),
    (np.array([[[[0.5, np.inf], [0.5, 0.5]]]]), "infinity"),
    (np.array([[[[1.5, -0.5], [0.5, 0.5]]]]), ">= 0"),
    (np.array([[[[0.5, 0.5], [0.2, 0.2]]]]), "sum to 1"),
    (np.array([[[[True, False], [False, True]]]]), "real numbers"),
]


@pytest.mark.parametrize(("attentions", "message"), BAD)
def test_bad_attentions_raise_a_clear_error(attentions, message):
    with pytest.raises(ValueError, match=message):
        attention_rollout(attentions)
    with pytest.raises(ValueError, match=message):
        attention_flow(attentions)


def test_the_error_names_the_layer_head_and_row():
    att = random_attentions(2, 2, 3, seed=7)
    att[1, 0, 2] *= 2

    with pytest.raises(ValueError, match="layer 1, head 0, row 2 sums to 2"):
        attention_rollout(att)


@pytest.mark.parametrize(("options", "message"), [
    ({"residual": 1.5}, "residual"), ({"residual": float("nan")}, "residual"),
    ({"head_reduce": "median"}, "head_reduce"),
    ({"heads": np.ones((2, 3), dtype=bool)}, "heads"),
    ({"heads": np.ones((2, 2), dtype=int)}, "heads"),
])
def test_bad_options_raise(options, message):
    att = random_attentions(2, 2, 3)

    with pytest.raises(ValueError, match=message):
        attention_rollout(att, **options)


# ----------------------------------------------------------------------------- flow


def test_flow_of_a_written_out_case():
    # Two layers, no residual: flow(j -> i) = sum_k min(A1[k, j], A2[i, k]).
    # Output 0: from input 0, min(1, .5) + min(.5, .5) = 1; from input 1, 0 + min(.5, .5) = .5.
    # Output 1: from input 0, min(1, 0) + min(.5, 1) = .5; from input 1, 0 + min(.5, 1) = .5.
    # Each pair gets the whole network: output 0's flows add up to 1.5 although only 1 enters
    # it, so one flow from all inputs at once (a super-source) is a different quantity.
    a1 = np.array([[1.0, 0.0], [0.5, 0.5]])
    a2 = np.array([[0.5, 0.5], [0.0, 1.0]])
    att = np.stack([a1, a2])[:, None]  # (2, 1, 2, 2)

    flow = attention_flow(att, residual=0.0)

    np.testing.assert_allclose(flow, [[2 / 3, 1 / 3], [0.5, 0.5]], atol=1e-6)
    np.testing.assert_allclose(attention_flow(att, residual=0.0, layer=0), a1, atol=1e-6)


def test_flow_through_a_bottleneck_is_its_min_cut():
    # Three layers, no residual. Layer 2 sends everything through token 0, whose one way on
    # (layer 3's row 0 and row 1 attend to it by 0.5) is the cut: all of input j's flow must
    # pass (2, 0) -> (3, i), capacity A3[i, 0] = 0.5, and the rest of the network is wider.
    uniform = np.full((2, 2), 0.5)
    into_zero = np.array([[1.0, 0.0], [1.0, 0.0]])
    att = np.stack([uniform, into_zero, uniform])[:, None]  # (3, 1, 2, 2)

    flow = attention_flow(att, residual=0.0)

    np.testing.assert_allclose(flow, 0.5, atol=1e-6)  # 0.5 from each input: rows [.5, .5]
    np.testing.assert_allclose(flow, min_cut_flows(augmented(att, 0.0)), atol=1e-6)


@pytest.mark.parametrize(("layers", "n", "causal"), [(2, 3, False), (3, 3, False),
                                                     (3, 4, False), (3, 4, True)])
def test_flow_equals_the_brute_force_min_cut(layers, n, causal):
    att = random_attentions(layers, 2, n, seed=10 + n, causal=causal)

    flow = attention_flow(att, scale=10**7)

    np.testing.assert_allclose(flow, min_cut_flows(augmented(att)), atol=2e-6)
    if causal:
        assert (np.triu(flow, 1) == 0).all()


def test_flow_is_not_rollout():
    att = random_attentions(3, 2, 3, seed=11)

    assert not np.allclose(attention_flow(att), attention_rollout(att)[-1], atol=1e-3)


def test_flow_up_to_a_layer_uses_only_the_layers_before_it():
    att = random_attentions(4, 2, 3, seed=12)

    np.testing.assert_allclose(attention_flow(att, layer=2), attention_flow(att[:3]))
    np.testing.assert_allclose(attention_flow(att, layer=-1), attention_flow(att))
    np.testing.assert_allclose(attention_flow(att, layer=0), layer_graphs(att)[0], atol=1e-6)


def test_flow_of_some_rows_is_those_rows_of_the_whole(bert_attentions):
    whole = attention_flow(bert_attentions)

    np.testing.assert_allclose(attention_flow(bert_attentions, rows=[3, 0]), whole[[3, 0]])


def test_gpt2_flow_stays_causal(gpt2_attentions):
    four = np.concatenate([gpt2_attentions, gpt2_attentions])  # 4 layers: SciPy's path

    for att in (gpt2_attentions, four):
        flow = attention_flow(att)

        assert (np.triu(flow, 1) == 0).all()
        np.testing.assert_allclose(flow.sum(axis=1), 1.0, atol=1e-12)


def test_flow_with_a_head_mask_is_flow_without_those_heads():
    att = random_attentions(3, 3, 4, seed=13)
    keep = np.array([[True, False, False], [True, True, True], [False, True, False]])
    only_kept = np.stack([att[0, 0], att[1].mean(axis=0), att[2, 1]])[:, None]  # (3, 1, n, n)

    np.testing.assert_allclose(attention_flow(att, heads=keep), attention_flow(only_kept),
                               atol=1e-6)


def test_flow_declines_past_the_token_limit():
    assert MAX_FLOW_TOKENS == 64
    n = MAX_FLOW_TOKENS + 1

    with pytest.raises(FlowTooLarge, match="up to 64 tokens; this text has 65"):
        attention_flow(np.broadcast_to(np.eye(n), (2, 1, n, n)))
    assert issubclass(FlowTooLarge, ValueError)
    at_limit = np.broadcast_to(np.eye(64), (3, 1, 64, 64))
    np.testing.assert_array_equal(attention_flow(at_limit), np.eye(64))  # 64 is still computed


@pytest.mark.parametrize(("options", "message"), [
    ({"layer": 3}, "layer 3 does not exist"), ({"layer": -4}, "layer -4 does not exist"),
    ({"scale": 10}, "scale"), ({"scale": 1.5e6}, "scale"), ({"scale": True}, "scale"),
    ({"rows": [3]}, "rows"), ({"rows": [0.5]}, "rows"), ({"heads": np.ones(3, bool)}, "heads"),
])
def test_bad_flow_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        attention_flow(random_attentions(3, 2, 3), **options)


def test_the_scale_only_rounds():
    att = random_attentions(3, 2, 5, seed=14)

    coarse, fine = attention_flow(att, scale=10**3), attention_flow(att, scale=10**7)

    np.testing.assert_allclose(coarse, fine, atol=5e-3)
    assert not np.array_equal(coarse, fine)


def test_the_note_and_the_caveat_say_what_a_view_shows():
    note = flow_note(10**6)

    assert "1,000,000" in note and "rounded" in note and "5e-07" in note
    assert "\n" not in CAVEAT and "not an explanation" in CAVEAT
