"""The command line: options -> settings, headless figure and data export, one-line errors.

Most runs call ``main.main(argv)`` in-process on a small vector file written by gensim; three run
``python main.py`` for real to check the exit status and stderr a shell sees.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

import main
from core.files.export_data import load_json_weights
from core.files.session import SESSION_FORMAT, save_session
from core.pipeline import Pipeline
from core.settings import Settings
from explorer import cli

ROOT = Path(__file__).resolve().parents[1]
WORDS = "the animal was not swimming in sea because it running on street . cat sat mat".split()
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Never the person's settings or vector cache."""
    monkeypatch.setenv("ATTENTION_EXPLORER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return {"ATTENTION_EXPLORER_SETTINGS": str(tmp_path / "settings.ini"),
            "XDG_CACHE_HOME": str(tmp_path / "cache")}


@pytest.fixture
def vectors(tmp_path) -> Path:
    """A 6-dimensional word2vec text file (gensim's own writer)."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(6)
    kv.add_vectors(WORDS, np.random.default_rng(3).standard_normal((len(WORDS), 6)))
    path = tmp_path / "small.txt"
    kv.save_word2vec_format(str(path))
    return path


def fails(capsys, argv: list[str]) -> str:
    """Run main.main(argv), expect exit status 2 and exactly one "error: " line; return it."""
    with pytest.raises(SystemExit) as exit_info:
        main.main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


# ------------------------------------------------------------------------------ options


def test_every_option_maps_to_a_setting(vectors):
    args = main.build_parser().parse_args([
        "--vectors", str(vectors), "--format", "word2vec_text", "--sentence", "the cat sat",
        "--query", "cat", "--heads", "3", "--head-strategy", "split", "--seed", "7",
        "--scoring", "cosine", "--normalization", "sparsemax", "--temperature", "2",
        "--causal"])
    assert main.settings_from_args(args) == Settings(
        vectors_path=str(vectors), vectors_format="word2vec_text", sentence="the cat sat",
        query="cat", n_heads=3, head_strategy="split", seed=7, scoring="cosine",
        normalization="sparsemax", temperature=2.0, causal=True)
    assert main.settings_from_args(main.build_parser().parse_args([])) == Settings()


def test_the_cli_knows_the_cores_names():
    from core.files.export_data import DATA_SUFFIXES
    from core.vectors.text_files import VECTOR_FORMATS
    from explorer.export import FIGURE_SUFFIXES

    assert cli.VECTOR_FORMATS == VECTOR_FORMATS
    assert cli.FIGURE_SUFFIXES == FIGURE_SUFFIXES and cli.DATA_SUFFIXES == DATA_SUFFIXES


def test_help_names_every_key_the_window_listens_to():
    """The keys line of --help against the window's own key table (explorer/keyboard.py)."""
    from PySide6.QtCore import Qt

    from explorer import keyboard

    text = " ".join(cli.build_parser().format_help().split())
    names = {Qt.Key.Key_Left: "Left", Qt.Key.Key_Right: "Right", Qt.Key.Key_Up: "Up",
             Qt.Key.Key_Down: "Down", Qt.Key.Key_PageUp: "Page Up",
             Qt.Key.Key_PageDown: "Page Down"}
    assert set(keyboard.PAGES) <= set(names)
    for key in (*keyboard.PAGES, Qt.Key.Key_Up, Qt.Key.Key_Down):
        assert names[key] in text, names[key]
    assert "Page Up/Page Down the trained model's layers" in text


def test_a_session_then_the_options(tmp_path):
    session = tmp_path / "s.aexp.json"
    save_session(session, Settings(n_heads=2, query="sea", temperature=2.0, selected_head=1))
    args = main.build_parser().parse_args(["--session", str(session), "--heads", "1"])
    settings = cli.request_from_args(args).settings
    assert (settings.n_heads, settings.query, settings.temperature) == (1, "sea", 2.0)
    assert settings.selected_head is None  # head 2 no longer exists


@pytest.mark.parametrize(("argv", "says"), [
    (["--scoring", "nope"], "--scoring"),
    (["--heads", "0"], "--heads must be at least 1"),
    (["--heads", "two"], "invalid int value"),
    (["--temperature", "1000"], "--temperature must be between"),
    (["--temperature", "nan"], "--temperature"),
    (["--seed", "-1"], "--seed"),
    (["--size", "12"], "--size"),
    (["--bogus"], "unrecognized arguments"),
    (["--vectors", "/no/such/vectors.txt", "--export", "x.png"], "no such file"),
    (["--export", "figure.jpg"], "use one of .png, .svg, .pdf"),
    (["--export-data", "data.xlsx"], "use one of .json, .csv, .npz"),
    (["--export", "/no/such/folder/figure.png"], "does not exist"),
])
def test_bad_options_are_one_line(capsys, env, argv, says):
    assert says in fails(capsys, argv)


