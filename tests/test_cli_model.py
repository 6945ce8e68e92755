"""The command line with a trained model: --model, --layer, --head, --across, --ablate; data
with the layer axis, a figure of the chosen layer and head, one error line for what the model
lacks (exit status 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from core.transformer import load_model

ROOT = Path(__file__).resolve().parents[1]
TINY_BERT = str(ROOT / "tests" / "data" / "transformer" / "tiny-bert")
TINY_GPT2 = str(ROOT / "tests" / "data" / "transformer" / "tiny-gpt2")
TEXT = "The animal was not swimming in the sea because it was running"


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTENTION_EXPLORER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_json_carries_every_layer_and_the_chosen_one(env, tmp_path):
    out = tmp_path / "a.json"
    assert main.main(["--model", TINY_BERT, "--sentence", TEXT, "--query", "it", "--layer", "1",
                      "--head", "3", "--export-data", str(out)]) == 0
    data = json.loads(out.read_text("utf-8"))
    run = load_model(TINY_BERT).run(TEXT)
    np.testing.assert_allclose(data["attentions"], run.attentions, atol=1e-7)  # (L, H, n, n)
    assert data["model"]["tokens"] == run.tokens and data["model"]["layer"] == 0
    np.testing.assert_allclose(data["weights"], run.attentions[0], atol=1e-7)
    assert data["settings"]["selected_head"] == 2 and data["settings"]["n_heads"] == 4


def test_npz_adds_hidden_states_and_qkv_and_the_figure_draws_the_layer(env, tmp_path):
    data, figure = tmp_path / "g.npz", tmp_path / "g.png"
    assert main.main(["--model", TINY_GPT2, "--sentence", TEXT, "--ablate", "1:2",
                      "--export-data", str(data), "--export", str(figure)]) == 0
    with np.load(data, allow_pickle=False) as z:
        assert z["model_hidden_states"].shape[0] == 3 and z["model_queries"].shape[:2] == (2, 4)
        assert z["model_attentions"].shape[:2] == (2, 4)
    assert figure.stat().st_size > 10_000


@pytest.mark.parametrize(("args", "message"), [
    (["--model", TINY_BERT, "--layer", "3"], "--layer 3: tiny-bert has layers 1 to 2"),
    (["--model", TINY_BERT, "--head", "5"], "--head 5: tiny-bert has heads 1 to 4"),
    (["--model", TINY_BERT, "--head", "x"], "--head must be a number from 1, or 'mean'"),
    (["--model", TINY_BERT, "--ablate", "9:1"], "--ablate 9:1: tiny-bert has 2 layers x 4 heads"),
    (["--model", TINY_BERT, "--ablate", "one"], "--ablate wants LAYER:HEAD"),
    (["--layer", "2"], "--layer needs --model"),
    (["--model", "/no/such/folder"], "--model /no/such/folder: does not exist"),
    # Empty or blank: said as such, whether the tokenizer gives no tokens (GPT-2) or only
    # [CLS] and [SEP] (BERT), not a computation over the special tokens.
    (["--model", TINY_GPT2, "--sentence", ""], "The sentence is empty: type a sentence"),
    (["--model", TINY_BERT, "--sentence", ""], "The sentence is empty: type a sentence"),
    (["--model", TINY_BERT, "--sentence", "   "], "The sentence is empty: type a sentence"),
])
def test_what_the_model_lacks_is_one_error_line_and_status_2(env, tmp_path, args, message):
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), *args, "--export-data",
                             str(tmp_path / "x.json")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "x.json").exists()


def test_the_bundled_model_from_the_command_line(env, tmp_path):
    out = tmp_path / "m.json"
    assert main.main(["--model", "minilm", "--layer", "6", "--head", "12", "--query", "it",
                      "--export-data", str(out)]) == 0
    data = json.loads(out.read_text("utf-8"))
    it, animal = data["model"]["tokens"].index("it"), data["model"]["tokens"].index("animal")
    assert abs(data["weights"][11][it][animal] - 0.678) < 0.01


def test_across_rollout_makes_the_figure_the_rollout_view(env, tmp_path):
    plain, rollout = tmp_path / "plain.png", tmp_path / "rollout.png"
    assert main.main(["--model", TINY_BERT, "--sentence", TEXT, "--export", str(plain)]) == 0
    assert main.main(["--model", TINY_BERT, "--sentence", TEXT, "--across", "rollout",
                      "--export", str(rollout)]) == 0
    assert rollout.stat().st_size > 5000 and rollout.read_bytes() != plain.read_bytes()


@pytest.mark.parametrize(("method", "layer", "named"), [
    ("rollout", "1", "Attention rollout, layer 1 ("),
    ("flow", "2", "Attention flow, layers 1-2 ("),
])
def test_across_figure_caption_names_the_method_and_layers_not_one_head(env, tmp_path, method,
                                                                         layer, named):
    """The caption said "layer 6, mean of heads" under a rollout, which takes every head of
    every layer, and the title read "layers 1-1" for layer 1."""
    from PySide6.QtGui import QImage

    out = tmp_path / "across.png"
    assert main.main(["--model", TINY_BERT, "--sentence", TEXT, "--query", "it", "--across",
                      method, "--layer", layer, "--export", str(out)]) == 0
    caption = QImage(str(out)).text("Description")
    assert caption.startswith("tiny-bert") and named in caption, caption
    assert "mean of heads" not in caption and "layers 1-1" not in caption
    assert caption.endswith("query 'it'")


def test_model_csv_says_which_layer_it_holds(env, tmp_path):
    """The CSV of a trained model had no layer column: nothing said which layer it was of."""
    import csv

    out = tmp_path / "w.csv"
    assert main.main(["--model", TINY_BERT, "--sentence", TEXT, "--query", "it", "--layer", "2",
                      "--export-data", str(out)]) == 0
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["layer", "head", "query_index", "query", "key_index", "key",
                             "weight"]
    assert {row["layer"] for row in rows} == {"1"}  # --layer 2, from 0 as in the JSON
    run = load_model(TINY_BERT).run(TEXT)
    it = run.tokens.index("it")
    head2 = [float(r["weight"]) for r in rows if r["head"] == "1" and r["query"] == "it"]
    np.testing.assert_allclose(head2, run.attentions[1, 1, it], atol=1e-6)


@pytest.mark.parametrize("args", [[], ["--across", "rollout"]])
def test_a_figure_of_a_text_longer_than_the_window_runs_at_once(env, tmp_path, args):
    """Over 64 tokens the window runs the model on a thread; the headless figure did not wait:
    "error: the views could not be drawn: Running 74 tokens through ...", exit status 2."""
    from PySide6.QtGui import QImage

    from explorer.controller import SYNC_TOKENS

    long_text = " ".join([TEXT] * 6)  # 74 tokens (tiny-bert takes at most 64: the real model)
    out = tmp_path / "long.png"
    assert main.main(["--model", "minilm", "--sentence", long_text, "--query", "it", *args,
                      "--export", str(out), "--export-data", str(tmp_path / "long.json"),
                      "--size", "900x600"]) == 0
    assert len(json.loads((tmp_path / "long.json").read_text("utf-8"))["model"]["tokens"]) \
        > SYNC_TOKENS
    image = QImage(str(out))
    assert (image.width(), image.height()) == (900, 600)
    assert image.text("Description").startswith("all-MiniLM-L6-v2")
