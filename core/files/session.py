"""Sessions: the settings plus a little view state, saved as versioned JSON.

A session file looks like::

    {"format": "attention-explorer-session", "version": 1,
     "settings": {... Settings.to_dict() ...}, "view": {... free-form, JSON-ready ...}}

``settings`` is everything that decides the maths (validated by :class:`Settings`); ``view`` is
what the window wants back (selected tab, zoom, ...) and is not interpreted here. Loading checks
the whole file before returning, so a bad file changes nothing; saving is atomic, so a failed save
never destroys the previous session.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from core.files.atomic import write_atomically
from core.settings import Settings, SettingsError

SESSION_FORMAT = "attention-explorer-session"
SESSION_VERSION = 1
SESSION_SUFFIX = ".aexp.json"
MAX_SESSION_BYTES = 10_000_000  # a session is a few kB; refuse to parse something huge


class SessionError(ValueError):
    """A session file that cannot be used; the message names the file and what is wrong."""


def session_to_dict(settings: Settings, view: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-ready session document for ``settings`` and ``view``."""
    return {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "settings": settings.to_dict(),
        "view": dict(view or {}),
    }


def save_session(
    path: str | os.PathLike[str], settings: Settings, view: dict[str, Any] | None = None
) -> None:
    """Write a session file (atomically).

    Parameters
    ----------
    path
        Where to write; the folder must exist.
    settings
        The settings to restore later.
    view
        Optional JSON-ready view state (plain dicts, lists, strings, numbers, booleans, None).

    Raises
    ------
    SessionError
        ``view`` holds something JSON cannot store (the file is not touched).
    core.files.atomic.ExportError
        The file could not be written (missing folder, permission, disk full).
    """
    try:
        text = json.dumps(
            session_to_dict(settings, view), indent=2, ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as error:
        raise SessionError(f"Cannot save session {Path(path).name}: view state {error}") from None
    write_atomically(path, text + "\n")


def load_session(path: str | os.PathLike[str]) -> tuple[Settings, dict[str, Any]]:
    """Read a session file written by :func:`save_session`.

    Returns
    -------
    (Settings, dict)
        The settings and the view state (an empty dict if the file had none).

    Raises
    ------
    SessionError
        The file is missing or unreadable, not JSON, not a session, from a newer version, or
        holds settings that are invalid; the message names the file and the problem.
    """
    return session_from_text(_read_text(Path(path)), Path(path).name)


def session_from_text(text: str, name: str = "session") -> tuple[Settings, dict[str, Any]]:
    """Parse and validate session JSON ``text``; ``name`` is used in error messages."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SessionError(
            f"{name} is not a session file: not valid JSON "
            f"(line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    return _settings_and_view(_check_header(data, name), name)


def _read_text(path: Path) -> str:
    name = path.name
    try:
        if path.stat().st_size > MAX_SESSION_BYTES:
            raise SessionError(f"{name} is too large to be a session file.")
        return path.read_text(encoding="utf-8-sig")  # -sig: tolerate a BOM from Windows editors
    except FileNotFoundError:
        raise SessionError(f"Session file {path} does not exist.") from None
    except IsADirectoryError:
        raise SessionError(f"{path} is a folder, not a session file.") from None
    except UnicodeDecodeError:
        raise SessionError(f"{name} is not a session file: it is not UTF-8 text.") from None
    except OSError as error:
        raise SessionError(f"Cannot read session {path}: {error.strerror or error}.") from None


def _check_header(data: Any, name: str) -> dict[str, Any]:
    """The session dict, after checking its format name and version."""
    if not isinstance(data, dict):
        raise SessionError(f"{name} is not a session file: expected a JSON object.")
    if data.get("format") != SESSION_FORMAT:
        found = data.get("format")
        raise SessionError(
            f"{name} is not an Attention Explorer session: format is {found!r}, "
            f"expected {SESSION_FORMAT!r}."
        )
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SessionError(f"{name}: the session has no valid 'version' (got {version!r}).")
    if version > SESSION_VERSION:
        raise SessionError(
            f"{name} was saved by a newer Attention Explorer (session version {version}; "
            f"this one reads up to {SESSION_VERSION}). Update the program to open it."
        )
    return data


def _settings_and_view(data: dict[str, Any], name: str) -> tuple[Settings, dict[str, Any]]:
    if "settings" not in data:
        raise SessionError(f"{name}: the session has no 'settings'.")
    try:
        settings = Settings.from_dict(data["settings"])
    except SettingsError as error:
        raise SessionError(f"{name}: invalid settings: {error}.") from None
    view = data.get("view")
    if view is None:
        view = {}
    if not isinstance(view, dict):
        raise SessionError(f"{name}: 'view' must be a JSON object, got {type(view).__name__}.")
    return settings, view
