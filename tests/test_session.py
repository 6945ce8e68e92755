"""Sessions: versioned JSON of settings and view state; a bad file raises, changes nothing."""

from __future__ import annotations

import json

import pytest

from core.files.atomic import ExportError
from core.files.session import (
    SESSION_FORMAT,
    SESSION_VERSION,
    SessionError,
    load_session,
    save_session,
    session_from_text,
)
from core.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(
        sentence="the cat sat on the mat",
        query="sat",
        n_heads=2,
        temperature=0.5,
        causal=True,
        head_axes=(("drink", "eat"),),
    )


def test_round_trip_with_view_state(tmp_path, settings):
    path = tmp_path / "lesson.json"
    view = {"tab": "heatmaps", "zoom": 1.5, "splitter": [300, 500], "note": "ünïcode"}
    save_session(path, settings, view)
    loaded, loaded_view = load_session(path)
    assert loaded == settings
    assert loaded_view == view


def test_file_layout_is_versioned(tmp_path, settings):
    path = tmp_path / "s.json"
    save_session(str(path), settings)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == SESSION_FORMAT == "attention-explorer-session"
    assert data["version"] == SESSION_VERSION == 1
    assert data["settings"] == settings.to_dict()
    assert data["view"] == {}
    assert load_session(path) == (settings, {})


def test_missing_view_and_bom_are_tolerated(tmp_path, settings):
    path = tmp_path / "hand_written.json"
    document = {"format": SESSION_FORMAT, "version": 1, "settings": settings.to_dict()}
    path.write_text("\ufeff" + json.dumps(document), encoding="utf-8")
    assert load_session(path) == (settings, {})


def _document(**changes):  # noqa: ANN003, ANN202
    document = {"format": SESSION_FORMAT, "version": 1, "settings": Settings().to_dict()}
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not ...})


BAD_SETTINGS = {**Settings().to_dict(), "n_heads": 0}
UNKNOWN_FIELD = {**Settings().to_dict(), "colour": "red"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        # Cut off mid-string: the place is said, and that the file may be cut off (the message
        # ended "Unterminated string starting at." with no place).
        (_document()[:60], "Unterminated string starting at line 1, column 56 (the text ends"),
        ("[1, 2, 3]", "expected a JSON object"),
        (_document(format="something-else"), "not an Attention Explorer session"),
        (_document(format=...), "not an Attention Explorer session"),
        (_document(settings=...), "no 'settings'"),
        (_document(settings=BAD_SETTINGS), "n_heads must be at least 1"),
        (_document(settings=UNKNOWN_FIELD), "unknown settings field"),
        (_document(settings="defaults"), "invalid settings"),
        (_document(version=SESSION_VERSION + 1), "newer Attention Explorer"),
        (_document(version="1"), "no valid 'version'"),
        (_document(view=[1, 2]), "'view' must be a JSON object"),
    ],
)
def test_malformed_files_raise_a_clear_session_error(tmp_path, text, problem):
    path = tmp_path / "broken_session.json"
    path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert "broken_session.json" in str(info.value)
    assert problem in str(info.value)
    assert path.read_bytes() == before


def test_session_error_is_a_value_error():
    assert issubclass(SessionError, ValueError)
    with pytest.raises(ValueError, match="pasted"):
        session_from_text("nope", "pasted")


def test_missing_or_undecodable_file(tmp_path):
    with pytest.raises(SessionError, match="does not exist"):
        load_session(tmp_path / "absent.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(SessionError, match="not UTF-8"):
        load_session(tmp_path / "binary.json")
    with pytest.raises(SessionError, match="is a folder"):
        load_session(tmp_path)


def test_unserialisable_view_raises_before_touching_the_file(tmp_path, settings):
    path = tmp_path / "s.json"
    save_session(path, settings)
    before = path.read_bytes()
    with pytest.raises(SessionError, match="view state"):
        save_session(path, Settings(), {"bad": object()})
    with pytest.raises(SessionError):
        save_session(path, Settings(), {"bad": float("nan")})
    assert path.read_bytes() == before


def test_failed_save_keeps_the_previous_session(tmp_path, settings, monkeypatch):
    import os

    path = tmp_path / "s.json"
    save_session(path, settings)
    before = path.read_bytes()

    def refuse(src, dst):  # noqa: ANN001, ANN202
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ExportError, match="permission denied"):
        save_session(path, Settings())
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]
    with pytest.raises(ExportError, match="does not exist"):
        save_session(tmp_path / "missing" / "s.json", settings)
