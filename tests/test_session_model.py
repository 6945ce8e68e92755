"""A session that shows a trained model opens that model before anything is applied: a missing
or broken model folder changes nothing (real window, offscreen, the tiny committed BERT)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from qt_helpers import TINY_BERT, open_tiny_model

from core.files.session import load_session, save_session

TEXT = "The animal was not swimming in the sea because it was running"


@pytest.fixture
def window(open_window, tiny_kv, qtbot):
    window = open_window(tiny_kv, size=(1400, 900))
    open_tiny_model(window, qtbot, TEXT)
    return window


def broken_copy(tmp_path: Path) -> Path:
    """The tiny BERT with a config.json that lacks type_vocab_size."""
    folder = tmp_path / "broken-bert"
    shutil.copytree(TINY_BERT, folder)
    config = json.loads((folder / "config.json").read_text())
    del config["type_vocab_size"]
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def session_with_model(window, tmp_path: Path, folder: Path) -> Path:
    """The window's session, with another temperature and sentence, showing ``folder``."""
    from dataclasses import replace

    s = window.state.settings
    wanted = s.updated(temperature=3.5, sentence="it was running",
                       model=replace(s.model, path=str(folder), layer=0))
    path = tmp_path / "other-model.aexp.json"
    save_session(path, wanted)
    return path


@pytest.mark.parametrize("kind", ["broken", "missing"])
def test_a_session_whose_model_does_not_open_changes_nothing(window, qtbot, tmp_path, errors,
                                                              kind):
    folder = broken_copy(tmp_path) if kind == "broken" else tmp_path / "gone-bert"
    session = session_with_model(window, tmp_path, folder)
    before, title = window.state.settings, window.windowTitle()
    summary = window.model_controls.summary.text()
    bundled_offered = window.model_controls.bundled_button.isEnabled()
    window.sessions.open(str(session))
    qtbot.waitUntil(lambda: bool(errors) and not window.sessions.waiting, timeout=20000)
    window.controller.flush()
    assert window.state.settings == before  # no temperature, sentence or model path applied
    assert window.state.transformer_path == TINY_BERT
    assert window.model_controls.summary.text() == summary
    assert window.model_controls.bundled_button.isEnabled() == bundled_offered
    assert window.windowTitle() == title
    assert str(folder) in errors[-1] or folder.name in errors[-1]
    if kind == "broken":
        assert "type_vocab_size" in errors[-1]
    message = window.status.message.text()
    assert "other-model.aexp.json not opened" in message and folder.name in message


def test_a_session_with_another_model_opens_it_then_applies(window, qtbot, tmp_path, errors):
    folder = tmp_path / "copy-bert"
    shutil.copytree(TINY_BERT, folder)
    session = session_with_model(window, tmp_path, folder)
    wanted, _ = load_session(session)
    window.sessions.open(str(session))
    assert window.sessions.waiting and window.state.settings.temperature != 3.5
    qtbot.waitUntil(lambda: not window.sessions.waiting, timeout=20000)
    window.controller.flush()
    assert window.state.settings == wanted and window.state.transformer_path == str(folder)
    assert window.controller.analysis.model.layer == 0 and errors == []