def test_bad_sessions_are_one_line(capsys, env, tmp_path):
    broken = tmp_path / "broken.aexp.json"
    broken.write_text('{"format": "attention-explorer-session", "version": 1, "settings": {')
    assert "not valid JSON" in fails(capsys, ["--session", str(broken), "--export", "x.png"])
    newer = tmp_path / "newer.aexp.json"
    newer.write_text(json.dumps({"format": SESSION_FORMAT, "version": 99, "settings": {}}))
    assert "newer" in fails(capsys, ["--session", str(newer), "--export-data", "x.json"])
    bad = tmp_path / "bad.aexp.json"
    bad.write_text(json.dumps({"format": SESSION_FORMAT, "version": 1,
                               "settings": {**Settings().to_dict(), "n_heads": 0}}))
    assert "n_heads" in fails(capsys, ["--session", str(bad)])


# ------------------------------------------------------------------------------ headless data


def test_export_data_json_and_csv_headless(capsys, env, vectors, tmp_path):
    argv = ["--vectors", str(vectors), "--sentence", "the cat sat on the mat", "--query",
            "animal", "--heads", "2", "--causal"]
    out_json, out_csv = tmp_path / "a.json", tmp_path / "a.csv"
    assert main.main([*argv, "--export-data", str(out_json)]) == 0
    assert main.main([*argv, "--export-data", str(out_csv)]) == 0
    assert capsys.readouterr().err == ""
    from core.vectors.load import load_vectors

    settings = main.settings_from_args(main.build_parser().parse_args(argv))
    expected = Pipeline(load_vectors(vectors, use_cache=False)).run(settings).weights
    np.testing.assert_allclose(load_json_weights(out_json), expected, rtol=0, atol=1e-12)
    assert json.loads(out_json.read_text())["settings"]["causal"] is True
    sums: dict[tuple[str, str], float] = defaultdict(float)
    with out_csv.open(newline="") as stream:
        for row in csv.DictReader(stream):
            sums[row["head"], row["query_index"]] += float(row["weight"])
    assert {head for head, _ in sums} == {"0", "1", "mean"}
    assert len(sums) == 3 * 7  # 3 blocks x (6 tokens + the outside query row)
    np.testing.assert_allclose(list(sums.values()), 1.0, atol=1e-9)


@pytest.mark.parametrize(("content", "says"), [
    (b"\x00\xff garbage \x13\x37\n" * 20, "bad.txt"),
    (b"", "bad.txt"),
])
def test_bad_vector_files_are_one_line(capsys, env, tmp_path, content, says):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert says in fails(capsys, ["--vectors", str(path), "--export-data",
                                  str(tmp_path / "x.json")])
    assert not (tmp_path / "x.json").exists()


def test_unknown_query_word_is_one_line(capsys, env, vectors, tmp_path):
    err = fails(capsys, ["--vectors", str(vectors), "--query", "qqqzzz", "--export",
                         str(tmp_path / "x.png")])
    assert "qqqzzz" in err and not (tmp_path / "x.png").exists()


# ------------------------------------------------------------------------------ headless figures


def test_export_png_headless_has_the_size_and_real_content(capsys, env, vectors, tmp_path):
    from PySide6.QtGui import QImage

    from explorer.figures import figure_caption

    out = tmp_path / "figure.png"
    assert main.main(["--vectors", str(vectors), "--query", "it", "--heads", "3",
                      "--export", str(out), "--size", "900x600"]) == 0
    assert capsys.readouterr().err == ""
    image = QImage(str(out))
    assert image.size().toTuple() == (900, 600)
    assert distinct_colours(image) > 300
    cells = viridis_indices(image)
    assert len(cells) > 5000 and len(np.unique(cells)) > 15  # heatmaps, not one flat colour
    from core.vectors.load import load_vectors

    settings = Settings(vectors_path=str(vectors), query="it", n_heads=3)
    caption = figure_caption(Pipeline(load_vectors(vectors, use_cache=False)).run(settings))
    assert image.text("Description") == caption and "3 heads" in caption


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_export_vector_figures_headless(capsys, env, vectors, tmp_path, suffix):
    out = tmp_path / f"figure{suffix}"
    assert main.main(["--vectors", str(vectors), "--export", str(out)]) == 0
    data = out.read_bytes()
    if suffix == ".pdf":
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    else:
        root = ET.fromstring(data)
        assert len(list(root.iter(f"{SVG}path"))) > 20
        texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
        assert "animal" in texts and "softmax" in texts  # tick labels and the caption


