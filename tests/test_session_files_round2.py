"""A corpus of hostile session files: each gives a one-line SessionError naming the file.

Every case writes a file into ``tmp_path`` and loads it with ``load_session`` in a daemon thread
joined with a timeout (a FIFO used to block forever, ``/dev/zero`` to end in MemoryError). The
error must be a :class:`SessionError` whose message names the file and holds the given
fragments; nothing else (ValueError from Python's digit limit, RecursionError, MemoryError)
may escape. A few more tests cover the remembered settings and the files a session names.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bounded import within
from hostile_files import Writer, file, special

from core.files.session import (
    MAX_SESSION_BYTES,
    SessionError,
    load_session,
    referenced_file_problem,
    save_session,
    session_to_dict,
)
from core.settings import Settings, SettingsError

TIMEOUT = 5.0
GOOD = session_to_dict(Settings())


def document(**changes: Any) -> bytes:
    return json.dumps({**GOOD, **changes}, ensure_ascii=False).encode()


def with_settings(**changes: Any) -> bytes:
    return document(settings={**GOOD["settings"], **changes})


def raw_settings_value(text: str) -> bytes:
    """A session whose ``temperature`` is ``text`` verbatim (JSON json.dumps cannot write)."""
    return with_settings(temperature="@@").replace(b'"@@"', text.encode())


@dataclass(frozen=True)
class Case:
    name: str
    write: Writer
    fragments: tuple[str, ...]


CASES = [
    Case("fifo", special("pipe.aexp.json", os.mkfifo), ("not a regular file",)),
    Case("device", lambda tmp: Path("/dev/zero"), ("not a regular file",)),
    Case("folder", special("dir.aexp.json", Path.mkdir), ("folder",)),
    Case("missing", lambda tmp: tmp / "gone.aexp.json", ("does not exist",)),
    Case("over 1 MB", file("big.aexp.json", b" " * (MAX_SESSION_BYTES + 1)), ("too large",)),
    Case("5,000-digit integer", file("digits.aexp.json", raw_settings_value("9" * 5000)),
         ("5000 digits",)),
    Case("3,000 levels of nesting", file("deep.aexp.json", b"[" * 3000 + b"]" * 3000),
         ("3000 levels",)),
    Case("nesting inside the settings",
         file("deep2.aexp.json", document(view={"a": json.loads("[" * 80 + "]" * 80)})),
         ("levels",)),
    Case("NaN", file("nan.aexp.json", raw_settings_value("NaN")), ("NaN",)),
    Case("Infinity", file("inf.aexp.json", raw_settings_value("-Infinity")), ("Infinity",)),
    Case("1e999", file("huge.aexp.json", raw_settings_value("1e999")), ("1e999",)),
    Case("not UTF-8", file("latin1.aexp.json", document(view={"x": "é"}).replace(
        "é".encode(), b"\xe9")), ("UTF-8", "byte offset")),
    Case("a JSON list", file("list.aexp.json", b"[1, 2]"), ("JSON object",)),
    Case("settings a list", file("slist.aexp.json", document(settings=[1])), ("settings",)),
    Case("unknown field", file("field.aexp.json", with_settings(colour="red")), ("colour",)),
    Case("n_heads text", file("heads.aexp.json", with_settings(n_heads="4")), ("n_heads",)),
    Case("model a number", file("model.aexp.json", with_settings(model=3)), ("model",)),
    Case("toy rows of numbers", file("toy.aexp.json", with_settings(toy={"tokens": 1})),
         ("toy",)),
    Case("view a list", file("view.aexp.json", document(view=[1])), ("'view'",)),
    Case("newer version", file("new.aexp.json", document(version=99)), ("newer",)),
]


def load_in_thread(path: Path) -> Any:
    return within(TIMEOUT, load_session, path)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_session_gives_one_line_naming_the_file(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    outcome = load_in_thread(path)
    assert isinstance(outcome, SessionError), f"{case.name}: {outcome!r}"
    message = str(outcome)
    assert "\n" not in message and len(message) < 400, message
    for fragment in (path.name, *case.fragments):
        assert fragment in message, f"{case.name}: {fragment!r} not in {message!r}"


def test_the_size_limit_is_that_of_a_session() -> None:
    assert MAX_SESSION_BYTES == 1_000_000  # sessions are a few kB; a full toy table tens of kB


def test_a_good_session_with_a_byte_order_mark_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.aexp.json"
    save_session(path, Settings(n_heads=2))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_session(path)[0] == Settings(n_heads=2)


def test_remembered_settings_json_is_bounded_too() -> None:
    for text in ("9" * 5000, "[" * 3000 + "]" * 3000, '{"temperature": NaN}'):
        with pytest.raises(SettingsError):
            Settings.from_json(text)


# ----------------------------------------------------------------------------- named files


def test_files_a_session_names_are_checked_with_the_field(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    folder.mkdir()
    cases = [
        (Settings(vectors_path=str(tmp_path / "gone.txt")), "vectors_path", "does not exist"),
        (Settings(vectors_path=str(folder)), "vectors_path", "is a folder"),
        (Settings(head_strategy="file", heads_file=str(tmp_path / "h.npz")), "heads_file",
         "does not exist"),
        (Settings(head_strategy="file"), "heads_file", "choose an .npz file"),
    ]
    for settings, field, fragment in cases:
        problem = referenced_file_problem(settings, "lesson.aexp.json")
        assert problem is not None and "lesson.aexp.json" in problem
        assert field in problem and fragment in problem, problem
    # A heads file only matters to strategy 'file'; loaded vectors need no file on disk.
    assert referenced_file_problem(Settings(heads_file=str(tmp_path / "h.npz")), "s") is None
    gone = Settings(vectors_path=str(tmp_path / "gone.txt"))
    assert referenced_file_problem(gone, "s", vectors_loaded=True) is None


def test_broken_remembered_settings_say_why(tmp_path: Path) -> None:
    from explorer.persistence import Store

    ini = tmp_path / "settings.ini"
    store = Store(str(ini))
    store._qs.setValue("session/settings_json", '{"version": 1, "n_heads": ' + "9" * 5000 + "}")
    store.sync()
    again = Store(str(ini))
    assert again.settings() is None
    assert again.settings_problem is not None
    assert "settings.ini" in again.settings_problem and "digits" in again.settings_problem
    again.save_settings(Settings(n_heads=2))
    assert again.settings() == Settings(n_heads=2) and again.settings_problem is None


def test_the_window_says_why_the_remembered_settings_were_not_used(tmp_path, open_window, tiny_kv,
                                                                     errors) -> None:
    import main
    from explorer.persistence import Store

    ini = tmp_path / "remembered.ini"
    store = Store(str(ini))
    store._qs.setValue("session/settings_json", '{"version": 1, "n_heads": "many"}')
    store.sync()
    again = Store(str(ini))
    assert again.settings() is None
    window = open_window(tiny_kv)
    main.report_settings_problem(window, again.settings_problem)
    assert errors and "remembered.ini" in errors[-1] and "n_heads" in errors[-1]
    assert "starts from the defaults" in errors[-1]


# ----------------------------------------------------------------------------- killed saves

_SAVER = """
import sys, time
from core.files.atomic import write_atomically
def write(f):
    f.write(b'{"half": ')
    f.flush()
    print("writing", flush=True)
    time.sleep(600)
