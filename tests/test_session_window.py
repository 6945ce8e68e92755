"""Sessions through the real window: save, change things, open, everything is back; a bad file
changes nothing; a session naming other vectors loads them first."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtGui import QKeySequence

from core.files.session import SESSION_FORMAT, load_session, save_session
from core.settings import Settings
from explorer.commands import export_dialogs

WORDS = "the animal was not swimming in sea because it running on street .".split()


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv)


@pytest.fixture
def choose(monkeypatch):
    """The session file dialogs answer with ``choose.path``; ``choose.asked`` counts the asks."""
    state = type("Choose", (), {"path": None, "asked": 0})

    def answer(_parent, _start):  # noqa: ANN001, ANN202
        state.asked += 1
        return state.path

    monkeypatch.setattr(export_dialogs, "choose_session_to_save", answer)
    monkeypatch.setattr(export_dialogs, "choose_session_to_open", answer)
    return state


def combo(box, name: str) -> None:  # noqa: ANN001
    box.setCurrentIndex(box.findData(name))


def test_round_trip_restores_everything(window, choose, tmp_path, errors):
    c, s = window.controls, window.sessions
    window.top_bar.query_edit.setText("sea")
    window.top_bar.query_edited.emit("sea")
    c.n_heads.setValue(2)
    combo(c.scoring, "cosine")
    c.temperature.setValue(2.5)
    c.causal.setChecked(True)
    combo(c.projection, "pca_view")
    window.controller.flush()
    window.heatmaps.cell_clicked.emit(7, 2)  # query "sea" (position 7), inspect key 2
    window.heatmaps.head_selected.emit(1)
    window.tabs.setCurrentIndex(1)  # Lines
    window.controller.flush()
    saved, inspected = window.state.settings, window.state.inspected_col
    assert (saved.n_heads, saved.selected_head, saved.query, inspected) == (2, 1, "sea", 2)
    choose.path = str(tmp_path / "mine.aexp.json")
    s.save_action.trigger()  # no file yet: Save asks where (Save as)
    assert choose.asked == 1 and errors == []
    assert load_session(choose.path)[0] == saved
    assert "mine.aexp.json" in window.windowTitle()

    window.edits.reset_settings()
    window.state.set_inspected_col(None)
    window.tabs.setCurrentIndex(0)
    window.controller.flush()
    assert window.state.settings == Settings() and window.state.inspected_col is None
    s.open_action.trigger()
    window.controller.flush()
    assert window.state.settings == saved and window.state.inspected_col == inspected
    assert window.tabs.currentIndex() == 1
    assert c.n_heads.value() == 2 and c.causal.isChecked() and c.temperature.value() == 2.5
    assert c.scoring.currentData() == "cosine" and c.projection.currentData() == "pca_view"
    assert window.top_bar.query_edit.text() == "sea"
    a = window.controller.analysis
    assert a.settings == saved and a.weights.shape[0] == 2 and a.query.text == "sea"
    assert errors == []


def test_ctrl_s_saves_back_to_the_same_file(window, choose, tmp_path):
    s = window.sessions
    assert s.save_action.shortcut() == QKeySequence("Ctrl+S")
    choose.path = str(tmp_path / "one.aexp.json")
    s.save_as_action.trigger()
    window.controls.n_heads.setValue(3)
    s.save_action.trigger()
    assert choose.asked == 1  # the second save did not ask
    assert load_session(tmp_path / "one.aexp.json")[0].n_heads == 3


BAD_SESSIONS = {
    "not JSON": "{ this is not json",
    "newer": json.dumps({"format": SESSION_FORMAT, "version": 999, "settings": {}}),
    "bad value": json.dumps({"format": SESSION_FORMAT, "version": 1,
                             "settings": {**Settings().to_dict(), "temperature": -1}}),
    "not a session": json.dumps({"format": "something else", "version": 1}),
}


@pytest.mark.parametrize("kind", list(BAD_SESSIONS))
def test_a_bad_session_changes_nothing(window, choose, tmp_path, errors, qtbot, kind):
    window.controls.n_heads.setValue(2)
    window.controller.flush()
    before, analysis = window.state.settings, window.controller.analysis
    title = window.windowTitle()
    path = tmp_path / "bad.aexp.json"
    path.write_text(BAD_SESSIONS[kind], encoding="utf-8")
    choose.path = str(path)
    with qtbot.assertNotEmitted(window.state.changed):
        window.sessions.open_action.trigger()
    window.controller.flush()
    assert len(errors) == 1 and "bad.aexp.json" in errors[0]
    if kind == "newer":
        assert "newer" in errors[0]
    assert window.state.settings == before and window.controller.analysis is analysis
    assert window.windowTitle() == title and not window.loader.busy


def test_a_session_with_other_vectors_loads_them_first(window, qtbot, tmp_path, errors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(6)
    kv.add_vectors(WORDS, np.random.default_rng(2).standard_normal((len(WORDS), 6)))
    vectors = tmp_path / "six.txt"
    kv.save_word2vec_format(str(vectors))
    wanted = Settings(vectors_path=str(vectors), query="sea", n_heads=3, temperature=1.5)
    session = tmp_path / "other.aexp.json"
    save_session(session, wanted, {"tabs": {"Heatmaps|Lines": "Lines"}})
    with qtbot.waitSignal(window.loader.loaded, timeout=20000):
        assert window.sessions.open(str(session))
        assert window.sessions.waiting
        assert window.state.settings.n_heads == 4  # nothing applied before the vectors arrive
    window.controller.flush()
    assert window.state.kv.vector_size == 6 and window.state.settings == wanted
    assert window.controller.analysis.weights.shape[0] == 3
    assert window.tabs.currentIndex() == 1 and errors == []
    qtbot.waitUntil(lambda: not window.loader._jobs, timeout=5000)


def test_a_session_whose_vectors_are_gone_changes_nothing(window, tmp_path, errors):
    session = tmp_path / "gone.aexp.json"
    save_session(session, Settings(vectors_path=str(tmp_path / "deleted.txt"), n_heads=1))
    before = window.state.settings
    assert not window.sessions.open(str(session))
    assert "deleted.txt" in errors[0] and window.state.settings == before
    assert not window.loader.busy