# ------------------------------------------------------------------------------ real processes


def run_main(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    qt = {"QT_QPA_PLATFORM": "offscreen", "PYQTGRAPH_QT_LIB": "PySide6"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT,
                          env={**os.environ, **qt, **env}, capture_output=True, text=True,
                          timeout=120)


def test_subprocess_export_succeeds(env, vectors, tmp_path):
    figure, data = tmp_path / "figure.png", tmp_path / "data.npz"
    result = run_main(["--vectors", str(vectors), "--export", str(figure), "--export-data",
                       str(data), "--size", "640x400"], env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""
    from PySide6.QtGui import QImage

    assert QImage(str(figure)).size().toTuple() == (640, 400)
    with np.load(data, allow_pickle=False) as arrays:
        assert arrays["weights"].shape[0] == 4


def test_subprocess_errors_are_one_line(env, vectors, tmp_path):
    for args, says in ((["--vectors", str(vectors), "--query", "qqqzzz", "--export",
                         str(tmp_path / "x.png")], "qqqzzz"),
                       (["--normalization", "max", "--export", "x.png"], "--normalization")):
        result = run_main(args, env)
        assert result.returncode == 2
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert says in result.stderr, result.stderr


# ------------------------------------------------------------------------------ helpers


def distinct_colours(image) -> int:  # noqa: ANN001
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint32, image.sizeInBytes() // 4)
    return len(np.unique(pixels))


def viridis_indices(image) -> np.ndarray:  # noqa: ANN001
    """For every pixel within a hair of a viridis colour, which of 256 colours it is."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rgb = raw.reshape(-1, 4)[:, 2::-1].astype(np.int16)  # BGRA -> RGB
    lut = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.int16)
    colours, counts = np.unique(rgb, axis=0, return_counts=True)
    distance = np.abs(colours[:, None, :] - lut[None, :, :]).sum(axis=2)  # (colours, 256)
    near = distance.min(axis=1) <= 6
    # grey and white are far from viridis; each near colour stands for all its pixels
    return np.repeat(distance.argmin(axis=1)[near], counts[near])



@pytest.mark.parametrize(("option", "first", "second"), [
    ("--export-data", "a.csv", "b.npz"),
    ("--export", "a.png", "b.svg"),
    ("--screenshot", "a.png", "b.png"),
])
def test_an_output_option_given_twice_is_refused(env, capsys, tmp_path, option, first, second):
    """argparse kept the last value: --export-data a.csv --export-data b.npz wrote only b.npz."""
    first, second = str(tmp_path / first), str(tmp_path / second)
    extra = ["--export-data", str(tmp_path / "x.json")] if option == "--export" else []
    error = fails(capsys, ["--fresh", option, first, option, second, *extra])
    assert f"{option} was given twice ({first}, then {second})" in error
    assert not [p for p in ("a.csv", "b.npz", "a.png", "b.svg", "b.png", "x.json")
                if (tmp_path / p).exists()]  # nothing written


def test_ablate_may_still_be_given_more_than_once(env, tmp_path):
    model = str(ROOT / "tests" / "data" / "transformer" / "tiny-bert")
    out = tmp_path / "ok.json"
    assert main.main(["--fresh", "--model", model, "--ablate", "1:1", "--ablate", "1:2",
                      "--export-data", str(out)]) == 0
    assert json.loads(out.read_text("utf-8"))["settings"]["model"]["ablated"] == [[0, 0], [0, 1]]


def test_a_data_export_as_heads_file_keeps_its_own_heads(env, capsys, vectors, tmp_path):
    """--heads-file d.npz --heads 2 (d.npz of 3 heads) silently regrouped the file's heads."""
    exported, again = tmp_path / "d.npz", tmp_path / "again.json"
    assert main.main(["--vectors", str(vectors), "--heads", "3", "--head-strategy", "random",
                      "--export-data", str(exported)]) == 0
    error = fails(capsys, ["--vectors", str(vectors), "--heads-file", str(exported),
                           "--heads", "2", "--export-data", str(again)])
    assert "--heads 2" in error and "3 heads" in error and not again.exists()
    # Without --heads (the default is 4): the file's 3 heads, the same weights as exported.
    assert main.main(["--vectors", str(vectors), "--heads-file", str(exported),
                      "--export-data", str(again)]) == 0
    data = json.loads(again.read_text("utf-8"))
    assert data["settings"]["n_heads"] == 3
    with np.load(exported, allow_pickle=False) as z:
        np.testing.assert_allclose(load_json_weights(again), z["weights"], atol=1e-6)