write_atomically(sys.argv[1], write)
"""


def test_a_save_killed_mid_write_leaves_nothing_after_the_next_save(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    target = tmp_path / "lesson.aexp.json"
    mine = tmp_path / ".lesson.aexp.json.backup.tmp"  # a person's own file, never ours to touch
    mine.write_text("keep")
    os.utime(mine, (1, 1))
    saver = subprocess.Popen([sys.executable, "-c", _SAVER, str(target)], text=True,
                             stdout=subprocess.PIPE, cwd=Path(__file__).parent.parent)
    assert saver.stdout is not None and saver.stdout.readline().strip() == "writing"
    os.kill(saver.pid, signal.SIGKILL)
    saver.wait(timeout=TIMEOUT)
    assert len(list(tmp_path.glob(".lesson.aexp.json.*.tmp"))) == 2
    save_session(target, Settings(n_heads=2))
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name, target.name]
    assert load_session(target)[0] == Settings(n_heads=2)


# ----------------------------------------------------------------------------- in the window


def test_the_window_names_session_and_field_for_a_missing_heads_file(open_window, tiny_kv,
                                                                     tmp_path, errors):
    window = open_window(tiny_kv)
    session = tmp_path / "heads.aexp.json"
    gone = tmp_path / "trained_heads.npz"
    save_session(session, Settings(head_strategy="file", heads_file=str(gone), n_heads=1))
    before = window.state.settings
    assert not window.sessions.open(str(session))
    assert len(errors) == 1 and "heads.aexp.json" in errors[0]
    assert "heads_file" in errors[0] and "trained_heads.npz" in errors[0]
    assert window.state.settings == before


def test_a_vectors_path_that_is_not_utf8_round_trips_through_a_session(tmp_path):
    import os

    from core.files.session import load_session, save_session
    from core.settings import Settings

    name = os.fsdecode(b"vec\xff.txt")  # a valid file name on Linux, not UTF-8
    vectors = tmp_path / name
    vectors.write_text("2 2\na 1 0\nb 0 1\n")
    session = tmp_path / "s.json"
    save_session(session, Settings(vectors_path=str(vectors)))  # raised UnicodeEncodeError
    settings, _view = load_session(session)
    assert settings.vectors_path == str(vectors) and os.path.isfile(settings.vectors_path)
    assert Settings.from_json(Settings(vectors_path=str(vectors)).to_json()).vectors_path == \
        str(vectors)
