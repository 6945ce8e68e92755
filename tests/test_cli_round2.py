"""The command line as a shell sees it: `python main.py ...` run for real, its exit status, and a
stderr that is exactly one ``error:`` line or ``warning:`` lines, with no file left on error.

Covers what reached the command line wrongly: the vector file's warnings, empty option values,
messages that blamed the wrong thing (/proc, long names, text that is not UTF-8, --screenshot),
Qt's and NumPy's noise, NaN written as null, --heads past the vectors' width, the heads file,
and a window asked for where there is no display.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DIM = 6
WORDS = "the cat sat on mat it was not swimming in sea".split()


def vector_lines(words: list[str], rng_seed: int = 1) -> list[str]:
    rows = np.random.default_rng(rng_seed).standard_normal((len(words), DIM))
    return [f"{word} " + " ".join(f"{x:.5f}" for x in row)
            for word, row in zip(words, rows, strict=True)]


@pytest.fixture
def vectors(tmp_path) -> Path:
    path = tmp_path / "vectors.txt"
    path.write_text(f"{len(WORDS)} {DIM}\n" + "\n".join(vector_lines(WORDS)) + "\n")
    return path


@pytest.fixture
def out(tmp_path) -> Path:
    """An empty folder for the outputs, so "nothing was written" can be checked."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def run_main(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python main.py args` offscreen, with its own settings and cache (unless env says)."""
    base = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYQTGRAPH_QT_LIB": "PySide6",
            "ATTENTION_EXPLORER_SETTINGS": str(home / "settings.ini"),
            "XDG_CACHE_HOME": str(home / "cache")}
    base.update(env)
    base = {k: v for k, v in base.items() if v != "<unset>"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=home,
                          env=base, capture_output=True, text=True, errors="replace",
                          timeout=300)


def error_of(result: subprocess.CompletedProcess[str]) -> str:
    """Exit status 2 and stderr exactly one "error: ..." line; returns that line."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def warnings_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Exit status 0 and every stderr line a "warning: ..." line; returns them."""
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("warning: ") for line in lines), result.stderr
    return lines


def base_args(vectors: Path) -> list[str]:
    return ["--vectors", str(vectors), "--sentence", "the cat sat on the mat", "--query", "sat",
            "--heads", "2"]


# ------------------------------------------------------------------ warnings reach the shell


def test_the_vector_files_warnings_reach_stderr_and_the_json(tmp_path, out):
    odd = tmp_path / "odd.txt"
    lines = vector_lines(["cat", "sat", "mat"]) + [vector_lines(["cat"], 2)[0],
                                                   "zero " + " ".join(["0"] * DIM),
                                                   vector_lines(["the mat"], 3)[0]]
    odd.write_text(f"{len(lines)} {DIM}\n" + "\n".join(lines) + "\n")
    data = out / "a.json"
    result = run_main(["--vectors", str(odd), "--sentence", "cat sat mat", "--query", "cat",
                       "--heads", "1", "--export-data", str(data)], tmp_path)
    said = warnings_of(result)
    written = json.loads(data.read_text("utf-8"))["warnings"]
    for topic in ("repeated words", "all-zero vectors", "contain spaces"):
        assert any(topic in line for line in said), said
        assert any(topic in warning for warning in written), written


# ------------------------------------------------------------------ empty values


@pytest.mark.parametrize("option", ["--export", "--export-data", "--vectors", "--session",
                                    "--size", "--model", "--screenshot", "--heads-file",
                                    "--query"])
def test_an_empty_value_is_an_error(tmp_path, out, option):
    result = run_main([option, ""], out)
    assert f"{option} needs a value" in error_of(result)
    assert sorted(p.name for p in out.iterdir()) == []  # no window, no file, no settings


# ------------------------------------------------------------------ messages that are true


def test_proc_is_not_a_regular_folder(tmp_path, vectors):
    message = error_of(run_main([*base_args(vectors), "--export-data", "/proc/a.json"], tmp_path))
    assert "/proc is not a regular folder" in message and "does not exist" not in message


def test_a_name_too_long_is_said_not_a_traceback(tmp_path, vectors, out):
    name = str(out / ("n" * 300 + ".json"))
    message = error_of(run_main([*base_args(vectors), "--export-data", name], tmp_path))
    assert "name too long" in message and "305 bytes" in message
    assert list(out.iterdir()) == []


