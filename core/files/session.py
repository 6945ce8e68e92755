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
import stat
from pathlib import Path
from typing import Any

from core.bounded_json import JsonLimitError, parse_json
from core.files.atomic import write_atomically
from core.settings import Settings, SettingsError
from core.vectors.printable import is_valid_unicode

SESSION_FORMAT = "attention-explorer-session"
SESSION_VERSION = 1
SESSION_SUFFIX = ".aexp.json"
# A session is a few kB (a full toy table adds tens); anything past this is not one, and reading
# it whole would only cost memory (a device such as /dev/zero never ends at all).
MAX_SESSION_BYTES = 1_000_000


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
        data = session_to_dict(settings, view)
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
        if not text.isascii() and not is_valid_unicode(text):
            # A path whose name is not UTF-8 (its bytes surrogate-escaped by Python): \udcXX
            # escapes keep it exact, so the session still opens that file.
            text = json.dumps(data, indent=2, ensure_ascii=True, allow_nan=False)
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
        data = parse_json(text)
    except JsonLimitError as error:
        raise SessionError(f"{name} is not a session file: {error}.") from None
    return _settings_and_view(_check_header(data, name), name)


def _read_text(path: Path) -> str:
    """The file's text, read only if it is a regular file of at most `MAX_SESSION_BYTES`."""
    name = path.name
    try:
        return _decode(_read_bounded(path), name)
    except FileNotFoundError:
        raise SessionError(f"Session file {path} does not exist.") from None
    except IsADirectoryError:
        raise SessionError(f"{path} is a folder, not a session file.") from None
    except OSError as error:
        raise SessionError(f"Cannot read session {path}: {error.strerror or error}.") from None


def _read_bounded(path: Path) -> bytes:
    """Open without blocking (a FIFO would wait for a writer forever), then check what it is
    on the open descriptor, so the file cannot be swapped between the check and the read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(str(path))
        if not stat.S_ISREG(info.st_mode):
            raise SessionError(f"{path.name} is not a regular file (a pipe, device or socket); "
                               "a session is a .aexp.json file.")
        data = stream.read(MAX_SESSION_BYTES + 1)  # + 1: a file that grew since fstat
    if max(info.st_size, len(data)) > MAX_SESSION_BYTES:
        size = max(info.st_size, len(data))
        raise SessionError(f"{path.name} is too large to be a session file ({size:,} bytes; "
                           f"sessions are at most {MAX_SESSION_BYTES:,}).")
    return data


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")  # -sig: tolerate a BOM from Windows editors
    except UnicodeDecodeError as error:
        raise SessionError(f"{name} is not a session file: it is not UTF-8 text "
                           f"(byte offset {error.start}).") from None


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


def referenced_file_problem(settings: Settings, name: str, *,
                            vectors_loaded: bool = False) -> str | None:
    """Why a file the session names cannot be used, or None: checked when the session is
    opened, so the message names the session and the field rather than surfacing later as a
    failed vector load or head computation. ``heads_file`` matters only for strategy 'file';
    ``vectors_path`` not when those vectors are already loaded (``vectors_loaded``)."""
    named = [] if vectors_loaded else [("vectors_path", settings.vectors_path)]
    if settings.head_strategy == "file":
        named.append(("heads_file", settings.heads_file))
    for field_name, target in named:
        if target is None:
            if field_name == "heads_file":
                return f"{name}: head strategy 'file' has no heads_file (choose an .npz file)."
            continue
        try:
            mode = os.stat(target).st_mode
        except OSError as error:
            reason = "does not exist (any more)" if isinstance(error, FileNotFoundError) \
                else f"cannot be read ({error.strerror or error})"
            return f"{name}: {field_name} {target} {reason}."
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            return f"{name}: {field_name} {target} is {kind}."
    return None
