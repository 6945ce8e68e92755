"""Sentence and toy mode without Qt: settings fields, the pipeline's rows, lessons as settings."""

from __future__ import annotations

import numpy as np
import pytest

from core.explain.lessons import LESSONS, lesson, lesson_settings, lesson_toy
from core.pipeline import AnalysisError, Pipeline
from core.settings import Settings, SettingsError, ToySpec
from explorer.views.inputs_view import resize_toy

TOY = ToySpec(("a", "b"), ((1.0, 0.0), (0.0, 1.0)), ((1.0, 0.0), (0.0, 1.0)),
              ((1.0, 0.0), (0.0, 1.0)), ((2.0,), (1.0,)))


def test_new_fields_round_trip_and_old_files_still_load():
    s = Settings(mode="toy", toy=TOY, query="b", context_sentences=("I eat", "I drink"),
                 sentences_use_toy=True)
    assert Settings.from_json(s.to_json()) == s
    old = Settings().to_dict()
    for name in ("mode", "toy", "context_sentences", "query_sentence", "sentences_use_toy"):
        old.pop(name)
    assert Settings.from_dict(old) == Settings()


@pytest.mark.parametrize(("changes", "message"), [
    ({"mode": "pictures"}, "mode must be one of"),
    ({"toy": ToySpec(("a",), ((1.0,),), ((1.0,),), ((1.0,),), ((1.0,),))}, "2 to 8"),
    ({"toy": ToySpec(("a",), ((1.0, 2.0),), ((1.0,), (0.0,)), ((1.0,), (0.0,)),
                     ((1.0,), (0.0,)), query=(1.0,))}, "query vector has 1 numbers"),
    ({"context_sentences": ["a list"]}, "context_sentences must be"),
])
def test_bad_mode_settings_are_refused(changes, message):
    with pytest.raises(SettingsError, match=message):
        Settings().updated(**changes)


def test_toy_mode_runs_the_table_and_maps_values_back(tiny_kv):
    a = Pipeline(tiny_kv).run(Settings(mode="toy", toy=TOY, query="b", n_heads=1,
                                       temperature=1.0, scoring="dot"))
    assert a.col_labels == ["a", "b"] and a.query_row == 1
    np.testing.assert_allclose(a.result.values[0, :, 0], [2.0, 1.0])
    assert "pinv" in a.heads.note and a.coords.neighbours == ()
    with pytest.raises(AnalysisError, match="not a toy token"):
        Pipeline(tiny_kv).run(Settings(mode="toy", toy=TOY, query="zzz"))
    with pytest.raises(AnalysisError, match="no toy table"):
        Pipeline(tiny_kv).run(Settings(mode="toy"))


# What a person may have set before opening a lesson: none of it may leak into the lesson.
BUSY = Settings(n_heads=3, head_strategy="pca", scoring="cosine", normalization="sparsemax",
                temperature=3.0, causal=True, exclude_self=True, selected_head=2, mode="toy",
                toy=TOY, query="b")


@pytest.mark.parametrize("item", [i for i in LESSONS if i.settings is None], ids=lambda i: i.id)
def test_lesson_settings_reproduce_the_lesson(item, tiny_kv):
    a = Pipeline(tiny_kv).run(lesson_settings(item, BUSY))
    scores = np.atleast_2d(item.expected["scores"])  # (r, n) or (1, n) for a one-query lesson
    row = a.query_row if scores.shape[0] > 1 else 0
    np.testing.assert_allclose(a.result.scores[0, a.query_row], scores[row], rtol=0, atol=1e-9)


def test_resize_toy_pads_and_trims():
    spec = lesson_toy(lesson("cat_sat_mat"))
    bigger = resize_toy(spec, 7, 3)
    assert len(bigger.tokens) == 7 and bigger.tokens[-1] == "t7"
    assert np.shape(bigger.x) == (7, 3) and np.shape(bigger.w_q) == (3, 3)
    np.testing.assert_array_equal(bigger.w_q, np.eye(3))
    smaller = resize_toy(bigger, 2, 2)
    assert smaller.tokens == ("the", "cat") and smaller.x == spec.x[:2]
    assert Settings(mode="toy", toy=smaller, query="cat").toy == smaller


def test_two_dimensional_toy_axes_count_from_one_like_the_rest_of_the_screen():
    from core.inputs import identity_projection

    assert identity_projection(2).labels == ("dimension 1", "dimension 2")
    assert identity_projection(3) is None  # wider toy vectors get a PCA instead