def test_a_sentence_with_a_byte_that_is_not_utf8_is_written(tmp_path, vectors, out):
    data = out / "a.json"
    sentence = "the cat sat \udcff on the mat"  # the shell passed the byte 0xff
    result = run_main([*base_args(vectors), "--sentence", sentence, "--export-data", str(data)],
                      tmp_path)
    said = warnings_of(result)
    assert not any("Cannot write" in line for line in said)
    written = json.loads(data.read_text("utf-8"))
    assert written["settings"]["sentence"] == "the cat sat \ufffd on the mat"
    assert any("settings.sentence" in w and "U+FFFD" in w for w in written["warnings"])


def test_a_vector_file_whose_name_is_not_utf8_exports(tmp_path, vectors, out):
    renamed = tmp_path / "vectors\udcff.txt"
    vectors.rename(renamed)
    data = out / "a.json"
    warnings_of(run_main([*base_args(renamed), "--export-data", str(data)], tmp_path))
    assert "\ufffd" in json.loads(data.read_text("utf-8"))["settings"]["vectors_path"]


@pytest.mark.parametrize(("name", "says"), [
    ("missing/shot.png", "does not exist"),
    ("shot.txt", "use one of .png"),
])
def test_screenshot_paths_are_checked_up_front(tmp_path, vectors, out, name, says):
    message = error_of(run_main([*base_args(vectors), "--screenshot", str(out / name)], tmp_path))
    assert message.startswith("error: --screenshot") and says in message
    assert list(out.iterdir()) == []


# ------------------------------------------------------------------ clean stderr, finite files


def test_a_screenshot_leaves_stderr_empty(tmp_path, vectors, out):
    shot = out / "window.png"
    result = run_main([*base_args(vectors), "--screenshot", str(shot), "--size", "800x600"],
                      tmp_path)
    assert warnings_of(result) == []  # no "This plugin does not support propagateSizeHints()"
    assert shot.stat().st_size > 10_000


def test_numbers_that_overflow_are_refused_not_written_as_null(tmp_path, vectors, out):
    from core.files.session import save_session
    from core.settings import Settings

    heads = tmp_path / "huge_heads.npz"
    huge = np.full((DIM, DIM), 1e30)  # finite, but the scores overflow float32: inf, NaN
    np.savez(heads, w_q=huge, w_k=huge, w_v=huge, w_o=huge)
    session = tmp_path / "huge.aexp.json"  # a session carried a heads file before --heads-file
    save_session(session, Settings(n_heads=1, head_strategy="file", heads_file=str(heads)))
    result = run_main([*base_args(vectors), "--heads", "1", "--session", str(session),
                       "--export-data", str(out / "a.json"), "--export", str(out / "a.png")],
                      tmp_path)
    error_of(result)  # one line (NumPy's RuntimeWarnings not around it); it wrote nulls before
    # Refused as input (head weights are bounded) or as output (not finite): no file either way.
    assert list(out.iterdir()) == []


def test_export_data_refuses_nan_for_every_format(tmp_path):
    from dataclasses import replace

    from gensim.models import KeyedVectors

    from core.files.atomic import ExportError
    from core.files.export_data import export_data
    from core.pipeline import Pipeline
    from core.settings import Settings

    kv = KeyedVectors(DIM)
    kv.add_vectors(WORDS, np.random.default_rng(0).standard_normal((len(WORDS), DIM)))
    analysis = Pipeline(kv).run(Settings(sentence="the cat sat", query="cat", n_heads=2))
    weights = analysis.result.weights.copy()
    weights[1, 0, 2] = np.nan
    broken = replace(analysis, result=replace(analysis.result, weights=weights))
    for suffix in (".json", ".csv", ".npz"):
        with pytest.raises(ExportError, match=r"weights: 1 NaN, first at \[1, 0, 2\]"):
            export_data(broken, tmp_path / f"a{suffix}")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ heads


def test_more_heads_than_dimensions_is_an_error_naming_both(tmp_path, vectors, out):
    message = error_of(run_main([*base_args(vectors), "--heads", "64", "--export-data",
                                 str(out / "a.json")], tmp_path))
    assert "--heads 64" in message and f"at most {DIM} heads" in message
    assert list(out.iterdir()) == []


def test_a_screenshot_with_more_heads_than_dimensions_is_refused(tmp_path, vectors, out):
    shot = out / "window.png"
    message = error_of(run_main([*base_args(vectors), "--heads", "9", "--screenshot",
                                 str(shot)], tmp_path))  # it drew 6 heads, exit 0
    assert "--heads 9" in message and f"at most {DIM} heads" in message
    assert list(out.iterdir()) == []


