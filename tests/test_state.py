"""The explorer state with no views: what changes, and how often it says so."""

from __future__ import annotations

import pytest

from core.settings import Settings, SettingsError
from explorer.state import (
    INSPECTED_COL,
    VECTORS,
    ExplorerState,
    LastFolder,
    default_toy,
    head_or_mean,
)


@pytest.fixture
def state(qapp):
    return ExplorerState()


def record(state: ExplorerState) -> list[frozenset[str]]:
    calls: list[frozenset[str]] = []
    state.changed.connect(calls.append)
    return calls


def test_update_emits_the_changed_fields_once(state):
    calls = record(state)
    names = state.update(temperature=2.0, causal=True)
    assert names == {"temperature", "causal"}
    assert calls == [frozenset({"temperature", "causal"})]
    assert state.settings.temperature == 2.0 and state.settings.causal


def test_a_batch_emits_once_with_the_union(state):
    calls = record(state)
    with state.batch():
        state.update(temperature=0.5)
        state.update(n_heads=2)
        with state.batch():  # nested batches still emit once, at the outermost end
            state.update(scoring="dot")
        assert calls == []
    assert calls == [frozenset({"temperature", "n_heads", "scoring"})]


def test_unchanged_values_emit_nothing(state):
    calls = record(state)
    assert state.update(temperature=state.settings.temperature) == set()
    with state.batch():
        state.update(scoring=state.settings.scoring)
    assert calls == []


def test_a_rejected_value_changes_nothing(state):
    calls = record(state)
    before = state.settings
    with pytest.raises(SettingsError):
        state.update(temperature=0.0)
    with pytest.raises(SettingsError):
        state.update(no_such_field=1)
    assert state.settings == before and calls == []


def test_new_query_word_forgets_the_occurrence(state):
    state.update(query="the", query_index=6)
    assert state.settings.query_index == 6
    state.update(query="sea")
    assert state.settings.query_index is None


def test_fewer_heads_than_the_selected_one_falls_back_to_the_mean(state):
    state.update(n_heads=4, selected_head=3)
    state.update(n_heads=2)
    assert state.settings.selected_head is None


def test_inspected_column_is_reset_by_a_new_sentence(state):
    calls = record(state)
    state.set_inspected_col(3)
    assert state.inspected_col == 3 and calls[-1] == frozenset({INSPECTED_COL})
    state.update(sentence="A cat sat on the mat.")
    assert state.inspected_col is None


def test_set_vectors_is_one_change_with_the_path(state, tiny_kv):
    calls = record(state)
    state.set_vectors(tiny_kv, "/tmp/tiny.txt")
    assert state.kv is tiny_kv and state.settings.vectors_path == "/tmp/tiny.txt"
    assert calls == [frozenset({VECTORS, "vectors_path"})]


def test_set_settings_replaces_everything(state):
    calls = record(state)
    state.set_settings(Settings(sentence="I drink water", query="drink", n_heads=1))
    assert calls == [frozenset({"sentence", "query", "n_heads"})]


def test_the_shown_head_is_the_selected_one_while_it_exists(state):
    assert head_or_mean(None, 4) is None and head_or_mean(3, 4) == 3 and head_or_mean(4, 4) is None
    state.update(n_heads=4, selected_head=2)
    assert state.shown_head(4) == 2
    assert state.shown_head(1) is None  # e.g. the identity strategy: one head, the mean shown


def test_word_mode_query_comes_back_after_another_mode(state):
    state.update(query="sea")
    state.update(**state.mode_switch("toy"))
    assert state.settings.mode == "toy" and state.settings.toy == default_toy()
    assert state.settings.query == default_toy().tokens[0]  # a query the toy table has
    assert state.words_query == "sea"
    state.update(**state.mode_switch("words"))
    assert (state.settings.mode, state.settings.query) == ("words", "sea")


def test_switching_to_the_current_mode_keeps_the_query(state):
    state.update(query="sea")
    state.update(**state.mode_switch("words"))
    assert state.settings.query == "sea"


def test_toy_words_in_sentence_mode_start_from_the_default_table(state):
    assert state.settings.toy is None
    state.update(mode="sentences", sentences_use_toy=True)
    assert state.settings.toy == default_toy()


def test_last_folder_is_where_the_last_file_was(tmp_path):
    folder = LastFolder(str(tmp_path))
    assert folder.path == str(tmp_path)
    folder.remember(str(tmp_path / "sub" / "figure.png"))
    assert folder.path == str(tmp_path / "sub")
