"""The pipeline: what every view shows, from settings and vectors, equals core's own answers."""

import re

import numpy as np
import pytest

from core.maths.attention import multi_head_attention
from core.maths.heads import build_heads
from core.pipeline import AnalysisError, Pipeline
from core.settings import Settings


def test_default_screen_on_real_glove(glove):
    analysis = Pipeline(glove).run(Settings())
    words = "the animal was not swimming in the sea because it was running on the street .".split()
    assert analysis.col_labels == [w if i else "The" for i, w in enumerate(words)]
    assert analysis.query_row == 9  # "it" is a token of the sentence: self-attention row
    h, r, n = analysis.weights.shape
    assert (h, r, n) == (4, 16, 16)
    np.testing.assert_allclose(analysis.weights.sum(axis=-1), 1.0, rtol=1e-5)
    assert analysis.coords.tokens.shape == (16, 2)
    assert np.isfinite(analysis.coords.output).all()
    assert {kind for *_, kind in analysis.coords.neighbours} == {"query", "output"}
    shown = [word for word, *_ in analysis.coords.neighbours]
    assert len(shown) == len(set(shown)), "a word near the query and the output is labelled once"


def test_weights_equal_multi_head_attention_called_directly(tiny_kv):
    s = Settings(sentence="the cat sat on the mat", query="sat", n_heads=2, temperature=0.5)
    analysis = Pipeline(tiny_kv).run(s)
    x = np.stack([tiny_kv[w] for w in s.sentence.split()])
    heads = build_heads("random", tiny_kv.vector_size, 2, seed=0)
    direct = multi_head_attention(
        x, x, heads.w_q, heads.w_k, heads.w_v, heads.w_o, 2, temperature=0.5
    )
    np.testing.assert_array_equal(analysis.weights, direct.weights)
    np.testing.assert_array_equal(analysis.query_weights, direct.weights[:, 2, :])


def test_outside_query_is_an_extra_row(tiny_kv):
    analysis = Pipeline(tiny_kv).run(Settings(sentence="the cat sat", query="wine"))
    assert analysis.row_labels == ["the", "cat", "sat", "wine (query)"]
    assert analysis.query_row == 3
    assert analysis.weights.shape[1:] == (4, 3)


def test_repeated_word_uses_the_chosen_occurrence(tiny_kv):
    s = Settings(sentence="the cat sat on the mat", query="the", query_index=4)
    assert Pipeline(tiny_kv).run(s).query_row == 4


def test_causal_mask_zeroes_the_future_and_flags_nothing(tiny_kv):
    s = Settings(sentence="the cat sat on the mat", query="wine", causal=True)
    analysis = Pipeline(tiny_kv).run(s)
    upper = np.triu(np.ones((6, 6), bool), k=1)
    assert not analysis.weights[:, :6][:, upper].any()
    # The outside query comes after the whole sentence, so it may attend every token.
    assert (analysis.query_weights > 0).all()
    assert analysis.warnings == ()


def test_exclude_self_on_one_token_gives_a_warning_not_nan(tiny_kv):
    s = Settings(sentence="cat", query="cat", exclude_self=True, n_heads=1)
    analysis = Pipeline(tiny_kv).run(s)
    assert not analysis.weights.any()
    assert "no weight" in analysis.warnings[-1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sentence": "zyzzyva qwxz"}, "None of the sentence's words is in these vectors: "
                                       "zyzzyva, qwxz"),
        ({"query": "zyzzyva"}, "not in the vocabulary"),
        ({"head_strategy": "axes", "head_axes": (("zyzzyva", "eat"),)}, "zyzzyva"),
        ({"head_strategy": "file", "heads_file": "/nonexistent/heads.npz"}, "heads.npz"),
        ({"projection": "axes", "projection_axes": ("eat", "eat", "wine", "food")}, "same word"),
    ],
)
def test_bad_settings_give_a_message(tiny_kv, changes, message):
    message = re.escape(message) if "None of" in message else message
    with pytest.raises(AnalysisError, match=message):
        Pipeline(tiny_kv).run(Settings(sentence="the cat sat", query="cat").updated(**changes))


def test_temperature_change_reuses_heads_and_tokens(tiny_kv):
    pipeline = Pipeline(tiny_kv)
    first = pipeline.run(Settings(sentence="the cat sat", query="cat"))
    second = pipeline.run(first.settings.updated(temperature=3.0))
    assert second.heads is first.heads
    assert second.sentence is first.sentence
    assert not np.array_equal(first.weights, second.weights)


def test_every_projection_and_strategy_runs(tiny_kv):
    pipeline = Pipeline(tiny_kv)
    for strategy in ("identity", "split", "random", "axes"):
        for projection in ("pca_view", "pca_vocab", "axes"):
            s = Settings(
                sentence="i drink water",
                query="wine",
                head_strategy=strategy,
                projection=projection,
                n_heads=2,
            )
            coords = pipeline.run(s).coords
            assert np.isfinite(coords.tokens).all() and np.isfinite(coords.output).all()


def test_live_runs_keep_the_output_neighbours_until_settled(glove):
    pipeline = Pipeline(glove)
    first = pipeline.run(Settings(temperature=1.0))
    assert first.coords.neighbours_settled
    hot = Settings(temperature=0.05)
    live = pipeline.run(hot, live=True)  # a slider drag: the output moved, its words did not
    assert not live.coords.neighbours_settled
    output_words = [w for w, *_, kind in live.coords.neighbours if kind == "output"]
    assert output_words == [w for w, *_, kind in first.coords.neighbours if kind == "output"]
    settled = pipeline.settle(live)  # changes stopped: the words of this output
    fresh = Pipeline(glove).run(hot)
    assert settled.coords.neighbours_settled
    assert settled.coords.neighbours == fresh.coords.neighbours
    assert settled.result is live.result  # the attention was not computed again
    assert pipeline.run(hot).coords.neighbours == fresh.coords.neighbours  # a non-live run too
    np.testing.assert_array_equal(live.weights, fresh.weights)  # only the faint words waited
    other_query = pipeline.run(Settings(temperature=0.05, query="sea"), live=True)
    assert other_query.coords.neighbours_settled  # a new query's words are searched at once


def test_more_heads_than_dimensions_are_computed_one_per_dimension_and_said(tiny_kv):
    # A session saved with wider vectors asks for more heads than these have dimensions.
    d = tiny_kv.vector_size
    a = Pipeline(tiny_kv).run(Settings(sentence="i drink water", query="drink",
                                       n_heads=d + 3))
    assert a.weights.shape[0] == d
    assert any(f"{d + 3} heads asked for" in w and f"{d} dimensions" in w for w in a.warnings)
    fitting = Pipeline(tiny_kv).run(Settings(sentence="i drink water", query="drink", n_heads=d))
    assert not any("heads asked for" in w for w in fitting.warnings)