def test_a_screenshot_of_a_bad_vector_file_exits_2(tmp_path, out):
    bad = tmp_path / "bad.txt"
    bad.write_text(f"2 {DIM}\ncat " + " ".join(["nan"] * DIM) + "\n")
    message = error_of(run_main(["--vectors", str(bad), "--screenshot", str(out / "w.png")],
                                tmp_path))  # exit status 1 before, unlike every other error
    assert "bad.txt" in message
    assert list(out.iterdir()) == []


def test_as_many_heads_as_dimensions_is_computed_as_asked(tmp_path, vectors, out):
    data = out / "a.json"
    warnings_of(run_main([*base_args(vectors), "--heads", str(DIM), "--export-data", str(data)],
                         tmp_path))
    written = json.loads(data.read_text("utf-8"))
    assert written["settings"]["n_heads"] == written["heads"]["n_heads"] == DIM


@pytest.mark.parametrize("option", [["--heads", "64"], ["--seed", "3"]])
def test_made_up_head_options_are_refused_with_a_model(tmp_path, out, option):
    tiny = str(ROOT / "tests" / "data" / "transformer" / "tiny-bert")
    message = error_of(run_main(["--model", tiny, "--sentence", "the cat sat", *option,
                                 "--export-data", str(out / "a.json")], tmp_path))
    assert f"{option[0]} is for word vectors" in message  # it was ignored: exit 0
    assert list(out.iterdir()) == []


def test_the_file_strategy_needs_its_file(tmp_path, vectors):
    message = error_of(run_main([*base_args(vectors), "--head-strategy", "file",
                                 "--export-data", "a.json"], tmp_path))
    assert "--head-strategy file needs --heads-file" in message


def test_a_data_exports_npz_is_a_heads_file(tmp_path, vectors, out):
    first, second = out / "first.npz", out / "second.json"
    warnings_of(run_main([*base_args(vectors), "--head-strategy", "random", "--seed", "5",
                          "--export-data", str(first)], tmp_path))
    warnings_of(run_main([*base_args(vectors), "--heads-file", str(first), "--export-data",
                          str(second)], tmp_path))
    written = json.loads(second.read_text("utf-8"))
    assert written["heads"]["strategy"] == "file" and written["heads"]["n_heads"] == 2
    with np.load(first, allow_pickle=False) as z:
        np.testing.assert_allclose(written["weights"], z["weights"], atol=1e-6)


# ------------------------------------------------------------------ a display


def test_no_display_is_one_line_saying_how_to_run_headless(tmp_path):
    result = run_main([], tmp_path, QT_QPA_PLATFORM="<unset>", DISPLAY="<unset>",
                      WAYLAND_DISPLAY="<unset>")
    message = error_of(result)  # Qt would abort: status 134 after its own message
    assert "needs a display" in message and "--export" in message and "--screenshot" in message


def test_check_display_passes_where_a_platform_is_chosen(tmp_path):
    result = run_main(["--check-display"], tmp_path)  # offscreen
    assert result.returncode == 0 and result.stderr == ""


# ------------------------------------------------------------------ what a vectors path is


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_folder_or_fifo_as_vectors_is_named_for_what_it_is(tmp_path, out, kind):
    path = tmp_path / "not_vectors"
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)  # opening it would block: the check must not
    message = error_of(run_main(["--vectors", str(path), "--export", str(out / "f.png")],
                                tmp_path))
    assert ("is a folder" if kind == "folder" else "FIFO") in message, message
    assert "no such file" not in message and not list(out.iterdir())


def test_a_sessions_missing_heads_file_names_the_session_and_the_field(tmp_path, vectors, out):
    from core.files.session import save_session
    from core.settings import Settings

    session = tmp_path / "talk.json"
    save_session(session, Settings(vectors_path=str(vectors), sentence="the cat sat",
                                   query="cat", n_heads=2, head_strategy="file",
                                   heads_file=str(tmp_path / "gone.npz")))
    message = error_of(run_main(["--session", str(session), "--export-data",
                                 str(out / "d.json")], tmp_path))
    assert "talk.json" in message and "heads_file" in message and "gone.npz" in message
    assert not list(out.iterdir())


def test_an_empty_vectors_file_is_said_like_every_other_bad_file(tmp_path, out):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    message = error_of(run_main(["--vectors", str(empty), "--export", str(out / "f.png")],
                                tmp_path))
    assert message.startswith("error: empty.txt: file is empty"), message  # no "--vectors:"
    assert not list(out.iterdir())
