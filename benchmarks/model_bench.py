"""The trained transformer: forward speed against transformers, opening time, memory.

``model_forward_ms.n{n}``: `TransformerModel.run` on the bundled all-MiniLM-L6-v2 at exactly n
tokens (special tokens included): tokenise, every layer, every attention and hidden state kept,
float32, one BLAS thread. ``model_vs_torch.n{n}``: ours / transformers' eager forward with
``output_attentions=True, output_hidden_states=True`` on one torch thread, timed in alternating
pairs in this process. transformers and torch are no dependency of the project: the ratio is
measured when they are importable (a scratch venv with the project, ``torch==2.13.0`` and
``transformers``), and named as not measured otherwise; ``benchmarks/torch_forward.py`` times
torch alone in such a venv.

``model_open_s.cached``: a fresh process imports the engine and opens the extracted model.
``model_open_s.first``: the same with an empty cache (extraction and the checksum included).
``rss_mb.model_extra``: a fresh process opens the default GloVe vectors, runs static attention,
reads VmRSS, then opens the model and runs a 128-token text: the difference (the model reuses
memory the static run freed). ``rss_mb.model_alone``: the same model and run in a process that
imported only NumPy and the tokenizer first: what the model costs on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.timing import Config, Result, Target, paired_ratios, repeat, wanted
from benchmarks.window_bench import ROOT

SIZES = (16, 64, 128, 512)
TORCH_TARGET = Target("<=", 1.3, "<= 1.3x torch")
TEXT = "The animal was not swimming in the sea because it was running on the street. " * 80


def _torch_forward(folder: str) -> Callable[[int], Callable[[], Any]] | None:
    """A maker of timed torch calls at n tokens, or None when torch/transformers are missing."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        return None
    torch.set_num_threads(1)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()

    def at(n: int) -> Callable[[], Any]:
        ids = torch.arange(1000, 1000 + n).unsqueeze(0)  # (1, n); the ids do not change the cost

        def call() -> Any:
            with torch.inference_mode():
                return model(input_ids=ids, output_attentions=True, output_hidden_states=True)
        return call
    return at


def _forward_results(cfg: Config, only: Sequence[str]) -> list[Result]:
    from core.transformer import load_model

    model = load_model()
    sizes = (16,) if cfg.tiny else SIZES
    runs = cfg.repeats(15, 5)
    torch_at = _torch_forward(str(model.folder)) if cfg.use_torch and not cfg.tiny else None
    results = []
    for n in sizes:
        def ours(n: int = n) -> Any:
            return model.run(TEXT, max_length=n)
        assert len(ours().tokens) == n
        if torch_at is None:
            results.append(Result(f"model_forward_ms.n{n}", repeat(ours, runs, scale=1e3),
                                  unit="ms"))
            results.append(Result(f"model_vs_torch.n{n}", [], TORCH_TARGET, unit="x",
                                  note="torch/transformers not importable: not measured"))
            continue
        ours_t, torch_t, ratios = paired_ratios(ours, torch_at(n), runs, 1e3)
        results += [Result(f"model_forward_ms.n{n}", ours_t, unit="ms"),
                    Result(f"model_torch_ms.n{n}", torch_t, unit="ms",
                           note="transformers eager, one torch thread"),
                    Result(f"model_vs_torch.n{n}", ratios, TORCH_TARGET, unit="x",
                           note="ours / torch, interleaved pairs")]
    return results


_OPEN_CHILD = """
import json, sys, time
t = time.perf_counter()
from core.transformer import load_model
model = load_model(cache_dir=sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t}))
"""

_MEMORY_CHILD = f"""
import json
from benchmarks.timing import rss_mb
from core.vectors.load import load_default_vectors
from core.pipeline import Pipeline
from core.settings import Settings
Pipeline(load_default_vectors()).run(Settings())
static = rss_mb()
from core.transformer import load_model
model = load_model()  # kept alive while VmRSS is read
run = model.run({TEXT!r}, max_length=128)
print(json.dumps({{"static": static, "model": rss_mb()}}))
"""

_ALONE_CHILD = f"""
import json
import numpy, tokenizers
from benchmarks.timing import rss_mb
before = rss_mb()
from core.transformer import load_model
model = load_model()  # kept alive while VmRSS is read
run = model.run({TEXT!r}, max_length=128)
print(json.dumps({{"before": before, "model": rss_mb()}}))
"""


def _child(code: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(cfg: Config, only: Sequence[str]) -> list[Result]:
    results = _forward_results(cfg, only) if wanted(only, "model_forward_ms", "model_vs_torch",
                                                    "model_torch_ms") else []
    if wanted(only, "model_open_s"):
        from core.vectors.cache import default_cache_dir

        cached = [_child(_OPEN_CHILD, default_cache_dir())["seconds"]
                  for _ in range(cfg.repeats(5, 3))]
        results.append(Result("model_open_s.cached", cached, Target("<=", 0.3), unit="s"))
        first = []
        for _ in range(cfg.repeats(3, 1)):
            with tempfile.TemporaryDirectory() as empty:
                first.append(_child(_OPEN_CHILD, empty)["seconds"])
        results.append(Result("model_open_s.first", first, Target("<=", 2.0), unit="s",
                              note="extraction and sha256 included"))
    if wanted(only, "rss_mb.model_extra", "rss_mb.model_alone"):
        extra, alone = [], []
        for _ in range(cfg.repeats(3, 1)):
            child = _child(_MEMORY_CHILD)
            extra.append(child["model"] - child["static"])
            child = _child(_ALONE_CHILD)
            alone.append(child["model"] - child["before"])
        results.append(Result("rss_mb.model_extra", extra, Target("<=", 150), unit="MB",
                              note="model + a 128-token run, over static mode"))
        results.append(Result("rss_mb.model_alone", alone, unit="MB",
                              note="model + a 128-token run, in a bare process"))
    return results
