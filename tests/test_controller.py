"""The controller with fake views: plain objects that record every ``set_*`` call."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from core.settings import Settings
from explorer.controller import Controller, Views
from explorer.state import ExplorerState


class FakeView:
    """Records ``set_*`` calls by name: ``view.calls["set_data"] == [args, ...]``, and their
    keyword arguments in ``view.keywords["set_data"] == [kwargs, ...]``."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.keywords: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("set_"):
            raise AttributeError(name)

        def record(*args: Any, **kwargs: Any) -> None:
            self.calls[name].append(args)
            self.keywords[name].append(kwargs)

        return record

    def count(self) -> int:
        return sum(len(v) for v in self.calls.values())


@pytest.fixture
def setup(qapp, tiny_kv):
    state = ExplorerState(Settings(projection="pca_view"))
    views = Views(FakeView(), FakeView(), FakeView(), FakeView())
    controller = Controller(state, views)
    failures: list[tuple[str, str]] = []
    controller.failed.connect(lambda message, field: failures.append((message, field)))
    state.set_vectors(tiny_kv, None)
    controller.flush()
    return state, views, controller, failures


def test_first_result_reaches_every_view(setup):
    state, views, controller, failures = setup
    assert not failures
    (tokens,) = views.tokens.calls["set_tokens"][0]
    assert [t.text for t in tokens][:3] == ["The", "animal", "was"]
    rows, cols, weights, query_row, inspected = views.heatmaps.calls["set_data"][-1]
    assert weights.shape == (4, len(cols), len(cols)) and cols[query_row] == "it"
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
    assert inspected is None
    assert views.lines.calls["set_data"][-1][2] is weights  # one array for both views,
    assert not weights.flags.writeable  # which nobody can change under them
    np.testing.assert_array_equal(weights, controller.analysis.weights)
    latent = views.latent.calls["set_data"][-1]
    assert latent[0].shape == (len(cols), 2) and latent[3] == "it" and latent[-1] is None
    weights_shown, position = views.tokens.calls["set_weights"][-1]
    np.testing.assert_allclose(weights_shown, weights[:, query_row].mean(axis=0), rtol=1e-6)
    assert position == query_row
    # The mean over heads is the analysis's own, computed once, not once per view.
    assert views.heatmaps.keywords["set_data"][-1]["mean"] is controller.analysis.mean_weights


def test_a_burst_of_changes_is_one_recompute(setup, qtbot):
    state, views, controller, _ = setup
    before = len(views.heatmaps.calls["set_data"])
    for t in (0.5, 0.7, 0.9, 1.1):
        state.update(temperature=t)
    assert len(views.heatmaps.calls["set_data"]) == before  # nothing yet: coalescing
    qtbot.waitUntil(lambda: len(views.heatmaps.calls["set_data"]) == before + 1, timeout=2000)
    qtbot.wait(40)
    assert len(views.heatmaps.calls["set_data"]) == before + 1
    assert controller.analysis.settings.temperature == 1.1


def test_selecting_a_head_reuses_the_analysis(setup):
    state, views, controller, _ = setup
    analysis = controller.analysis
    data_calls = len(views.heatmaps.calls["set_data"])
    state.update(selected_head=2)
    controller.flush()
    assert controller.analysis is analysis  # no recompute for a display-only change
    assert len(views.heatmaps.calls["set_data"]) == data_calls
    assert views.heatmaps.calls["set_selected_head"][-1] == (2,)
    assert views.lines.calls["set_selected_head"][-1] == (2,)
    assert views.latent.calls["set_data"][-1][-1] == 2
    weights_shown, _ = views.tokens.calls["set_weights"][-1]
    np.testing.assert_allclose(weights_shown, analysis.query_weights[2])


def test_the_strip_is_handed_the_tokens_of_each_result(setup):
    """(The strip itself keeps its chips for the tokens it shows: test_views.)"""
    state, views, controller, _ = setup
    state.update(n_heads=2)
    controller.flush()
    first = views.tokens.calls["set_tokens"][-1][0]
    assert [t.text for t in first] == [t.text for t in controller.analysis.sentence.tokens]
    assert views.heatmaps.calls["set_data"][-1][2].shape[0] == 2
    state.update(sentence="The cat sat on the mat.", query="cat")
    controller.flush()
    shown = [t.text for t in views.tokens.calls["set_tokens"][-1][0]]
    assert shown == ["The", "cat", "sat", "on", "the", "mat", "."]


def test_an_error_keeps_the_last_good_views(setup):
    state, views, controller, failures = setup
    good, calls = controller.analysis, views.heatmaps.count()
    state.update(query="zzzunknownword")
    controller.flush()
    assert failures and failures[-1][1] == "query"
    assert controller.analysis is good and views.heatmaps.count() == calls
    state.update(sentence="xyzzy plugh")
    controller.flush()
    assert failures[-1][1] == "sentence"


def test_after_an_error_a_head_change_still_reports_it(setup):
    state, views, controller, failures = setup
    updates: list[object] = []
    controller.updated.connect(updates.append)
    state.update(query="zzzunknownword")
    controller.flush()
    state.update(selected_head=1)  # display-only, but the settings are still bad
    controller.flush()
    assert len(failures) == 2 and not updates
    state.update(query="sea")
    controller.flush()
    rows, _cols, _weights, query_row, _inspected = views.heatmaps.calls["set_data"][-1]
    assert updates and rows[query_row] == "sea"


def test_inspected_column_reaches_the_heatmaps(setup):
    state, views, controller, _ = setup
    state.set_inspected_col(2)
    controller.flush()
    assert views.heatmaps.calls["set_data"][-1][4] == 2


def test_nothing_happens_without_vectors(qapp):
    state = ExplorerState()
    views = Views(FakeView(), FakeView(), FakeView(), FakeView())
    controller = Controller(state, views)
    state.update(temperature=3.0)
    controller.flush()
    assert controller.analysis is None and all(v.count() == 0 for v in vars(views).values()
                                               if v is not None)
